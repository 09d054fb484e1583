"""Learning-rate schedules: plain objects that map training time to a learning rate.

Time t is measured in epochs and may be fractional: t = epoch + i / iterations_per_epoch at iteration i.
Epoch-wise schedules (`per_iteration = False`) are read once at the start of each epoch (t = epoch);
per-iteration ones (1-cycle) are read before every step. A schedule may also set the momentum
(`momentum(t)` returns None when it does not).

Text form, for the CLI (`parse_schedule`):
  "0.01"                              constant
  "0:0.01,30:0.001,60:0.0001"         epoch table: the LR from each listed epoch on (the studies' format)
  "multistep:lr=0.1,at=0.5/0.75,gamma=0.1"   ×gamma at each milestone (fractions of the run, or epochs if ≥ 1)
  "cosine:lr=0.1,min=0,warmup=5"      cosine from lr to min over the run, after an optional linear warm-up
  "onecycle:max=0.1,div=100,final_div=1e4,pct=0.1"   per-iteration 1-cycle, momentum 0.95→0.85→0.95
"""
import math

from .errors import MinidiError, check_number, warn


class Schedule:
    per_iteration = False

    def __call__(self, t):
        raise NotImplementedError

    def momentum(self, t):
        return None


class Constant(Schedule):
    def __init__(self, lr):
        self.lr = lr

    def __call__(self, t):
        return self.lr

    def __repr__(self):
        return f"{self.lr:g}"


class EpochTable(Schedule):
    """η(t) = the value of the last table entry whose epoch ≤ floor(t). The first entry must be epoch 0."""

    def __init__(self, table):
        self.table = sorted((int(e), float(lr)) for e, lr in table.items()) if isinstance(table, dict) else \
            sorted((int(e), float(lr)) for e, lr in table)
        if not self.table or self.table[0][0] != 0:
            raise MinidiError("an epoch table must start at epoch 0, e.g. \"0:0.01,30:0.001\"")

    def __call__(self, t):
        lr = self.table[0][1]
        for epoch, value in self.table:
            if epoch <= math.floor(t + 1e-9):
                lr = value
        return lr

    def __repr__(self):
        return ",".join(f"{e}:{lr:g}" for e, lr in self.table)


class MultiStep(Schedule):
    """η(t) = lr · gamma^(number of milestones ≤ floor(t)); milestones are epochs ≥ 0."""

    def __init__(self, lr, milestones, gamma=0.1):
        check_number(lr, "multistep lr", low=0)
        check_number(gamma, "multistep gamma", low=0, low_open=True)
        for m in milestones:
            check_number(m, "multistep milestone", low=0, integer=True)
        self.lr, self.milestones, self.gamma = lr, sorted(int(m) for m in milestones), gamma

    def __call__(self, t):
        return self.lr * self.gamma ** sum(m <= math.floor(t + 1e-9) for m in self.milestones)


class Cosine(Schedule):
    """Linear warm-up from 0 over `warmup` epochs, then η(t) = min + (lr − min)(1 + cos(π·s))/2, s ∈ [0, 1]."""

    def __init__(self, lr, total, min_lr=0.0, warmup=0):
        check_number(lr, "cosine lr", low=0)
        check_number(min_lr, "cosine min", low=0)
        check_number(total, "cosine: the run's length", low=1, integer=True)
        check_number(warmup, "cosine warmup", low=0, integer=True)
        if warmup >= total:
            raise MinidiError(f"cosine: a warm-up of {warmup} epochs is not shorter than the run ({total} epochs)")
        self.lr, self.total, self.min_lr, self.warmup = lr, total, min_lr, warmup

    def __call__(self, t):
        t = math.floor(t + 1e-9)
        if t < self.warmup:
            return self.lr * (t + 1) / (self.warmup + 1)
        s = (t - self.warmup) / max(1, self.total - self.warmup)
        return self.min_lr + (self.lr - self.min_lr) * (1 + math.cos(math.pi * min(s, 1.0))) / 2


