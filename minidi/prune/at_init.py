"""Masks from pruning-at-initialization scores: exact counts, global or per-layer scope, SynFlow's rounds,
invert, and layer collapse.

Masks follow the one rule of `minidi.prune.masks` (exact count round(d·N) per pool, "global" or "local",
ties to the earlier position), with priority = score, or −score for the methods that keep their lowest scores
(GraSP); `invert` negates it (keep what the method would remove).

SynFlow is iterative: in round k = 1..R it rescores the masked network and keeps the global top d^(k/R) of all
weights. A weight pruned in an earlier round gets priority −∞ and never comes back, so the masks are nested
and round R has exactly round(d·N) weights. Every other method prunes in one shot (rounds=1).

Layer collapse: a layer none of whose kept weights lies on a path from the input to the output (because no
weight is left, or because every unit it feeds or reads is cut off). `connected_weights` finds these paths with
the network itself: weights replaced by mask / fan_in (≥ 0), biases 0, BatchNorm the identity, input all ones;
then a weight w_ij is on a path iff w_ij · ∂R/∂w_ij > 0 (forward reach of j times backward reach of i).
"""
import numpy as np

from ..backend import get_array_module, to_numpy
from ..errors import check_number
from .masks import apply_masks, check_sparsity, keep_top, masked_priority, prunable
from .scores import KEEP_LOWEST, sample_shape, scores, scoring_copy

def prune_at_init(model, method, sparsity, scope="global", x=None, y=None, rounds=100, invert=False, seed=0):
    """Score `model` with `method`, set the masks in place, return the per-layer report (`collapse_report`).

    sparsity in [0, 1); scope "global" or "local"; x, y: the scoring batch of SNIP and GraSP; rounds: SynFlow's
    (the other methods prune once); invert: keep the lowest-priority weights; seed: the random method's scores."""
    sparsity = check_sparsity(sparsity)
    rounds = check_number(rounds, "rounds", low=1, integer=True) if method == "synflow" else 1
    for k in range(1, rounds + 1):
        s = scores(model, method, x, y, seed)                       # checks the method and the data
        apply_scores(model, method, s, (1.0 - sparsity) ** (k / rounds), scope, invert)
    return collapse_report(model)


def apply_scores(model, method, s, density, scope="global", invert=False):
    """Set the masks that keep round(density·N) weights by the scores `s` of `method`: priority = score, negated
    for the methods that keep their lowest scores, negated again for `invert`; pruned weights stay pruned.
    (One-shot methods can score once and be cut at many densities with this.)"""
    sign = (-1.0 if method in KEEP_LOWEST else 1.0) * (-1.0 if invert else 1.0)
    apply_masks(model, keep_top(masked_priority(model, {n: sign * to_numpy(v) for n, v in s.items()}), density, scope))


def connected_weights(model):
    """{name: host bool array}: which weights lie on at least one input→output path of the masked network."""
    from ..nn import BatchNorm1d, BatchNorm2d, Conv2d, Linear
    work = scoring_copy(model, training=False)
    weights = prunable(work)
    for _, m in work.named_modules():
        if isinstance(m, (BatchNorm1d, BatchNorm2d)):                               # the identity: γ = 1, β = 0, μ = 0, σ² + ε = 1
            m.weight.data[...], m.bias.data[...], m.running_mean[...], m.running_var[...] = 1, 0, 0, 1 - m.eps
        elif isinstance(m, (Linear, Conv2d)) and m.bias is not None:
            m.bias.data[...] = 0
    for p in weights.values():
        mask = p.mask if p.mask is not None else get_array_module(p.data).ones_like(p.data)
        p.data = mask / (p.size // p.shape[0])                      # mask / fan_in ≥ 0
    xp = get_array_module(next(iter(weights.values())).data)
    out = work.forward(xp.ones((1,) + sample_shape(model), dtype=np.float64))
    work.backward(xp.ones_like(out), input_grad=False)
    return {k: to_numpy(p.data * p.grad) > 0 for k, p in weights.items()}


def collapse_report(model):
    """Per prunable layer: weights, kept, density, connected (kept weights on an input→output path), collapsed."""
    connected = connected_weights(model)
    rows = []
    for name, p in prunable(model).items():
        kept = int(p.size if p.mask is None else to_numpy(p.mask).sum())
        rows.append({"name": name, "shape": list(p.shape), "weights": int(p.size), "kept": kept,
                     "density": kept / p.size, "connected": int(connected[name].sum()),
                     "collapsed": bool(connected[name].sum() == 0)})
    return rows


def layer_collapse(model):
    """Names of the collapsed layers: no kept weight on any input→output path (none left, or all cut off)."""
    return [r["name"] for r in collapse_report(model) if r["collapsed"]]
