"""Model builders and the named presets of the studies.

Every model is built on the host from a seeded NumPy generator (the same seed gives the same weights on
CPU and GPU) and then moved with `minidi.backend.to_device`. Each model answers the questions of `minidi.models.plan` (its pruning plan,
its input shape, whether it is a chain) and follows the engine's forward/backward/state_dict conventions.
"""
import functools

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
    "resnet32": dict(builder=resnet, depth=32),
    "resnet56": dict(builder=resnet, depth=56),
}

# The input each preset expects: (channels, side) of an image, or None for a flat MNIST vector of side².
INPUT = {"mlp7-linear": (None, 32), "mlp7-relu": (None, 32), "lenet300-100": (None, 28),
         "lenet5-linear": (1, 32), "lenet5-relu": (1, 32), "conv4": (3, 32), "conv4-mnist": (1, 32),
         "vgg11": (3, 32), "vgg16": (3, 32), "vgg19": (3, 32), "resnet20": (3, 32), "resnet32": (3, 32),
         "resnet56": (3, 32)}

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
    channels, side = INPUT[name]
    model.sample_shape = (side * side,) if channels is None else (channels, side, side)
    model.redraw = functools.partial(redraw, name, dict(overrides))   # the same preset, another seed
    return model


def redraw(name, overrides, seed):
    """A fresh draw of preset `name` (its init distribution) with `seed`: what `prune.reinit_kept` asks for."""
    return build(name, **{**overrides, "seed": seed})


def fresh(model, seed):
    """A fresh draw, with `seed`, of the preset `model` was built from, at `model`'s own widths (its
    `architecture()`): a structurally pruned network trained from scratch gets exactly the preset's init
    distribution at its own fan-ins, none of the inherited weights."""
    return build(model.name, **{**model.build_overrides, **model.architecture(), "seed": seed})


__all__ = ["build", "fresh", "PRESETS", "INPUT", "STUDY_LAYERS", "mlp", "MLP", "lenet5", "vgg", "conv4",
           "ConvNet", "resnet", "ResNet"]
