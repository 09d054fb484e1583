"""The readable convolution: the equation of `Conv2d`, one kernel offset at a time, with no chunking, no memory
layout tricks and no special cases. It computes what `Conv2d` computes (a test checks both to 1e-12) and is
the one to read first; `Conv2d` is the same sum, reorganized for speed.

    y[n, o, h, w] = b[o] + Σ_c Σ_i Σ_j W[o, c, i, j] · x_pad[n, c, s·h + i, s·w + j]

For each kernel offset (i, j), the strided window x_pad[:, :, i::s, j::s] (cut to Ho × Wo) is the input seen
by weight W[:, :, i, j]; so forward is kh·kw small matrix products, and backward is their transposes:

    dW[o, c, i, j] = Σ_{n,h,w} dy[n, o, h, w] · window_ij[n, c, h, w]
    dx_pad[:, :, window ij] += Σ_o W[o, c, i, j] · dy[n, o, h, w]      (then the padding is cut off)
    db[o] = Σ_{n,h,w} dy[n, o, h, w]
"""
from ..backend import get_array_module
from .module import Module
from .parameter import Parameter


class ReferenceConv2d(Module):
    """x: (N, C, H, W) → y: (N, O, Ho, Wo); W: (O, C, kh, kw); b: (O,) or None; stride s, zero padding p."""

    def __init__(self, weight, bias=None, stride=1, padding=0):
        self.weight = Parameter(weight)
        self.bias = Parameter(bias) if bias is not None else None
        self.stride, self.padding = stride, padding

    def _windows(self, shape):
        """((i, j), slice of rows, slice of columns) of every kernel offset, in x_pad of `shape` (N, C, Hp, Wp)."""
        _, _, kh, kw = self.weight.shape
        s = self.stride
        ho, wo = (shape[2] - kh) // s + 1, (shape[3] - kw) // s + 1
        for i in range(kh):
            for j in range(kw):
                yield (i, j), slice(i, i + s * (ho - 1) + 1, s), slice(j, j + s * (wo - 1) + 1, s)

    def forward(self, x):
        xp = get_array_module(x)
        p = self.padding
        self.x_pad = xp.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        y = 0
        for (i, j), rows, cols in self._windows(self.x_pad.shape):
            y = y + xp.einsum("nchw,oc->nohw", self.x_pad[:, :, rows, cols], self.weight.data[:, :, i, j])
        return y + self.bias.data[:, None, None] if self.bias is not None else y

    def backward(self, dy, input_grad=True):
        xp = get_array_module(dy)
        dx_pad, dw = xp.zeros_like(self.x_pad), xp.zeros_like(self.weight.data)
        for (i, j), rows, cols in self._windows(self.x_pad.shape):
            dw[:, :, i, j] = xp.einsum("nohw,nchw->oc", dy, self.x_pad[:, :, rows, cols])
            dx_pad[:, :, rows, cols] += xp.einsum("nohw,oc->nchw", dy, self.weight.data[:, :, i, j])
        self.weight.accumulate(dw)
        if self.bias is not None:
            self.bias.accumulate(dy.sum(axis=(0, 2, 3)))
        p, (h, w) = self.padding, dx_pad.shape[2:]
        return dx_pad[:, :, p:h - p, p:w - p] if input_grad else None
