"""The text form of a learning-rate schedule, for the command line and the studies' configurations:

  "0.01"                              constant
  "0:0.01,30:0.001,60:0.0001"         epoch table: the LR from each listed epoch on (the studies' format)
  "multistep:lr=0.1,at=0.5/0.75,gamma=0.1"   ×gamma at each milestone (fractions of the run, or epochs if ≥ 1)
  "cosine:lr=0.1,min=0,warmup=5"      cosine from lr to min over the run, after an optional linear warm-up
  "onecycle:max=0.1,div=100,final_div=1e4,pct=0.1"   per-iteration 1-cycle, momentum 0.95→0.85→0.95

`parse_schedule(text, epochs)` returns the `minidi.schedules` object; every value is checked against the run.
"""
import math

from ..errors import MinidiError, check_number, warn
from .curves import Constant, Cosine, EpochTable, MultiStep, OneCycle


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
