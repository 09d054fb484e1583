"""Global magnitude pruning (GMP), one-shot and gradual.

    gmp(model, s)                keep exactly round((1 − s)·N) largest |θ| over all prunable weights; weights
                                 already pruned stay pruned (priority −∞), so repeated calls give nested masks
    gradual_sparsities(s_f, n)   the targets of n prune steps, cubic (Zhu & Gupta 2017):
                                     s_k = s_f · (1 − (1 − k/n)³),   k = 1 … n

Convention (the public versions disagree): minidi's k runs from 1, so the *first* step already prunes,
s_1 = s_f(1 − (1 − 1/n)³), and the *last* step, k = n, reaches s_f exactly; there is no step at s_i = 0.
TF-MOT's `PolynomialDecay` and Distiller's AGP evaluate the same polynomial from its start (their first step
sits at the initial sparsity, i.e. prunes nothing when it is 0), and jaxpruner's `PolynomialSchedule` reaches the
final sparsity at its end step; minidi's n steps are all real prune steps.
"""
import numpy as np

from ..errors import check_number
from ..limits import MAX_STEPS
from .masks import apply_masks, check_sparsity, keep_top, masked_priority, prunable


def gmp(model, sparsity):
    """One-shot global magnitude pruning to `sparsity` (exact count), in place; returns the magnitude threshold
    (the largest pruned |θ|, 0 when nothing is pruned)."""
    sparsity = check_sparsity(sparsity)
    priority = masked_priority(model, {k: abs(p.data) for k, p in prunable(model, require=True).items()})
    masks = keep_top(priority, 1 - sparsity)
    pruned = np.concatenate([v[m.reshape(v.shape) == 0].ravel() for v, m in zip(priority.values(), masks.values())])
    apply_masks(model, masks)
    finite = pruned[np.isfinite(pruned)]
    return float(finite.max()) if finite.size else 0.0


def gradual_sparsities(final, steps):
    """[s_1, …, s_n]: s_k = final · (1 − (1 − k/n)³), k = 1 … n (s_n = final)."""
    final = check_sparsity(final, "final sparsity")
    steps = check_number(steps, "steps", low=1, high=MAX_STEPS, integer=True)
    return [final * (1 - (1 - k / steps) ** 3) for k in range(1, steps + 1)]
