"""Dropout: zero each activation with probability p in training, scale the rest by 1/(1 − p)."""
from ..backend import get_array_module, rng
from .module import FixedBackward


class Dropout(FixedBackward):
    """y = x · m / (1 − p), m ~ Bernoulli(1 − p) in training; y = x in eval mode.

    The masks are drawn on the host by a NumPy generator seeded at construction (and moved to the device),
    so a seed gives the same masks on CPU and GPU.
    """

    def __init__(self, p=0.5, seed=0):
        if not 0 <= p < 1:
            from ..errors import MinidiError
            raise MinidiError(f"dropout probability must be in [0, 1), got {p}")
        self.p, self.rng = p, rng(seed)

    def forward(self, x):
        if not self.training or self.p == 0:
            self.scale = None
            return x
        xp = get_array_module(x)
        keep = self.rng.random(x.shape) >= self.p
        self.scale = xp.asarray(keep.astype(x.dtype) / (1 - self.p))
        return x * self.scale

    def backward(self, dy, input_grad=True):
        return dy if self.scale is None else dy * self.scale

    def r_forward(self, rx):                              # the mask of the forward pass is held
        return self.backward(rx)

    def __repr__(self):
        return f"Dropout({self.p})"
