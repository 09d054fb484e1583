"""The one mask rule of minidi: which weights can be pruned, how a mask is chosen from priorities, and how it is
set. Every pruning method (magnitude, random, the pruning-at-init scores, GMP, shedding, the studies) goes
through `keep_top`, so they all count and break ties the same way.

Prunable weights: the weight tensors of the weight layers (Linear, Conv2d); biases and BatchNorm are never
pruned. A **pool** is every prunable weight together (scope "global") or each layer on its own ("local").

Keep-top rule. At density d (= 1 − sparsity) a pool of N weights keeps exactly round(d·N) of them: those of
highest priority. **Ties** at the threshold go to the earlier position (layer order, then C order): the same
mask as a stable descending sort, found in O(N) by one partition. A weight already pruned can be given priority
−∞ (`masked_priority`) so it is never kept again: nested masks for iterative pruning.

Masks are float32 0/1 arrays; `apply_masks` sets them on the parameters (`Parameter.set_mask` zeroes the
pruned weights, the layers and optimizers keep them at 0).
"""
import numpy as np

from ..backend import get_array_module, to_numpy
from ..errors import MinidiError, check_number
from ..files import load_npz, save_npz
from ..nn.checks import prunable

SCOPES = ("global", "local")


def check_sparsity(sparsity, name="sparsity"):
    """A sparsity (the fraction of prunable weights removed) is a number in [0, 1): one rule for every caller."""
    return check_number(sparsity, name, low=0, high=1, high_open=True)


def check_scope(scope, name="scope"):
    if scope not in SCOPES:
        raise MinidiError(f"{name} must be 'global' or 'local', got {scope!r}")
    return scope


def keep_top(priority, density, scope="global"):
    """{name: 0/1 float32 host mask} keeping exactly round(density·N) highest priorities of each pool."""
    check_scope(scope)
    density = check_number(density, "density", low=0, high=1)
    if not priority:
        raise MinidiError("there are no priorities to choose a mask from (a model without prunable weights?)")
    for name, values in priority.items():
        if np.isnan(to_numpy(values)).any():
            raise MinidiError(f"the priorities of {name} hold NaN (a non-finite weight or score): no mask can rank them")
    return per_pool(priority, lambda values: keep_highest(values, density), scope == "global")


def keep_highest(values, density):
    """0/1 mask keeping the round(density·n) highest values; ties at the threshold go to the earlier positions
    (the same mask as a stable descending sort, in O(n): one partition finds the threshold)."""
    n = values.size
    n_keep = int(round(density * n))
    mask = np.zeros(n, dtype=np.float32)
    if n_keep > 0:
        kth = np.partition(values, n - n_keep)[n - n_keep]            # the n_keep-th largest value
        above = values > kth
        mask[above] = 1
        mask[np.flatnonzero(values == kth)[:n_keep - int(above.sum())]] = 1
    assert int(mask.sum()) == n_keep
    return mask


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


def masked_priority(model, values):
    """{name: float64 host priority}: `values[name]` (an array shaped like the weight), with every weight that is
    already pruned at −∞, so that it can never be kept again (nested masks: SynFlow's rounds, gradual GMP,
    iterative pruning)."""
    out = {}
    for name, p in prunable(model, require=True).items():
        v = np.array(to_numpy(values[name]), dtype=np.float64)
        if p.mask is not None:
            v[to_numpy(p.mask) == 0] = -np.inf
        out[name] = v
    return out


def apply_masks(model, masks):
    """Set the parameters' masks (host or device arrays) in place; returns the model."""
    params = dict(model.named_parameters())
    for name, mask in masks.items():
        if name not in params:
            raise MinidiError(f"mask for unknown parameter {name}")
        values = to_numpy(mask)
        if not np.isin(values, (0, 1)).all():
            raise MinidiError(f"the mask of {name} must hold only 0 and 1, it holds e.g. {values[~np.isin(values, (0, 1))].flat[0]!r}")
        xp = get_array_module(params[name].data)
        params[name].set_mask(xp.asarray(mask))
    return model


def kept_count(model):
    """How many prunable weights are unpruned (a parameter without a mask counts every weight)."""
    return sum(int(p.size if p.mask is None else to_numpy(p.mask).sum()) for p in prunable(model).values())


def sparsity_of(model):
    """Fraction of prunable weights that are masked out (unmasked parameters count as dense)."""
    params = prunable(model).values()
    masked = sum(int((to_numpy(p.mask) == 0).sum()) for p in params if p.mask is not None)
    return masked / sum(int(p.size) for p in params)


def save_masks(path, model):
    save_npz(path, model.masks())


def load_masks(path, model):
    return apply_masks(model, load_npz(path))
