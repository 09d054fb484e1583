"""Elementwise activations: y = φ(x), dL/dx = dL/dy · φ'(x)."""
from ..backend import get_array_module
from .module import FixedBackward, Module


class ReLU(Module):
    """y = max(x, 0);  φ'(x) = 1 if x > 0 else 0."""

    def forward(self, x):
        self.y = get_array_module(x).maximum(x, 0)
        return self.y

    def backward(self, dy, input_grad=True):
        return dy * (self.y > 0)

    # R-operator: the gate is held (φ'' = 0, also at x = 0, where φ'(0) = 0 as in backward and in autograd)
    def r_forward(self, rx):
        return rx * (self.y > 0)                          # R{y} = φ'(x) R{x}

    def r_backward(self, dy, rdy, input_grad=True):
        gate = self.y > 0
        return dy * gate, rdy * gate                      # δ_in = φ'δ,  R{δ_in} = φ' R{δ}

    def __repr__(self):
        return "ReLU()"


class LeakyReLU(FixedBackward):
    """y = x if x > 0 else slope·x;  φ'(x) = 1 or slope."""

    def __init__(self, negative_slope=0.01):
        self.negative_slope = negative_slope

    def forward(self, x):
        xp = get_array_module(x)
        self.positive = x > 0
        return xp.where(self.positive, x, x * self.negative_slope)

    def backward(self, dy, input_grad=True):
        xp = get_array_module(dy)
        return xp.where(self.positive, dy, dy * self.negative_slope)

    def r_forward(self, rx):                              # piecewise linear: the slope is held
        return self.backward(rx)

    def __repr__(self):
        return f"LeakyReLU({self.negative_slope})"


class Tanh(Module):
    """y = tanh(x);  φ'(x) = 1 − y²."""

    def forward(self, x):
        self.y = get_array_module(x).tanh(x)
        return self.y

    def backward(self, dy, input_grad=True):
        return dy * (1 - self.y * self.y)

    # R-operator: φ'' = −2 y (1 − y²) is not 0, so R{δ_in} has a second term
    def r_forward(self, rx):
        self.ry = (1 - self.y * self.y) * rx              # R{y} = (1 − y²) R{x}
        return self.ry

    def r_backward(self, dy, rdy, input_grad=True):
        """δ_in = (1 − y²) δ;   R{δ_in} = (1 − y²) R{δ} − 2 y R{y} δ."""
        slope = 1 - self.y * self.y
        return dy * slope, rdy * slope - 2 * self.y * self.ry * dy

    def __repr__(self):
        return "Tanh()"