class OneCycle(Schedule):
    """1-cycle, per iteration: cosine from max/div up to max over the first `pct` of training, then cosine
    down to max/final_div; momentum moves the opposite way, hi → lo → hi."""

    per_iteration = True

    def __init__(self, max_lr, total, div=100.0, final_div=1e4, pct=0.1, momentum=(0.85, 0.95)):
        check_number(max_lr, "onecycle max", low=0, low_open=True)
        check_number(total, "onecycle: the run's length", low=0, low_open=True)
        check_number(div, "onecycle div", low=0, low_open=True)
        check_number(final_div, "onecycle final_div", low=0, low_open=True)
        check_number(pct, "onecycle pct", low=0, high=1, low_open=True, high_open=True)
        for m in momentum:
            check_number(m, "onecycle momentum", low=0, high=1, high_open=True)
        self.max_lr, self.total, self.div, self.final_div, self.pct = max_lr, total, div, final_div, pct
        self.mom_lo, self.mom_hi = momentum

    @staticmethod
    def _cos(start, end, s):
        return end + (start - end) * (1 + math.cos(math.pi * s)) / 2

    def _phase(self, t):
        s = min(max(t / self.total, 0.0), 1.0)
        if s < self.pct:
            return True, s / self.pct
        return False, (s - self.pct) / (1 - self.pct)

    def __call__(self, t):
        up, s = self._phase(t)
        if up:
            return self._cos(self.max_lr / self.div, self.max_lr, s)
        return self._cos(self.max_lr, self.max_lr / self.final_div, s)

    def momentum(self, t):
        up, s = self._phase(t)
        return self._cos(self.mom_hi, self.mom_lo, s) if up else self._cos(self.mom_lo, self.mom_hi, s)


# --- retraining after pruning (Le & Hua 2021; ../shared/research/retraining.md) ------------------------------
RETRAINING = ("ft", "lrw", "wr", "slr", "clr")


def dense_step(e, dense_epochs, eta_max=0.1):
    """The dense recipe: η_max, ×0.1 at round(E/2), ×0.01 at round(3E/4) (epoch e, counted from 0)."""
    return eta_max / (1, 10, 100)[(e >= round(dense_epochs * 0.5)) + (e >= round(dense_epochs * 0.75))]


class Rewound(Schedule):
    """LRW (and WR): replay the last T epochs of the dense schedule, η(t) = η_dense(E − T + t)."""

    def __init__(self, dense_epochs, budget, eta_max=0.1):
        self.E, self.T, self.eta_max = dense_epochs, budget, eta_max

    def __call__(self, t):
        return dense_step(self.E - self.T + math.floor(t + 1e-9), self.E, self.eta_max)


class ScaledRestart(Schedule):
    """SLR, per iteration: a half-cosine warm-up over t_w = T/10, η = η_min + (η_max − η_min)(1 − cos(π t/t_w))/2,
    then the dense step schedule compressed into [t_w, T): η_max until half of it, η_max/10 until 3/4, then η_max/100."""

    per_iteration = True

    def __init__(self, budget, eta_max=0.1, eta_min=0.001):
        self.T, self.eta_max, self.eta_min, self.t_w = budget, eta_max, eta_min, 0.1 * budget

    def __call__(self, t):
        if t < self.t_w:
            return self.eta_min + (self.eta_max - self.eta_min) * (1 - math.cos(math.pi * t / self.t_w)) / 2
        u = (t - self.t_w) / (self.T - self.t_w)
        return self.eta_max / (1 if u < 0.5 else 10 if u < 0.75 else 100)


def retraining_schedule(kind, dense_epochs, budget, eta_max=0.1, eta_min=0.001):
    """The Schedule of a retraining kind over a budget of T = `budget` epochs after E = `dense_epochs`:
    ft: constant η_min; lrw, wr: `Rewound` (WR also resets the weights: the study does that); slr:
    `ScaledRestart`; clr: 1-cycle per iteration from η_max/100 up to η_max (first 10%) and down to η_max/10⁴,
    momentum 0.95 → 0.85 → 0.95 (`OneCycle`)."""
    if kind not in RETRAINING:
        raise MinidiError(f"unknown retraining schedule {kind!r}: choose one of {', '.join(RETRAINING)}")
    dense_epochs = check_number(dense_epochs, "dense epochs", low=1, integer=True)
    budget = check_number(budget, "budget", low=1, integer=True)
    if budget > dense_epochs:
        raise MinidiError(f"budget {budget} is longer than the dense run ({dense_epochs} epochs): LRW and WR replay "
                          "the last T dense epochs, so T must be at most E")
    eta_max = check_number(eta_max, "eta_max", low=0, low_open=True)
    eta_min = check_number(eta_min, "eta_min", low=0, low_open=True)
    if kind == "ft":
        return Constant(eta_min)
    if kind in ("lrw", "wr"):
        return Rewound(dense_epochs, budget, eta_max)
    if kind == "slr":
        return ScaledRestart(budget, eta_max, eta_min)
    return OneCycle(eta_max, budget, div=100.0, final_div=1e4, pct=0.1, momentum=(0.85, 0.95))


def _options(text, kind, allowed):
    out = {}
    for item in filter(None, text.split(",")):
        if "=" not in item:
            raise MinidiError(f"schedule {kind!r}: expected key=value, got {item!r}")
        key, value = item.split("=", 1)
        if key.strip() not in allowed:
            raise MinidiError(f"schedule {kind!r}: unknown option {key.strip()!r} (allowed: {', '.join(allowed)})")
        out[key.strip()] = value.strip()
    return out


