"""Multi-layer perceptrons: MLP-7-Linear/ReLU of the core study, LeNet-300-100."""
import numpy as np

from ..backend import rng as backend_rng
from ..errors import MinidiError
from ..nn import ACTIVATIONS, Linear, Module, Sequential
from ..nn import init as initializers
from .plan import chain_plan


class MLP(Module):
    """A fully connected classifier: x (N, ...) is flattened to (N, D), then Linear → act → ... → Linear.

    `self.layers` holds the Linear layers *and* the activations (Identity for a linear network), so the
    weight of the k-th Linear layer is `layers.{2k}.weight`, exactly as in the PyTorch model
    `self.layers = nn.Sequential(nn.Linear(...), nn.ReLU(), nn.Linear(...), ...)`.
    """

    chain = True              # the k-th activation follows the k-th weight layer (minidi.models.plan)

    def __init__(self, layers, act):
        self.act = act
        self.layers = Sequential(*layers)
        self.sample_shape = (layers[0].in_features,) if isinstance(layers[0], Linear) else None

    def forward(self, x):
        self.input_shape = x.shape
        return self.layers.forward(x.reshape(x.shape[0], -1))

    def backward(self, dy, input_grad=True):
        dx = self.layers.backward(dy, input_grad=input_grad)
        return dx.reshape(self.input_shape) if input_grad else None

    def r_forward(self, rx):
        return self.layers.r_forward(None if rx is None else rx.reshape(rx.shape[0], -1))

    def r_backward(self, dy, rdy, input_grad=True):
        dx, rdx = self.layers.r_backward(dy, rdy, input_grad=input_grad)
        return (dx.reshape(self.input_shape), rdx.reshape(self.input_shape)) if input_grad else (None, None)

    def linear_layers(self):
        return [m for m in self.layers.layers if isinstance(m, Linear)]

    def pruning_plan(self):
        return chain_plan([(f"layers.{i}", m) for i, m in enumerate(self.layers.layers)])

    @property
    def widths(self):
        return [self.linear_layers()[0].in_features] + [m.out_features for m in self.linear_layers()]

    def architecture(self):
        """The builder's options that give this network's own widths (e.g. after structured pruning)."""
        return {"width": self.widths[1:-1]}

    @property
    def is_linear(self):
        """True when every activation is the identity: the network is then the affine map x Wᵀ + b."""
        return self.act in ("linear", "identity")

    def __repr__(self):
        return f"MLP(widths={self.widths}, act={self.act})"


def _linear_layer(fan_in, fan_out, rng, init, dtype, act):
    shape = (fan_out, fan_in)
    if init not in initializers.INITIALIZERS:
        raise MinidiError(f"unknown init {init!r}: choose one of {', '.join(initializers.INITIALIZERS)}")
    if init == "kaiming-normal":
        w = initializers.kaiming_normal(shape, rng, nonlinearity="relu" if act == "relu" else "linear",
                                        mode="fan_in", dtype=dtype)
    else:
        w = initializers.INITIALIZERS[init](shape, rng, dtype=dtype)
    b = initializers.bias_uniform(fan_in, fan_out, rng, dtype)   # PyTorch's default bias, whatever the weight init
    return Linear(w, b)


def mlp(depth, width, act="relu", in_dim=1024, n_classes=10, init="default", seed=0, dtype=np.float32):
    """An MLP with `depth` Linear layers: in_dim → width × (depth−1) → n_classes.

    width: an int (every hidden layer) or a list of depth−1 hidden widths (e.g. [300, 100]).
    act: "linear" (identity), "relu", "tanh" or "leaky_relu", after every layer but the last.
    init: "default" (PyTorch's kaiming-uniform a=√5), "kaiming-normal", "xavier-uniform", "xavier-normal",
          "orthogonal"; biases always U(±1/√fan_in).
    """
    if act not in ACTIVATIONS:
        raise MinidiError(f"unknown activation {act!r}: choose one of {', '.join(ACTIVATIONS)}")
    depth = int(depth)
    if depth < 1:
        raise MinidiError(f"depth must be at least 1, got {depth}")
    hidden = list(width) if isinstance(width, (list, tuple)) else [int(width)] * (depth - 1)
    if len(hidden) != depth - 1:
        raise MinidiError(f"{depth} layers need {depth - 1} hidden widths, got {len(hidden)}")
    dims = [int(in_dim)] + hidden + [int(n_classes)]
    rng = backend_rng(seed)
    layers = []
    for i in range(depth):
        layers.append(_linear_layer(dims[i], dims[i + 1], rng, init, dtype, act))
        if i < depth - 1:
            layers.append(ACTIVATIONS[act]())
    model = MLP(layers, act)
    model.init = init                     # how its weights were drawn: what `minidi.theory.spectrum_of` asks
    return model

