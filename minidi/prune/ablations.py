"""The sanity checks of pruning at initialization (Frankle et al. 2021): does the method's choice of *which*
weights matter, or only how many per layer?

    shuffle   inside each layer, permute the mask entries (the layer's density is kept, positions move) and
              write the permuted mask back; the weights at the new kept positions are the unpruned initial
              values there (`init`), or, without `init`, the kept values travel with their mask entries.
    reinit    keep the mask, draw every prunable weight afresh from the model's own initialization
              distribution (the preset's builder with another seed); biases and BatchNorm are kept.
    invert    keep the lowest-priority weights instead: `prune_at_init(..., invert=True)`.

A shuffle that permutes a copy and never writes it back (a known pitfall of public code) leaves the network
unchanged; `shuffle_masks` sets the new masks on the parameters and the tests check that positions moved.
"""
import numpy as np

from ..backend import get_array_module, to_numpy
from ..backend import rng as backend_rng
from ..errors import MinidiError
from .masks import prunable


def shuffle_masks(model, seed, init=None):
    """Permute each masked layer's mask uniformly at random (generator seeded by (seed, layer index)), in place.

    init: {name: array} of the unpruned initial weights (e.g. the dense model's `state_dict()`): the new kept
    positions take those values. None: weight values move together with their mask entries."""
    for i, (name, p) in enumerate(prunable(model).items()):
        if p.mask is None:
            continue
        xp = get_array_module(p.data)
        perm = xp.asarray(backend_rng([seed, i]).permutation(p.size))
        new_mask = p.mask.ravel()[perm].reshape(p.shape)
        if init is not None:
            if name not in init or tuple(init[name].shape) != tuple(p.shape):
                raise MinidiError(f"shuffle_masks: init has no weight {name} of shape {tuple(p.shape)}")
            p.data = xp.asarray(init[name], dtype=p.data.dtype).copy()
        else:
            p.data = p.data.ravel()[perm].reshape(p.shape)
        p.set_mask(new_mask)                                   # written back: data ⊙ new mask
    return model


def reinit_kept(model, seed):
    """Fresh weights from the same initialization distribution (the model rebuilt with `seed`), masks kept."""
    redraw = getattr(model, "redraw", None)
    if redraw is None:
        raise MinidiError("reinit_kept needs a model built by minidi.models.build (its init distribution)")
    fresh = prunable(redraw(seed=seed))
    for key, p in prunable(model).items():
        xp = get_array_module(p.data)
        p.data = xp.asarray(fresh[key].data, dtype=p.data.dtype)
        p.apply_mask()
    return model


def kept_values(param):
    """Host float64 vector of a parameter's unpruned weights (mask 1; every weight when it has no mask)."""
    w = to_numpy(param.data).astype(np.float64).ravel()
    return w if param.mask is None else w[to_numpy(param.mask).ravel() != 0]