def _number(text, what):
    try:
        value = float(text)
    except ValueError:
        raise MinidiError(f"malformed schedule: {what} {text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise MinidiError(f"malformed schedule: {what} {text!r} must be a finite number ≥ 0")
    return value


def _milestones(text, epochs):
    """multistep's `at`: fractions of the run (0 < a < 1, rounded to epochs) or whole epochs 1..epochs−1."""
    out = []
    for a in text.split("/"):
        value = _number(a, "milestone")
        if value < 1:
            if value == 0:
                raise MinidiError(f"multistep: milestone {a!r} must be a fraction in (0, 1) or an epoch ≥ 1")
            epoch = round(value * epochs)
            if not 1 <= epoch < epochs:
                warn(f"multistep: milestone {a} of a {epochs}-epoch run is epoch {epoch}, "
                     + ("so the LR is decayed from the start" if epoch < 1 else "after the run: it never takes effect"))
        else:
            if value != int(value):
                raise MinidiError(f"multistep: milestone {a!r} is neither a fraction in (0, 1) nor a whole epoch")
            epoch = int(value)
            if epoch >= epochs:
                raise MinidiError(f"multistep: milestone {epoch} lies outside the run (epochs 1..{epochs - 1})")
        if epoch in out:
            if value >= 1:
                raise MinidiError(f"multistep: milestones {text!r} name epoch {epoch} twice")
            warn(f"multistep: two milestones of {text!r} round to epoch {epoch}, so the LR drops by gamma² there")
        out.append(epoch)
    return out


def _integer(text, what):
    value = _number(text, what)
    if value != int(value):
        raise MinidiError(f"malformed schedule: {what} {text!r} must be a whole number of epochs")
    return int(value)


def parse_schedule(text, epochs):
    """A Schedule from its text form (see the module docstring); `epochs` is the run's length.

    Values that cannot work are a MinidiError naming the option (a milestone or warm-up outside the run,
    pct outside (0, 1), a divisor of 0, ...); legal values that are surely a mistake emit a MinidiWarning
    (table entries past the run, an LR of 0 throughout, a milestone that rounds onto the run's edge).
    """
    epochs = check_number(epochs, "epochs", low=1, integer=True)
    text = str(text).strip().replace(" ", "")
    if not text:
        raise MinidiError("malformed schedule: empty")
    kind, _, rest = text.partition(":")
    if kind == "multistep":
        o = _options(rest, kind, ("lr", "at", "gamma"))
        schedule = MultiStep(_number(o.get("lr", "0.1"), "lr"), _milestones(o.get("at", "0.5/0.75"), epochs),
                             _number(o.get("gamma", "0.1"), "gamma"))
        if schedule.gamma > 1:
            warn(f"multistep: gamma {schedule.gamma:g} > 1 makes the LR grow at each milestone")
    elif kind == "cosine":
        o = _options(rest, kind, ("lr", "min", "warmup"))
        schedule = Cosine(_number(o.get("lr", "0.1"), "lr"), epochs, _number(o.get("min", "0"), "min"),
                          _integer(o.get("warmup", "0"), "warmup"))
        if schedule.min_lr > schedule.lr:
            warn(f"cosine: min {schedule.min_lr:g} is above lr {schedule.lr:g}, so the LR rises over the run")
    elif kind == "onecycle":
        o = _options(rest, kind, ("max", "div", "final_div", "pct"))
        schedule = OneCycle(_number(o.get("max", "0.1"), "max"), epochs, _number(o.get("div", "100"), "div"),
                            _number(o.get("final_div", "1e4"), "final_div"), _number(o.get("pct", "0.1"), "pct"))
    elif ":" not in text:
        schedule = Constant(_number(text, "learning rate"))
    else:
        schedule = EpochTable(_table(text))
        late = [e for e, _ in schedule.table if e >= epochs]
        if late:
            warn(f"schedule entries at epoch{'s' if len(late) > 1 else ''} {', '.join(map(str, late))} lie beyond "
                 f"the run's {epochs} epochs and are never used")
    if all(schedule(t) == 0 for t in range(epochs)):
        warn("the learning rate is 0 for the whole run: the weights will not change")
    return schedule


def _table(text):
    table = {}
    for item in text.split(","):
        epoch, sep, lr = item.partition(":")
        if not sep or not epoch.isdigit():
            raise MinidiError(f"malformed schedule {text!r}: expected entries like \"30:0.001\", got {item!r}")
        if int(epoch) in table:
            raise MinidiError(f"malformed schedule {text!r}: epoch {epoch} appears twice")
        table[int(epoch)] = _number(lr, "learning rate")
    return table
