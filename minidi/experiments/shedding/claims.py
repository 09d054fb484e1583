"""The weight-shedding study's claim lines, each judged on its effect over replicates by `experiments.stats`
(the arms and routes of seed s share its dense model: paired by seed): the study's four, and its phase map's four
(per point, "σ/f ≥ SEVERAL at the last epoch", on the replicates run there)."""
import numpy as np

from ...theory import decay
from ..stats import HELD, NOT_HELD, UNDECIDED, at_least, bold, check, combine, effect, fmt, greater, judged, paired
from .cells import MOMENTUM, arms

TAU = "kappa=0.01"
SEVERAL = 3.0            # "many times the pruned fraction" (and "much smaller": this many times)
ROUTE_MARGIN = 0.01      # "approaches GMP" / "clearly below it": within / beyond one point of accuracy


def claims(c, sigma_end, dead, acc, pickup_seeds, takes_first, cascade):
    """The note's four claims, each judged on its effect over replicates (the arms and routes of seed s share its
    dense model: paired by seed) by `experiments.stats`."""
    return [claim_cascade(c, sigma_end, dead), claim_routes(c, acc), claim_dead(dead, cascade),
            claim_pickup(c, pickup_seeds, takes_first)]


def claim_cascade(c, sigma_end, dead):
    """1. σ(large+wd) ≥ SEVERAL × f, dead units rising, and σ at least SEVERAL times smaller without weight decay
    and at the small LR."""
    f = c["fraction"]
    many = effect([v / f for v in sigma_end["large+wd"]])
    rising = effect([d[-1] - d[0] for d in dead["large+wd"]])
    less = {arm: paired(sigma_end["large+wd"], [SEVERAL * v for v in sigma_end[arm]]) for arm in ("large", "small+wd")}
    verdicts = [greater(many, SEVERAL), greater(rising)] + [greater(e) for e in less.values()]
    small = arms(c["shed_lr"], c["shed_wd"])["small"][0]
    return (f"1. After a random prune of {f:g} and {c['epochs']} epochs of fine-tuning at LR {c['shed_lr']:g} with "
            f"weight decay {c['shed_wd']:g}, σ (τ = 0.01·median) rises to at least {SEVERAL:g}× the pruned fraction with "
            f"rising dead units, and stays {SEVERAL:g}× smaller without weight decay or at LR {small:g}: "
            f"{bold(combine(verdicts))} (σ/f {judged(many, verdicts[0], SEVERAL)}; dead units last − first epoch "
            f"{judged(rising, verdicts[1], digits=1)}; " + "; ".join(
                f"σ(large+wd) − {SEVERAL:g}·σ({arm}) {judged(e, greater(e), digits=3)}" for arm, e in less.items())
            + "; σ at the end: " + ", ".join(f"{arm} {float(np.mean(v)):.3f}" for arm, v in sigma_end.items()) + ").")


def claim_routes(c, acc):
    """2. Random pruning with shedding approaches GMP (within ROUTE_MARGIN) at every final sparsity, and stays more
    than ROUTE_MARGIN below it with shedding suppressed at the highest."""
    parts, verdicts = [], []
    for sp in c["sparsities"]:
        e = paired(acc[("random-shed", sp)], acc[("gmp", sp)])
        verdicts.append(at_least(e, ROUTE_MARGIN))
        parts.append(f"{sp:g}: random+shedding − GMP {pts(e, verdicts[-1], -ROUTE_MARGIN)}")
    top = c["sparsities"][-1]
    below = paired(acc[("gmp", top)], acc[("random-noshed", top)])
    verdicts.append(greater(below, ROUTE_MARGIN))
    parts.append(f"{top:g}: GMP − random without weight decay {pts(below, verdicts[-1], ROUTE_MARGIN)}")
    return (f"2. Random pruning with shedding approaches GMP (within {100 * ROUTE_MARGIN:g} points) at every final "
            f"sparsity, and stays more than {100 * ROUTE_MARGIN:g} points below it with shedding suppressed at the "
            f"highest: {bold(combine(verdicts))} ({'; '.join(parts)}).")


def claim_dead(dead, cascade):
    """3. The shedding arm ends with dead units (they are detected and reported)."""
    e = effect([d[-1] for d in dead["large+wd"]])
    layers = sorted({name for r in cascade.values() for name in r["disconnected"][TAU]})
    return (f"3. Shedding disconnects whole units or layers, detected and reported: dead units at the end of the "
            f"shedding arm {judged(e, greater(e), digits=1)} (mean over seeds: " + ", ".join(
                f"{a} {float(np.mean([d[-1] for d in v])):.1f}" for a, v in dead.items())
            + f"; layers disconnected once shed weights are removed: {', '.join(layers) or 'none'}).")


