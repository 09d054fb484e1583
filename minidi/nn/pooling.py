"""Pooling and reshaping layers: MaxPool2d, AvgPool2d, GlobalAvgPool2d, Flatten."""
from ..backend import get_array_module
from .im2col import col2im, pad, windows
from .module import Module


def _channels_first(a):
    """(N, Ho, Wo, C) → (N, C, Ho, Wo), contiguous."""
    return get_array_module(a).ascontiguousarray(a.transpose(0, 3, 1, 2))


class MaxPool2d(Module):
    """y[n, c, i, j] = max of the (k×k) window at (i·s, j·s) of x (padded with −inf).

    x: (N, C, H, W) -> y: (N, C, Ho, Wo). The gradient flows to the first maximal entry of each window
    (the argmax, as in PyTorch); col2im adds it back where windows overlap.
    """

    def __init__(self, kernel_size=2, stride=None, padding=0):
        self.k, self.stride, self.padding = kernel_size, stride or kernel_size, padding

    def forward(self, x):
        xp = get_array_module(x)
        w = windows(xp.ascontiguousarray(pad(x, self.padding, -xp.inf)), self.k, self.k, self.stride)
        n, ho, wo, c = w.shape[:4]
        flat = w.reshape(n, ho, wo, c, self.k * self.k)          # one copy: every window as a row
        self.argmax = flat.argmax(axis=-1)                       # (N, Ho, Wo, C), kept for backward
        self.x_shape = x.shape
        return _channels_first(xp.take_along_axis(flat, self.argmax[..., None], axis=-1)[..., 0])

    def backward(self, dy, input_grad=True):
        xp = get_array_module(dy)
        n, ho, wo, c = self.argmax.shape
        onehot = self.argmax[..., None] == xp.arange(self.k * self.k)              # (N, Ho, Wo, C, k·k)
        dwin = onehot * dy.transpose(0, 2, 3, 1)[..., None]
        return col2im(dwin.reshape(n * ho * wo, -1), self.x_shape, self.k, self.k, self.stride, self.padding, ho, wo)

    def __repr__(self):
        return f"MaxPool2d({self.k}, stride={self.stride})"


class AvgPool2d(Module):
    """y[n, c, i, j] = mean of the (k×k) window (zero padding counted, as PyTorch's default)."""

    def __init__(self, kernel_size=2, stride=None, padding=0):
        self.k, self.stride, self.padding = kernel_size, stride or kernel_size, padding

    def forward(self, x):
        w = windows(get_array_module(x).ascontiguousarray(pad(x, self.padding)), self.k, self.k, self.stride)
        self.x_shape, self.out_hw = x.shape, w.shape[1:3]
        return _channels_first(w.mean(axis=(4, 5)))

    def backward(self, dy, input_grad=True):
        xp = get_array_module(dy)
        n, c = dy.shape[:2]
        ho, wo = self.out_hw
        share = dy.transpose(0, 2, 3, 1)[..., None, None] / (self.k * self.k)      # each input gets 1/k² of dy
        dwin = xp.broadcast_to(share, (n, ho, wo, c, self.k, self.k))
        return col2im(dwin.reshape(n * ho * wo, -1), self.x_shape, self.k, self.k, self.stride, self.padding, ho, wo)

    def __repr__(self):
        return f"AvgPool2d({self.k}, stride={self.stride})"


class GlobalAvgPool2d(Module):
    """y[n, c] = mean over (h, w) of x[n, c].   (N, C, H, W) -> (N, C)."""

    def forward(self, x):
        self.x_shape = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, dy, input_grad=True):
        xp = get_array_module(dy)
        n, c, h, w = self.x_shape
        return xp.broadcast_to((dy / (h * w))[:, :, None, None], self.x_shape).copy()

    def __repr__(self):
        return "GlobalAvgPool2d()"


class Flatten(Module):
    """(N, C, H, W) -> (N, C·H·W) in C order, as torch.flatten(x, 1)."""

    def forward(self, x):
        self.x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy, input_grad=True):
        return dy.reshape(self.x_shape)

    def __repr__(self):
        return "Flatten()"
