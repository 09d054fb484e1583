"""Layer-wise weight statistics of a pruned network (Singh & Liu): density, mean, std and kurtosis of the
unpruned weights, and 1-D Wasserstein-1 distances between layers of two networks.

    WD(a, b) = ∫ |F_a(t) − F_b(t)| dt      (scipy.stats.wasserstein_distance of the flattened weight tensors,
                                             pruned zeros included)

For each layer, WD(orig, shuffle) / WD(orig, random) and WD(orig, reinit) / WD(orig, random) compare how far a
randomization moves the method's trained weights with how far a globally random mask at the same sparsity
lands; ratios below 1 say the randomization keeps the layer's distribution closer than random pruning does.
"""
import numpy as np
from scipy import stats

from ..backend import to_numpy
from .ablations import kept_values
from .masks import prunable


def layer_stats(model):
    """{layer name: {density, mean, std, kurtosis}} of the unpruned weights (kurtosis: Fisher's, normal = 0)."""
    out = {}
    for name, p in prunable(model).items():
        w = kept_values(p)
        out[name] = {"density": w.size / p.size, "mean": float(w.mean()) if w.size else 0.0,
                     "std": float(w.std()) if w.size else 0.0,
                     "kurtosis": float(stats.kurtosis(w)) if w.size > 3 and w.std() > 0 else 0.0}
    return out


def flat_weights(state, names):
    """{name: host float64 vector} of the weights `names` of a state_dict (pruned zeros included)."""
    return {k: to_numpy(state[k]).astype(np.float64).ravel() for k in names}


def wasserstein(a, b):
    """{layer name: WD(a[name], b[name])} for two {name: flat weights} dicts over the same layers."""
    return {k: float(stats.wasserstein_distance(a[k], b[k])) for k in a}


def wd_ratios(orig, variants, reference):
    """{variant: {layer: WD(orig, variant) / WD(orig, reference)}}; inf where the reference distance is 0."""
    ref = wasserstein(orig, reference)
    return {v: {k: (d / ref[k] if ref[k] > 0 else float("inf")) for k, d in wasserstein(orig, w).items()}
            for v, w in variants.items()}
