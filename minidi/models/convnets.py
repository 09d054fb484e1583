"""Plain convolutional networks: LeNet-5 (as the core study defines it), CIFAR VGG-11/16/19, conv4.

A `ConvNet` is `features` (a Sequential of conv/BN/activation/pool layers), a flatten, and `classifier`
(a Linear or a Sequential), so the state_dict names are those of the PyTorch model written with the same
attributes: `features.0.weight`, `features.1.running_mean`, `classifier.weight`, ...
"""
import numpy as np

from ..backend import rng as backend_rng
from ..errors import MinidiError
from ..nn import ACTIVATIONS, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential
from ..nn import init as initializers
from .plan import chain_plan


class ConvNet(Module):
    """x (N, C, H, W) → features → flatten → classifier → logits (N, classes)."""

    chain = True              # the k-th activation follows the k-th weight layer (minidi.models.plan)

    def __init__(self, features, classifier, act="relu", width_option=None, side=None):
        self.act, self.width_option = act, width_option
        self.side = side          # the image side the classifier is sized for (the builders: 32), None if unstated
        self.features = features
        self.flatten = Flatten()
        self.classifier = classifier

    def forward(self, x):
        return self.classifier.forward(self.flatten.forward(self.features.forward(x)))

    def backward(self, dy, input_grad=True):
        return self.features.backward(self.flatten.backward(self.classifier.backward(dy)), input_grad)

    def r_forward(self, rx):
        return self.classifier.r_forward(self.flatten.r_forward(self.features.r_forward(rx)))

    def r_backward(self, dy, rdy, input_grad=True):
        return self.features.r_backward(*self.flatten.r_backward(*self.classifier.r_backward(dy, rdy)), input_grad)

    @property
    def sample_shape(self):
        """(C, H, W) of one input image: C from the first convolution itself, H = W = `side` (None if unstated)."""
        return None if self.side is None else (self.pruning_plan()[0].layer.in_channels, self.side, self.side)

    def cut_points(self):
        """[(name, [modules])] whose composition is `forward`: each conv of `features` with what follows it up to
        the next conv (its BN, activation, pooling), then flatten and the classifier; the cut points of the
        partial products (`minidi.measure.partialproducts`), each named by its conv."""
        out = []
        for i, m in enumerate(self.features.layers):
            if isinstance(m, Conv2d) or not out:
                out.append((f"features.{i}", [m]))
            else:
                out[-1][1].append(m)
        return out + [("classifier", [self.flatten, self.classifier])]

    @property
    def widths(self):
        """Output units of each weight layer (filters, then neurons)."""
        return [e.layer.weight.shape[0] for e in self.pruning_plan()]

    def architecture(self):
        """The builder's options that give this network's own widths (LeNet-5's `channels`); other ConvNets
        have no such option."""
        if self.width_option is None:
            raise MinidiError("this network cannot be rebuilt at other widths (it was not built by a minidi builder)")
        return {self.width_option: self.widths[:-1]}

    def pruning_plan(self):
        named = [(f"features.{i}", m) for i, m in enumerate(self.features.layers)]
        if isinstance(self.classifier, Sequential):
            named += [(f"classifier.{i}", m) for i, m in enumerate(self.classifier.layers)]
        else:
            named.append(("classifier", self.classifier))
        return chain_plan(named)

    def __repr__(self):
        return f"ConvNet({len(self.pruning_plan())} weight layers, act={self.act})"


class Init:
    """Draws the weights of one model: Kaiming-normal (fan_in) weights, PyTorch's default biases."""

    def __init__(self, seed, act="relu", dtype=np.float32, init="kaiming-normal"):
        if init not in initializers.INITIALIZERS:
            raise MinidiError(f"unknown init {init!r}: choose one of {', '.join(initializers.INITIALIZERS)}")
        self.rng, self.act, self.dtype, self.init = backend_rng(seed), act, dtype, init

    def weight(self, shape):
        if self.init == "kaiming-normal":
            gain = "relu" if self.act == "relu" else "linear"
            return initializers.kaiming_normal(shape, self.rng, nonlinearity=gain, mode="fan_in", dtype=self.dtype)
        return initializers.INITIALIZERS[self.init](shape, self.rng, dtype=self.dtype)

    def bias(self, shape):
        return initializers.bias_uniform(initializers.fans(shape)[0], shape[0], self.rng, self.dtype)

    def conv(self, cin, cout, k, stride=1, padding=0, bias=True):
        shape = (cout, cin, k, k)
        return Conv2d(self.weight(shape), self.bias(shape) if bias else None, stride, padding)

    def linear(self, fan_in, fan_out):
        shape = (fan_out, fan_in)
        return Linear(self.weight(shape), self.bias(shape))

    def bn(self, channels):
        return BatchNorm2d(channels, dtype=self.dtype)


