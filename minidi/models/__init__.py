"""Model builders and the named presets of the studies.

Every model is built on the host from a seeded NumPy generator (the same seed gives the same weights on
CPU and GPU) and then moved with `minidi.backend.to_device`. Each model answers the questions of `minidi.models.plan` (its pruning plan,
its input shape, whether it is a chain) and follows the engine's forward/backward/state_dict conventions.
"""
import functools
import math

from ..errors import MinidiError
from .convnets import ConvNet, conv4, lenet5, vgg
from .mlp import MLP, mlp
from .resnet import ResNet, resnet

PRESETS = {
    "mlp7-linear": dict(builder=mlp, depth=7, width=100, act="linear", in_dim=1024, n_classes=10),
    "mlp7-relu": dict(builder=mlp, depth=7, width=100, act="relu", in_dim=1024, n_classes=10),
    "lenet300-100": dict(builder=mlp, depth=3, width=[300, 100], act="relu", in_dim=784, n_classes=10),
    "lenet5-linear": dict(builder=lenet5, act="linear"),
    "lenet5-relu": dict(builder=lenet5, act="relu"),
    "conv4": dict(builder=conv4),
    "conv4-mnist": dict(builder=conv4, in_channels=1),           # the same net on 1×32×32 MNIST (shedding study)
    "vgg11": dict(builder=vgg, depth=11),
    "vgg16": dict(builder=vgg, depth=16),
    "vgg19": dict(builder=vgg, depth=19),
    "resnet20": dict(builder=resnet, depth=20),
    "resnet20-mnist": dict(builder=resnet, depth=20, in_channels=1),    # on 1×32×32 MNIST (the core study's CPU scale)
    "resnet32": dict(builder=resnet, depth=32),
    "resnet56": dict(builder=resnet, depth=56),
}

# Layers pruned by the JSV-vs-PR protocol: all but the output layer for MLPs; conv1..conv3 for LeNet-5.
STUDY_LAYERS = {"lenet5-linear": (0, 2), "lenet5-relu": (0, 2)}


def build(name, **overrides):
    """Build a preset by name, e.g. build("resnet20", seed=1); keyword overrides replace preset fields."""
    if name not in PRESETS:
        raise MinidiError(f"unknown model {name!r}: choose one of {', '.join(sorted(PRESETS))}")
    spec = dict(PRESETS[name])
    builder = spec.pop("builder")
    spec.update(overrides)
    model = builder(**spec)
    model.name, model.build_overrides = name, dict(overrides)
    model.redraw = functools.partial(redraw, name, dict(overrides))   # the same preset, another seed
    return model


def data_shape(model):
    """(channels, side) of the images `model` takes, asked of the model (`model.sample_shape`): channels is None
    for a flat vector of side² pixels (an MLP on MNIST), as `minidi.data.load_dataset` wants it."""
    shape = tuple(model.sample_shape)
    if len(shape) == 3:
        return shape[0], shape[1]
    side = math.isqrt(shape[0])
    if len(shape) != 1 or side * side != shape[0]:
        raise MinidiError(f"a model that takes samples of shape {shape} reads no square image")
    return None, side


@functools.lru_cache(maxsize=None)
def input_of(name):
    """`data_shape` of preset `name` (asked of a model built from it, once per name)."""
    return data_shape(build(name))


def redraw(name, overrides, seed):
    """A fresh draw of preset `name` (its init distribution) with `seed`: what `prune.reinit_kept` asks for."""
    return build(name, **{**overrides, "seed": seed})


def fresh(model, seed):
    """A fresh draw, with `seed`, of the preset `model` was built from, at `model`'s own widths (its
    `architecture()`): a structurally pruned network trained from scratch gets exactly the preset's init
    distribution at its own fan-ins, none of the inherited weights."""
    if not isinstance(getattr(model, "name", None), str) or not callable(getattr(model, "architecture", None)):
        raise MinidiError(f"fresh needs a model built by minidi.models.build, got {type(model).__name__}")
    return build(model.name, **{**model.build_overrides, **model.architecture(), "seed": seed})


__all__ = ["build", "fresh", "data_shape", "input_of", "PRESETS", "STUDY_LAYERS", "mlp", "MLP", "lenet5", "vgg", "conv4",
           "ConvNet", "resnet", "ResNet"]
