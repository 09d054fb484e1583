"""Effects with their uncertainty over replicates, and the three-way verdict every claim line ends with.

A claim compares arms run on the same replicates (replicate s: the same pretraining, init and data orders), so
its effect is the mean of the **paired differences** d_s = a_s − b_s, and its uncertainty a 95 % **Student t**
interval:
    d̄ ± t_{0.975, n−1} · s_d / √n          (n replicates, s_d the sample std of the d_s).
Student t because n is small (3 by default) and a difference of two accuracies averages many test images, so it
is close to normal; a bootstrap from 3 values would only resample those 3 and understate the spread. One
replicate has no spread: its interval is unbounded and every comparative claim on it is **undecided**.

The verdict of a claimed relation against a boundary b (0, or a stated practical margin):
    "A > B"   (`greater`)          held: low > b;         not held: high ≤ b;          else undecided
    "A ≥ B"   (`at_least`, m)      held: low > −m;        not held: high < −m;         else undecided
    "A ≈ B"   (`equivalent`, m)    held: [low, high] ⊂ (−m, m) (both one-sided tests at 2.5 %: TOST);
                                   not held: the interval lies wholly outside (low ≥ m or high ≤ −m); else undecided
An undecided line says how many replicates the interval would need, at the observed spread and effect, to lie on
one side of the boundary. What is true by construction is a **check** of the code, not a finding (`check`).
"""
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as st

from ..errors import MinidiError

HELD, NOT_HELD, UNDECIDED = "held", "not held", "undecided"
LEVEL = 0.95
MAX_REPLICATES = 10_000
PASSED, FAILED = "passed", "failed"


@dataclass
class Effect:
    """The mean paired difference (or mean value) over n replicates, its 95 % t interval and sample std."""
    mean: float
    low: float
    high: float
    n: int
    sd: float

    def half_width(self, n=None):
        n = self.n if n is None else n
        if n < 2 or not math.isfinite(self.sd):
            return math.inf
        return st.t.ppf(0.5 + LEVEL / 2, n - 1) * self.sd / math.sqrt(n)


def effect(values):
    """The Effect of a list of per-replicate values (a NaN among them makes the effect NaN, hence undecided)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        raise MinidiError("an effect needs at least one replicate")
    mean = float(v.mean())
    sd = float(v.std(ddof=1)) if v.size > 1 else math.inf
    e = Effect(mean, -math.inf, math.inf, int(v.size), sd)
    h = e.half_width()
    if math.isfinite(h) and math.isfinite(mean):
        e.low, e.high = mean - h, mean + h
    elif not math.isfinite(mean):
        e.low = e.high = math.nan
    return e


def paired(a, b):
    """The Effect of a − b over replicates that share their index (the same pretraining, init and data orders)."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise MinidiError(f"paired differences need the same replicates on both sides, got {a.size} and {b.size}")
    return effect(a - b)


def greater(e, boundary=0.0):
    """Verdict of "the effect is above `boundary`"."""
    if math.isnan(e.low) or math.isnan(e.high):
        return UNDECIDED
    if e.low > boundary:
        return HELD
    if e.high <= boundary:
        return NOT_HELD
    return UNDECIDED


def at_least(e, margin=0.0):
    """Verdict of "A ≥ B" within a practical margin: the effect is above −margin."""
    if math.isnan(e.low) or math.isnan(e.high):
        return UNDECIDED
    if e.low > -margin:
        return HELD
    if e.high < -margin:
        return NOT_HELD
    return UNDECIDED


def equivalent(e, margin):
    """Verdict of "A ≈ B" within ±margin (two one-sided tests)."""
    if math.isnan(e.low) or math.isnan(e.high):
        return UNDECIDED
    if -margin < e.low and e.high < margin:
        return HELD
    if e.low >= margin or e.high <= -margin:
        return NOT_HELD
    return UNDECIDED


def replicates_needed(e, boundary=0.0):
    """How many replicates would put the interval wholly on one side of `boundary`, at the observed mean and
    spread (None when no number would: the mean sits on the boundary, or one replicate gives no spread)."""
    gap = abs(e.mean - boundary)
    if e.n < 2 or not math.isfinite(e.sd) or gap == 0 or not math.isfinite(gap):
        return None
    for n in range(2, MAX_REPLICATES + 1):
        if e.half_width(n) < gap:
            return n
    return None


def combine(verdicts):
    """The verdict of a claim made of parts: held if every part is, not held if one is not, else undecided."""
    verdicts = list(verdicts)
    if NOT_HELD in verdicts:
        return NOT_HELD
    if verdicts and all(v == HELD for v in verdicts):
        return HELD
    return UNDECIDED


def bold(verdict):
    return f"**{verdict}**"


def fmt(e, scale=1.0, unit="", digits=2):
    """'+1.16 pts [+1.05, +1.27], 3 replicates' (scale 100, unit ' pts'); an unbounded interval says so."""
    def num(x):
        return f"{x * scale:+.{digits}f}" if math.isfinite(x) else ("−∞" if x < 0 else "+∞")
    interval = f"[{num(e.low)}, {num(e.high)}]" if math.isfinite(e.low) else "[no interval: one replicate]" \
        if e.n < 2 else "[—]"
    return f"{num(e.mean)}{unit} {interval}, {e.n} replicate{'s' if e.n != 1 else ''}"


def judged(e, verdict, boundary=0.0, scale=1.0, unit="", digits=2):
    """The effect, its interval, n and the verdict, and for an undecided one the replicates it would need."""
    text = f"{fmt(e, scale, unit, digits)}: {bold(verdict)}"
    if verdict == UNDECIDED:
        text += f" ({why_undecided(e, boundary)})"
    return text


def why_undecided(e, boundary=0.0):
    """What would decide an undecided effect."""
    if not math.isfinite(e.mean):
        return "a replicate's value is not a number"
    if e.n < 2:
        return "one replicate has no spread: run at least 2, 3 to have a useful interval"
    n = replicates_needed(e, boundary)
    return (f"about {n} replicates would decide it at this spread" if n else
            "the mean sits on the boundary: no number of replicates would decide it")


def ratio(e, digits=3):
    """An Effect of log ratios shown as the ratio: '×1.35 [×1.20, ×1.52], 3 replicates'."""
    def num(x):
        return f"×{math.exp(x):.{digits}g}" if math.isfinite(x) else ("×0" if x < 0 else "×∞")
    interval = f"[{num(e.low)}, {num(e.high)}]" if math.isfinite(e.low) else "[no interval: one replicate]"
    return f"{num(e.mean)} {interval}, {e.n} replicate{'s' if e.n != 1 else ''}"


def check(ok):
    """A property true by construction: a check of the code, reported as such (passed or failed), not a finding."""
    return f"check **{PASSED if ok else FAILED}**"


def mean_std(values):
    """(mean, sample std) of the replicates' values (std 0 for one): for the tables, not for verdicts."""
    return float(np.mean(values)), (float(np.std(values, ddof=1)) if len(values) > 1 else 0.0)
