"""Linear (fully connected) layer and Identity."""
from ..backend import get_array_module
from ..errors import MinidiError
from .module import Module
from .parameter import Parameter


class Linear(Module):
    """y = x Wᵀ + b.   x: (N, in) -> y: (N, out);  W: (out, in), as PyTorch stores it; b: (out,).

    Construct it from arrays (see `minidi.nn.init` and `minidi.models` for how they are drawn).
    """

    def __init__(self, weight, bias=None):
        self.weight = Parameter(weight)
        self.bias = Parameter(bias) if bias is not None else None
        if weight.ndim != 2 or (bias is not None and tuple(bias.shape) != (weight.shape[0],)):
            raise MinidiError(f"Linear takes a weight (out, in) and a bias (out,), got {tuple(weight.shape)} and "
                              f"{None if bias is None else tuple(bias.shape)}")

    @property
    def in_features(self):
        return self.weight.shape[1]

    @property
    def out_features(self):
        return self.weight.shape[0]

    def forward(self, x):
        if getattr(x, "ndim", None) != 2 or x.shape[1] != self.in_features:
            raise MinidiError(f"Linear({self.in_features}, {self.out_features}) takes x of shape (N, "
                              f"{self.in_features}), got {getattr(x, 'shape', type(x).__name__)}")
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

    # R-operator (minidi.hvp): R{·} = d/dr (·)(θ + r·v), V the weight's direction, biases held fixed
    def r_forward(self, rx):                              # rx = R{x}: (N, in), None when x does not depend on θ
        """R{y} = R{x} Wᵀ + x Vᵀ."""
        self.rx = rx
        ry = self.x @ self.weight.direction.T if self.weight.direction is not None else None
        if rx is not None:
            ry = rx @ self.weight.data.T if ry is None else ry + rx @ self.weight.data.T
        if ry is None:                                    # neither x nor W moves along v
            ry = get_array_module(self.x).zeros((len(self.x), self.out_features), dtype=self.x.dtype)
        return ry

    def r_backward(self, dy, rdy, input_grad=True):       # dy = δ, rdy = R{δ}: (N, out)
        """R{∇W} = R{δ}ᵀ x + δᵀ R{x};   δ_in = δ W;   R{δ_in} = R{δ} W + δ V."""
        g = rdy.T @ self.x
        if self.rx is not None:
            g += dy.T @ self.rx
        self.weight.accumulate_r(g)
        if not input_grad:
            return None, None
        rdx = rdy @ self.weight.data
        if self.weight.direction is not None:
            rdx += dy @ self.weight.direction
        return dy @ self.weight.data, rdx

    def __repr__(self):
        return f"Linear(in={self.in_features}, out={self.out_features}, bias={self.bias is not None})"


class Identity(Module):
    """y = x (the 'activation' of a linear network)."""

    def forward(self, x):
        return x

    def backward(self, dy, input_grad=True):
        return dy

    def r_forward(self, rx):
        return rx

    def r_backward(self, dy, rdy, input_grad=True):
        return dy, rdy

    def __repr__(self):
        return "Identity()"
