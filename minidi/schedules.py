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

from .errors import MinidiError


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
    """η(t) = lr · gamma^(number of milestones ≤ floor(t))."""

    def __init__(self, lr, milestones, gamma=0.1):
        self.lr, self.milestones, self.gamma = lr, sorted(milestones), gamma

    def __call__(self, t):
        return self.lr * self.gamma ** sum(m <= math.floor(t + 1e-9) for m in self.milestones)


class Cosine(Schedule):
    """Linear warm-up from 0 over `warmup` epochs, then η(t) = min + (lr − min)(1 + cos(π·s))/2, s ∈ [0, 1]."""

    def __init__(self, lr, total, min_lr=0.0, warmup=0):
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


def parse_schedule(text, epochs):
    """A Schedule from its text form (see the module docstring); `epochs` is the run's length."""
    text = str(text).strip().replace(" ", "")
    if not text:
        raise MinidiError("malformed schedule: empty")
    kind, _, rest = text.partition(":")
    if kind == "multistep":
        o = _options(rest, kind, ("lr", "at", "gamma"))
        at = [_number(a, "milestone") for a in o.get("at", "0.5/0.75").split("/")]
        milestones = [round(a * epochs) if a < 1 else int(a) for a in at]
        return MultiStep(_number(o.get("lr", "0.1"), "lr"), milestones, _number(o.get("gamma", "0.1"), "gamma"))
    if kind == "cosine":
        o = _options(rest, kind, ("lr", "min", "warmup"))
        return Cosine(_number(o.get("lr", "0.1"), "lr"), epochs, _number(o.get("min", "0"), "min"),
                      int(_number(o.get("warmup", "0"), "warmup")))
    if kind == "onecycle":
        o = _options(rest, kind, ("max", "div", "final_div", "pct"))
        return OneCycle(_number(o.get("max", "0.1"), "max"), epochs, _number(o.get("div", "100"), "div"),
                        _number(o.get("final_div", "1e4"), "final_div"), _number(o.get("pct", "0.1"), "pct"))
    if ":" not in text:
        return Constant(_number(text, "learning rate"))
    table = {}
    for item in text.split(","):
        epoch, sep, lr = item.partition(":")
        if not sep or not epoch.isdigit():
            raise MinidiError(f"malformed schedule {text!r}: expected entries like \"30:0.001\", got {item!r}")
        if int(epoch) in table:
            raise MinidiError(f"malformed schedule {text!r}: epoch {epoch} appears twice")
        table[int(epoch)] = _number(lr, "learning rate")
    return EpochTable(table)
