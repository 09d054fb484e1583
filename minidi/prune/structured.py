"""L1 neuron/filter pruning with physical removal: the result is a smaller, dense network.

Score of output unit j of a weight layer = mean |W[j, ...]| (its L1 norm over fan-in: the incoming weights
of a neuron, or a filter's (in, kh, kw) kernel). In a layer pruned at ratio PR, the
n = min(ceil(PR·n_out), n_out − 1) units with the smallest scores are removed. Removal follows the model's
pruning plan (`minidi.models.plan`): the surviving rows of W_l and entries of b_l, the matching channels of a
BatchNorm after it, and the matching inputs of the next layer (columns of a Linear, input channels of a
Conv2d, or blocks of H·W columns of a Linear after a Flatten). All scores come from the original weights.
"""
import copy
import math

import numpy as np

from ..backend import get_array_module, to_numpy
from .spec import parse_spec


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
    scores = to_numpy(scores)
    n = n_to_prune(ratio, len(scores))
    removed = np.argsort(scores, kind="stable")[:n]
    return np.setdiff1d(np.arange(len(scores)), removed)


def prune_neurons(model, spec):
    """A new, physically smaller copy of `model` with the lowest-L1 units of each layer removed (see above).

    spec: "0-5:0.8,6:0", "layer*.conv1:0.5" or {layer index: ratio}; layers are the weight layers of
    `model.pruning_plan()`, counted from 0. The model itself is left untouched.
    """
    return remove_units(model, l1_keep(model, spec))


def l1_keep(model, spec):
    """{layer index: sorted kept unit indices} of L1 pruning by `spec` (layers at ratio 0 absent)."""
    plan = model.pruning_plan()
    ratios = parse_spec(spec, plan)
    return {i: kept_units(l1_scores(e.layer.weight.data), ratios[i]) for i, e in enumerate(plan) if ratios[i] > 0}


def random_keep(model, spec, seed):
    """The same per-layer counts as `l1_keep`, the kept units drawn uniformly at random (seeded host generator)."""
    from ..backend import rng as backend_rng
    plan = model.pruning_plan()
    ratios = parse_spec(spec, plan)
    gen = backend_rng(seed)
    keep = {}
    for i, e in enumerate(plan):
        if ratios[i] > 0:
            n_out = e.layer.weight.shape[0]
            keep[i] = np.sort(gen.choice(n_out, n_out - n_to_prune(ratios[i], n_out), replace=False))
    return keep


def random_neurons(model, spec, seed):
    """Random structured pruning: a physically smaller copy with exactly `prune_neurons(model, spec)`'s
    per-layer counts, the surviving neurons/filters chosen uniformly at random."""
    keep = random_keep(model, spec, seed)
    assert {i: len(k) for i, k in keep.items()} == {i: len(k) for i, k in l1_keep(model, spec).items()}
    return remove_units(model, keep)


def remove_units(model, keep):
    """A copy of `model` with only the units `keep[i]` of weight layer i (and what reads them) left."""
    pruned = copy.deepcopy(model)
    new_plan = pruned.pruning_plan()
    for i, rows in keep.items():
        entry = new_plan[i]
        _select(entry.layer.weight, rows, axis=0)
        if entry.layer.bias is not None:
            _select(entry.layer.bias, rows, axis=0)
        if entry.bn is not None:
            _select(entry.bn.weight, rows, axis=0)
            _select(entry.bn.bias, rows, axis=0)
            entry.bn.running_mean = _take(entry.bn.running_mean, rows, axis=0)
            entry.bn.running_var = _take(entry.bn.running_var, rows, axis=0)
        if entry.next is not None:                 # the consumer loses the matching inputs
            columns = (rows[:, None] * entry.group + np.arange(entry.group)).ravel()
            _select(entry.next.weight, columns, axis=1)
    pruned.zero_grad()
    return pruned


def _take(array, index, axis):
    """array with only the host indices `index` kept along `axis`: a contiguous copy on array's device."""
    xp = get_array_module(array)
    return xp.ascontiguousarray(xp.take(array, xp.asarray(index), axis=axis))


def _select(param, index, axis):
    """Keep only `index` along `axis` of a parameter's data (and mask)."""
    param.data = _take(param.data, index, axis)
    if param.mask is not None:
        param.mask = _take(param.mask, index, axis)
    param.grad = None
