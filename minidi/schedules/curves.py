"""Learning-rate schedules: plain objects that map training time to a learning rate.

Time t is measured in epochs and may be fractional: t = epoch + i / iterations_per_epoch at iteration i.
Epoch-wise schedules (`per_iteration = False`) are read once at the start of each epoch (t = epoch);
per-iteration ones (1-cycle) are read before every step. A schedule may also set the momentum
(`momentum(t)` returns None when it does not). The text form of the command line ("0:0.01,30:0.001",
"multistep:lr=0.1,at=0.5/0.75", ...) is parsed into these objects by `minidi.schedules.text`.
"""
import math

from ..errors import MinidiError, check_number


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
