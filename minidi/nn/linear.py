"""Linear (fully connected) layer and Identity."""
from ..backend import get_array_module
from .module import Module
from .parameter import Parameter


class Linear(Module):
    """y = x Wᵀ + b.   x: (N, in) -> y: (N, out);  W: (out, in), as PyTorch stores it; b: (out,).

    Construct it from arrays (see `minidi.nn.init` and `minidi.models` for how they are drawn).
    """

    def __init__(self, weight, bias=None):
        self.weight = Parameter(weight)
        self.bias = Parameter(bias) if bias is not None else None

    @property
    def in_features(self):
        return self.weight.shape[1]

    @property
    def out_features(self):
        return self.weight.shape[0]

    def forward(self, x):
        self.x = x                                        # kept for backward
        y = x @ self.weight.data.T
        if self.bias is not None:
            y += self.bias.data
        return y

    def backward(self, dy, input_grad=True):              # dy = dL/dy: (N, out)
        if self.weight.requires_grad:
            self.weight.accumulate(dy.T @ self.x)                        # dL/dW = dyᵀ x
            if self.bias is not None:
                self.bias.accumulate(dy.sum(axis=0))                     # dL/db = Σ_n dy_n
        return dy @ self.weight.data if input_grad else None             # dL/dx = dy W

    def __repr__(self):
        return f"Linear(in={self.in_features}, out={self.out_features}, bias={self.bias is not None})"


class Identity(Module):
    """y = x (the 'activation' of a linear network)."""

    def forward(self, x):
        return x

    def backward(self, dy, input_grad=True):
        return dy

    def __repr__(self):
        return "Identity()"
