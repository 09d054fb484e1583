"""Unstructured pruning at an exact sparsity: magnitude (global or per layer) and random.

Both are the one mask rule of `minidi.prune.masks` with a priority: |w| (the largest kept) or u ~ U(0, 1)
drawn from a seeded host generator. A sparsity s keeps exactly round((1 − s)·N) weights of each pool.
"""
from ..backend import get_array_module
from ..backend import rng as backend_rng
from .masks import apply_masks, check_scope, check_sparsity, keep_top, prunable


def masks_from_scores(scores, sparsity, scope="global"):
    """{name: 0/1 host mask} pruning the lowest scores to `sparsity` (keep_top at density 1 − sparsity)."""
    sparsity = check_sparsity(sparsity)
    return keep_top(scores, 1 - sparsity, check_scope(scope))


def magnitude_masks(model, sparsity, scope="global"):
    """Prune the smallest |w| (over all prunable weights, or per layer) in place; returns the masks."""
    masks = masks_from_scores({k: get_array_module(p.data).abs(p.data) for k, p in prunable(model).items()},
                              sparsity, scope)
    apply_masks(model, masks)
    return masks


def random_masks(model, sparsity, seed=0, scope="local"):
    """Prune uniformly at random (priorities u ~ U(0,1) from a seeded host generator) in place; returns the masks."""
    rng = backend_rng(seed)
    check_sparsity(sparsity)
    masks = masks_from_scores({k: rng.random(p.shape) for k, p in prunable(model).items()}, sparsity, scope)
    apply_masks(model, masks)
    return masks
