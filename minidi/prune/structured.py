"""L1 neuron/filter pruning with physical removal: the result is a smaller, dense network.

Score of output unit j of a weight layer = mean |W[j, ...]| (its L1 norm over fan-in). In a layer pruned at
ratio PR, the n = min(ceil(PR·n_out), n_out − 1) units with the smallest scores are removed: the surviving rows
of W_l and entries of b_l are kept, and the matching *columns* of W_{l+1}. All scores are computed on the
original weights, before anything is removed.
"""
import copy
import math

from ..backend import get_array_module, to_numpy
from .spec import parse_spec


def weight_layers(model):
    """The layers whose weights are pruned, in order (Linear layers of an MLP)."""
    return model.linear_layers()


def l1_scores(weight):
    """Mean |W| over everything but the output axis: one score per output unit (neuron or filter)."""
    xp = get_array_module(weight)
    return xp.abs(weight).reshape(weight.shape[0], -1).mean(axis=1)


def n_to_prune(ratio, n_out):
    return min(math.ceil(ratio * n_out - 1e-9), n_out - 1) if ratio > 0 else 0


def kept_units(scores, ratio):
    """Sorted indices (host ints) of the units that survive: all but the n lowest-scoring ones.

    Ties are broken by index (a stable sort), so the choice is deterministic on every backend.
    """
    import numpy as np
    scores = to_numpy(scores)
    n = n_to_prune(ratio, len(scores))
    removed = np.argsort(scores, kind="stable")[:n]
    return np.setdiff1d(np.arange(len(scores)), removed)


def prune_neurons(model, spec):
    """A new, physically smaller copy of `model` with the lowest-L1 units of each layer removed (see module doc).

    spec: "0-5:0.8,6:0" or {layer index: ratio}; layers counted over the weight layers from 0.
    The model itself is left untouched.
    """
    layers = weight_layers(model)
    ratios = parse_spec(spec, len(layers))
    keep = [kept_units(l1_scores(layer.weight.data), ratios[i]) for i, layer in enumerate(layers)]  # originals
    pruned = copy.deepcopy(model)
    new_layers = weight_layers(pruned)
    for i, layer in enumerate(new_layers):
        xp = get_array_module(layer.weight.data)
        rows = xp.asarray(keep[i])
        _select(layer.weight, rows, axis=0)
        if layer.bias is not None:
            _select(layer.bias, rows, axis=0)
        if i + 1 < len(new_layers):
            _select(new_layers[i + 1].weight, rows, axis=1)    # the next layer loses the matching inputs
    pruned.zero_grad()
    return pruned


def _select(param, index, axis):
    """Keep only `index` along `axis` of a parameter's data (and mask); contiguous copies."""
    xp = get_array_module(param.data)
    param.data = xp.ascontiguousarray(xp.take(param.data, index, axis=axis))
    if param.mask is not None:
        param.mask = xp.ascontiguousarray(xp.take(param.mask, index, axis=axis))
    param.grad = None