def claim_pickup(c, pickup_seeds, takes_first):
    """4. At every final sparsity at least half of the weights gradual GMP removes at steps 2 … n were already
    shed. (That GMP removes the shed weights first is true by construction: the share of the shed weights the
    steps removed is 1 whenever a step removes as many as are shed — a check, not a finding.)"""
    if c["steps"] < 2:
        return ("4. Gradual GMP's steps are mostly weights already shed: nothing to judge (with --steps 1 gradual "
                "GMP is one-shot: there is no step 2 … n to look at; give --steps 2 or more).")
    parts, verdicts = [], []
    for sp, shares in pickup_seeds.items():
        e = effect(shares)
        verdicts.append(greater(e, 0.5))
        parts.append(f"{sp:g}: share of the removed already shed {judged(e, verdicts[-1], 0.5, digits=3)}")
    return (f"4. Gradual GMP's steps are mostly weights already shed (the paper: GMP \"picks up\" shed weights, which "
            f"would make its steps cheap): at every final sparsity more than half of the weights removed at steps 2 … "
            f"{c['steps']} were already shed: {bold(combine(verdicts))} ({'; '.join(parts)}). GMP takes the shed "
            f"weights first (each step removes min(its count, the shed weights) shed weights), true by "
            f"construction: {check(takes_first)}.")


def pts(e, verdict, boundary=0.0):
    return judged(e, verdict, boundary, scale=100, unit=" pts")


# --- the phase map -------------------------------------------------------------------------------------------
def shed_epochs(c, results, lr, wd):
    """Epochs the decay law gives a median weight with zero gradient to fall below κ = 1e-2 (None: never)."""
    steps = next(iter(results.values()))["steps_per_epoch"]
    return decay.epochs_to_fall(1e-2, lr, MOMENTUM, wd, int(steps)) if wd > 0 else None


def point_effect(c, results, lr, wd, f, epoch=None):
    """The Effect over the replicates run at (lr, wd, f) of σ/f (κ = 1e-2) at `epoch` (default: the last)."""
    epoch = epoch or c["map_epochs"]
    values = [r["history"][epoch - 1]["shed"][TAU]["overall"] / f for (a, b, g, _), r in sorted(results.items())
              if (a, b, g) == (lr, wd, f)]
    return effect(values)


def sheds(c, results, points):
    """{point: the verdict of "σ/f ≥ SEVERAL at the last epoch"} over (lr, wd, f) points."""
    return {p: greater(point_effect(c, results, *p), SEVERAL) for p in points}


def none_sheds(verdicts):
    """The verdict of "no point sheds": held when every point's interval lies below SEVERAL, not held when one
    lies above, undecided otherwise (a point of one replicate has no interval)."""
    v = list(verdicts)
    if HELD in v:
        return NOT_HELD
    return HELD if v and all(x == NOT_HELD for x in v) else UNDECIDED


def counted(verdicts):
    v = list(verdicts)
    return ", ".join(f"{v.count(x)} {x}" for x in (HELD, NOT_HELD, UNDECIDED) if v.count(x)) or "no point"


def map_claims(c, results, stats, reg):
    """The map's four claims, each from the per-point verdicts of "σ/f ≥ SEVERAL at the last epoch" over the
    replicates run there (replicate 0 everywhere, more at the corners: one replicate gives no interval, so most
    points are undecided unless --seeds adds replicates there)."""
    last = c["map_epochs"]
    points = [(lr, wd, f) for lr in c["map_lrs"] for wd in c["map_wds"] for f in c["map_fractions"]]
    v = sheds(c, results, points)
    somewhere = HELD if HELD in v.values() else NOT_HELD if all(x == NOT_HELD for x in v.values()) else UNDECIDED
    lines = [f"1. Shedding happens somewhere on the map: σ (κ = 1e-2) reaches {SEVERAL:g}× the pruned fraction by "
             f"epoch {last} at some (LR, weight decay, fraction) point: {bold(somewhere)} (per point, σ/f ≥ "
             f"{SEVERAL:g}: {counted(v.values())} of {len(points)}; by the mean alone {len(reg)} point(s) in the "
             "region)."]
    no_wd = [p for p in points if p[1] == 0.0]
    if no_wd:
        worst = max(no_wd, key=lambda p: point_effect(c, results, *p).mean)
        lines.append(f"2. Without weight decay nothing sheds: σ/f < {SEVERAL:g} at every wd = 0 point: "
                     f"{bold(none_sheds(v[p] for p in no_wd))} (per point: {counted(v[p] for p in no_wd)}; the "
                     f"largest, LR {worst[0]:g} f {worst[2]:g}: σ/f {fmt(point_effect(c, results, *worst))}).")
    law = {(lr, wd): (lambda t: t is not None and t <= last)(shed_epochs(c, results, lr, wd))
           for lr in c["map_lrs"] for wd in c["map_wds"]}
    barred = [p for p in points if not law[p[:2]]]
    allowed = [p for p in points if law[p[:2]]]
    lines.append(f"3. The decay law is necessary: no point sheds ({SEVERAL:g}×) by epoch {last} where a median weight "
                 f"with zero gradient could not yet fall below 1 % of its size: "
                 f"{bold(none_sheds(v[p] for p in barred)) if barred else 'nothing to judge (the law allows every point)'}"
                 f" ({len(barred)} such point(s): {counted(v[p] for p in barred)}).")
    every = combine(v[p] for p in allowed)
    lines.append(f"4. The decay law is sufficient: every point where it lets that weight fall below 1 % by epoch {last} "
                 f"sheds: {bold(every) if allowed else 'nothing to judge (the law allows no point)'} ({len(allowed)} "
                 f"allowed point(s): {counted(v[p] for p in allowed)}).")
    return lines
