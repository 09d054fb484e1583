"""What every tool asks of a model before it works on it, answered in one place:

    is_prunable(name, array)  a weight that pruning, scores and Hessian directions act on: the weight tensor
                              (ndim ≥ 2) of a Linear or Conv2d layer (biases and BatchNorm scales are not)
    prunable(model)           {name: Parameter} of those weights
    plan_of(model)            the model's pruning plan (`minidi.models.plan`), or one MinidiError
    sample_shape(model)       the shape of one input sample, asked of the model (`model.sample_shape`)
    check_batch(model, x, y)  x (and y) fit the model, or one MinidiError naming what does not
    conv_input_sizes(model)   {id(conv): (H, W) of its input} for every Conv2d of the plan, from one forward pass
"""
import numpy as np

from ..backend import get_array_module
from ..errors import MinidiError


def plan_of(model):
    """`model.pruning_plan()`, or one MinidiError when `model` is not a minidi model that has one."""
    if not callable(getattr(model, "pruning_plan", None)):
        raise MinidiError(f"expected a minidi model with a pruning plan (minidi.models), got {type(model).__name__}")
    return model.pruning_plan()


def is_prunable(name, array):
    return name.endswith("weight") and array.ndim >= 2


def prunable(model, require=False):
    """{name: Parameter} of the prunable weights (see `is_prunable`), in forward order.
    require=True: a model without any is a MinidiError (there is nothing to score, prune or measure)."""
    if not hasattr(model, "named_parameters"):
        raise MinidiError(f"expected a minidi model, got {type(model).__name__}")
    out = {name: p for name, p in model.named_parameters() if is_prunable(name, p.data)}
    if require and not out:
        raise MinidiError(f"{type(model).__name__} has no prunable weights (no Linear or Conv2d layer)")
    return out


def sample_shape(model, required=True):
    """The shape of one input sample, as the model states it: (D,) or (C, H, W). A plain stack of layers that
    states none but starts with a Linear takes (in_features,); for any other, None when not `required`."""
    shape = getattr(model, "sample_shape", None)
    if shape is None:
        first = next(iter(prunable(model, require=True).values()))
        if first.data.ndim == 2:
            return (first.shape[1],)
        if required:
            raise MinidiError(f"the input shape of this {type(model).__name__} is unknown: build it with "
                              "minidi.models.build, or give it a sample_shape such as (3, 32, 32)")
        return None
    return tuple(shape)


def check_batch(model, x, y=None, what="the batch"):
    """x (and y) fit the model: arrays (NumPy or device), x of the model's sample shape and finite, y one integer
    label in [0, classes) per sample. A MinidiError names what does not fit."""
    if not (hasattr(x, "shape") and hasattr(x, "dtype")):
        raise MinidiError(f"{what}: x must be an array, got {type(x).__name__}")
    if np.dtype(x.dtype).kind != "f":
        raise MinidiError(f"{what}: x must hold floats, got dtype {x.dtype}")
    weights = prunable(model)
    if not weights:
        raise MinidiError(f"{type(model).__name__} has no weights (no Linear or Conv2d layer)")
    shape = sample_shape(model, required=False)
    if shape is not None and int(np.prod(x.shape[1:])) != int(np.prod(shape)):
        raise MinidiError(f"{what}: a sample of x has shape {tuple(x.shape[1:])}, the model takes {tuple(shape)}")
    if not bool(get_array_module(x).isfinite(x).all()):
        raise MinidiError(f"{what}: x holds NaN or infinite values")
    if y is not None:
        if not (hasattr(y, "shape") and hasattr(y, "dtype")) or np.dtype(y.dtype).kind not in "iu":
            raise MinidiError(f"{what}: y must be an array of integer labels, got {type(y).__name__}")
        if tuple(y.shape) != (x.shape[0],):
            raise MinidiError(f"{what}: y has shape {tuple(y.shape)}, x has {x.shape[0]} samples")
        classes = list(weights.values())[-1].shape[0]
        low, high = int(y.min()), int(y.max())
        if low < 0 or high >= classes:
            raise MinidiError(f"{what}: label {high if high >= classes else low} is outside 0..{classes - 1}")


def conv_input_sizes(model, input_shape=None):
    """{id(conv): (H, W) of the input it sees} for every Conv2d of the model's plan, read from one eval-mode forward
    pass of a zero sample of `input_shape` (default `sample_shape(model)`); the model's mode is restored."""
    from .conv import Conv2d
    plan = plan_of(model)
    shape = tuple(input_shape) if input_shape is not None else sample_shape(model)
    w = plan[0].layer.weight.data
    was_training = model.training
    model.eval()
    try:
        model.forward(get_array_module(w).zeros((1,) + shape, dtype=w.dtype))
    finally:
        model.train(was_training)
    return {id(e.layer): tuple(int(n) for n in e.layer.xc.shape[2:]) for e in plan if isinstance(e.layer, Conv2d)}