def lenet5(act="relu", in_channels=1, n_classes=10, seed=0, dtype=np.float32, init="kaiming-normal",
           channels=(6, 16, 120, 84)):
    """conv1 6@5×5 → act → maxpool 2 → conv2 16@5×5 → act → maxpool 2 → conv3 120@5×5 → act → flatten →
    fc1 120→84 → act → fc2 84→10, on 32×32 input. act = "linear" keeps the max-pools (piecewise linear).
    channels: the widths of conv1, conv2, conv3, fc1 (another set builds the same network at those widths)."""
    if act not in ACTIVATIONS:
        raise MinidiError(f"unknown activation {act!r}")
    if len(channels) != 4:
        raise MinidiError(f"LeNet-5 has 4 hidden widths (conv1, conv2, conv3, fc1), got {len(channels)}")
    a = ACTIVATIONS[act]
    i = Init(seed, act, dtype, init)
    c1, c2, c3, f1 = (int(c) for c in channels)
    features = Sequential(i.conv(in_channels, c1, 5), a(), MaxPool2d(2), i.conv(c1, c2, 5), a(), MaxPool2d(2),
                          i.conv(c2, c3, 5), a())
    return ConvNet(features, Sequential(i.linear(c3, f1), a(), i.linear(f1, n_classes)), act, width_option="channels",
                   side=32)


VGG_CONFIGS = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def _conv_widths(name, default, channels):
    """The conv widths of a plain CNN: the preset's `default`, or `channels` (one positive count per conv)."""
    if channels is None:
        return list(default)
    if len(channels) != len(default) or any(int(c) < 1 for c in channels):
        raise MinidiError(f"{name} has {len(default)} convolutions: channels must be {len(default)} positive counts, "
                          f"got {list(channels)}")
    return [int(c) for c in channels]


def vgg(depth=16, in_channels=3, n_classes=10, seed=0, dtype=np.float32, init="kaiming-normal", channels=None):
    """CIFAR VGG: 3×3 convs (no bias) each followed by BatchNorm and ReLU, 2×2 max-pools, one Linear 512→classes.
    channels: the width of each conv (default the configuration's: a filter-pruned VGG at its own widths)."""
    if depth not in VGG_CONFIGS:
        raise MinidiError(f"VGG depth must be one of {sorted(VGG_CONFIGS)}, got {depth}")
    widths = iter(_conv_widths(f"VGG-{depth}", [v for v in VGG_CONFIGS[depth] if v != "M"], channels))
    i = Init(seed, "relu", dtype, init)
    layers, c = [], in_channels
    for v in VGG_CONFIGS[depth]:
        if v == "M":
            layers.append(MaxPool2d(2))
        else:
            v = next(widths)
            layers += [i.conv(c, v, 3, padding=1, bias=False), i.bn(v), ReLU()]
            c = v
    return ConvNet(Sequential(*layers), i.linear(c, n_classes), width_option="channels", side=32)


def conv4(in_channels=3, n_classes=10, seed=0, dtype=np.float32, init="kaiming-normal", channels=None):
    """A small CNN for 32×32 input: (conv-BN-ReLU)×2 → maxpool → (conv-BN-ReLU)×2 → maxpool → Linear 64·8·8→classes.
    channels: the four conv widths (default 32, 32, 64, 64)."""
    c1, c2, c3, c4 = _conv_widths("conv4", (32, 32, 64, 64), channels)
    i = Init(seed, "relu", dtype, init)
    features = Sequential(i.conv(in_channels, c1, 3, padding=1, bias=False), i.bn(c1), ReLU(),
                          i.conv(c1, c2, 3, padding=1, bias=False), i.bn(c2), ReLU(), MaxPool2d(2),
                          i.conv(c2, c3, 3, padding=1, bias=False), i.bn(c3), ReLU(),
                          i.conv(c3, c4, 3, padding=1, bias=False), i.bn(c4), ReLU(), MaxPool2d(2))
    return ConvNet(features, i.linear(c4 * 8 * 8, n_classes), width_option="channels", side=32)
