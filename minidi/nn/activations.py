"""Elementwise activations: y = φ(x), dL/dx = dL/dy · φ'(x)."""
from ..backend import get_array_module
from .module import Module


class ReLU(Module):
    """y = max(x, 0);  φ'(x) = 1 if x > 0 else 0."""

    def forward(self, x):
        self.y = get_array_module(x).maximum(x, 0)
        return self.y

    def backward(self, dy, input_grad=True):
        return dy * (self.y > 0)

    def __repr__(self):
        return "ReLU()"


class LeakyReLU(Module):
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

    def __repr__(self):
        return f"LeakyReLU({self.negative_slope})"


class Tanh(Module):
    """y = tanh(x);  φ'(x) = 1 − y²."""

    def forward(self, x):
        self.y = get_array_module(x).tanh(x)
        return self.y

    def backward(self, dy, input_grad=True):
        return dy * (1 - self.y * self.y)

    def __repr__(self):
        return "Tanh()"
