"""Unstructured pruning masks: magnitude (global or per layer) and random, at an exact sparsity.

Prunable weights: the weights of the weight layers (biases are never pruned). A sparsity s prunes exactly
k = round(s·n) weights of a pool of n (the global pool, or each layer); the lowest-scoring ones, ties broken
by position. Masks live in the parameters (`Parameter.set_mask`) and are saved and loaded as `.npz`.
"""
import numpy as np

from ..backend import get_array_module, to_numpy
from ..backend import rng as backend_rng
from ..checkpoint import load_npz, save_npz
from ..errors import MinidiError, check_number


def prunable(model):
    """{name: Parameter} of the prunable weights (weight tensors of Linear and, later, Conv layers)."""
    return {name: p for name, p in model.named_parameters() if name.endswith("weight") and p.data.ndim >= 2}


def _check_sparsity(sparsity):
    return check_number(sparsity, "sparsity", low=0, high=1, high_open=True)


def masks_from_scores(scores, sparsity, scope="global"):
    """{name: 0/1 host mask}: prune exactly round(sparsity·n) lowest scores, globally or per layer."""
    sparsity = _check_sparsity(sparsity)
    if scope not in ("global", "layer"):
        raise MinidiError(f"scope must be 'global' or 'layer', got {scope!r}")
    return per_pool(scores, lambda values: _lowest_out(values, sparsity), scope == "global")


def per_pool(scores, select, pooled):
    """Apply `select` (flat float64 host values → flat mask) to one pool of all scores (pooled) or to each
    layer's own, and cut the result back into {name: mask shaped like the scores}."""
    scores = {k: to_numpy(v).astype(np.float64) for k, v in scores.items()}
    if not pooled:
        return {k: select(v.ravel()).reshape(v.shape) for k, v in scores.items()}
    flat = select(np.concatenate([v.ravel() for v in scores.values()]))
    masks, start = {}, 0
    for k, v in scores.items():
        masks[k] = flat[start:start + v.size].reshape(v.shape)
        start += v.size
    return masks


def _lowest_out(values, sparsity):
    k = int(round(sparsity * values.size))
    mask = np.ones(values.size, dtype=np.float32)
    mask[np.argsort(values, kind="stable")[:k]] = 0
    assert int((mask == 0).sum()) == k           # the achieved sparsity is exactly the requested count
    return mask


def apply_masks(model, masks):
    """Set the parameters' masks (host or device arrays) and check the exact number of zeros."""
    params = dict(model.named_parameters())
    for name, mask in masks.items():
        if name not in params:
            raise MinidiError(f"mask for unknown parameter {name}")
        xp = get_array_module(params[name].data)
        params[name].set_mask(xp.asarray(mask))
    return model


def magnitude_masks(model, sparsity, scope="global"):
    """Prune the smallest |w| (over all prunable weights, or per layer) in place; returns the masks."""
    masks = masks_from_scores({k: get_array_module(p.data).abs(p.data) for k, p in prunable(model).items()},
                              sparsity, scope)
    apply_masks(model, masks)
    return masks


def random_masks(model, sparsity, seed=0, scope="layer"):
    """Prune uniformly at random (scores u ~ U(0,1) from a seeded host generator) in place; returns the masks."""
    rng = backend_rng(seed)
    _check_sparsity(sparsity)
    masks = masks_from_scores({k: rng.random(p.shape) for k, p in prunable(model).items()}, sparsity, scope)
    apply_masks(model, masks)
    return masks


def sparsity_of(model):
    """Fraction of prunable weights that are masked out (unmasked parameters count as dense)."""
    params = prunable(model).values()
    masked = sum(int((to_numpy(p.mask) == 0).sum()) for p in params if p.mask is not None)
    return masked / sum(int(p.size) for p in params)


def save_masks(path, model):
    save_npz(path, model.masks())


def load_masks(path, model):
    return apply_masks(model, load_npz(path))
