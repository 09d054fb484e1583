"""Pooling and reshaping layers: MaxPool2d, AvgPool2d, GlobalAvgPool2d, Flatten."""
from ..backend import get_array_module
from .im2col import batch_major_view, channel_major, col2im, padded, windows
from .module import FixedBackward


class MaxPool2d(FixedBackward):
    """y[n, c, i, j] = max of the (k×k) window at (i·s, j·s) of x (padded with −inf).

    x: (N, C, H, W) -> y: (N, C, Ho, Wo). The k·k kernel offsets are strided views of the input (no copy),
    so the max is k·k − 1 elementwise `maximum`s of whole views. The gradient goes to the first maximal
    entry of each window (as PyTorch's argmax does): in backward, offset r receives dy where its view
    equals y and no earlier offset did; col2im adds the offsets back where windows overlap.
    """

    def __init__(self, kernel_size=2, stride=None, padding=0):
        self.k, self.stride, self.padding = kernel_size, stride or kernel_size, padding

    def forward(self, x):
        xp = get_array_module(x)
        w = windows(padded(channel_major(x), self.padding, -xp.inf), self.k, self.k, self.stride)
        y = w[0, 0].copy()                                                    # (C, N, Ho, Wo)
        for r in range(1, self.k * self.k):
            xp.maximum(y, w[r // self.k, r % self.k], out=y)
        self.w, self.y, self.x_shape = w, y, x.shape                          # kept for backward
        return batch_major_view(y)

    def backward(self, dy, input_grad=True):
        xp = get_array_module(dy)
        dyc = channel_major(dy)
        n, c, h, w = self.x_shape
        k, s = self.k, self.stride
        tiles = s == k and self.padding == 0 and h % k == 0 and w % k == 0   # windows tile x exactly
        out = xp.empty((c, n, h, w), dtype=dy.dtype) if tiles else xp.empty((k * k,) + self.y.shape, dtype=dy.dtype)
        taken = xp.zeros(self.y.shape, dtype=bool)
        for r in range(k * k):
            i, j = divmod(r, k)
            hit = self.w[i, j] == self.y
            hit &= ~taken                                                     # first maximal entry only
            taken |= hit
            xp.multiply(hit, dyc, out=out[:, :, i::k, j::k] if tiles else out[r])   # tiles: straight into dx
        if tiles:
            return batch_major_view(out)
        return col2im(out.reshape(k * k, -1), self.x_shape, k, k, s, self.padding, *self.y.shape[2:])

    # R-operator: the routing is held (each window's first maximal entry), so R{y} takes R{x} from there
    def r_forward(self, rx):
        xp = get_array_module(rx)
        rw = windows(padded(channel_major(rx), self.padding, 0), self.k, self.k, self.stride)
        ry = xp.zeros_like(self.y)
        taken = xp.zeros(self.y.shape, dtype=bool)
        for r in range(self.k * self.k):
            i, j = divmod(r, self.k)
            hit = self.w[i, j] == self.y
            hit &= ~taken
            taken |= hit
            ry += hit * rw[i, j]
        return batch_major_view(ry)

    def __repr__(self):
        return f"MaxPool2d({self.k}, stride={self.stride})"


class AvgPool2d(FixedBackward):
    """y[n, c, i, j] = mean of the (k×k) window (zero padding counted, as PyTorch's default)."""

    def __init__(self, kernel_size=2, stride=None, padding=0):
        self.k, self.stride, self.padding = kernel_size, stride or kernel_size, padding

    def forward(self, x):
        w = windows(padded(channel_major(x), self.padding), self.k, self.k, self.stride)
        y = w[0, 0].copy()
        for r in range(1, self.k * self.k):                                   # sum of the k·k offset views
            y += w[r // self.k, r % self.k]
        y /= self.k * self.k
        self.x_shape, self.out_hw = x.shape, y.shape[2:]
        return batch_major_view(y)

    def backward(self, dy, input_grad=True):
        xp = get_array_module(dy)
        share = channel_major(dy).reshape(1, -1) / (self.k * self.k)           # each input gets 1/k² of dy
        dcols = xp.broadcast_to(share, (self.k * self.k, share.shape[1]))
        return col2im(dcols, self.x_shape, self.k, self.k, self.stride, self.padding, *self.out_hw)

    def r_forward(self, rx):                              # linear in x: R{y} = pool(R{x})
        return self.forward(rx)

    def __repr__(self):
        return f"AvgPool2d({self.k}, stride={self.stride})"


class GlobalAvgPool2d(FixedBackward):
    """y[n, c] = mean over (h, w) of x[n, c].   (N, C, H, W) -> (N, C)."""

    def forward(self, x):
        self.x_shape = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, dy, input_grad=True):
        xp = get_array_module(dy)
        n, c, h, w = self.x_shape
        return xp.broadcast_to((dy / (h * w))[:, :, None, None], self.x_shape).copy()

    def r_forward(self, rx):                              # linear in x
        return self.forward(rx)

    def __repr__(self):
        return "GlobalAvgPool2d()"


class Flatten(FixedBackward):
    """(N, C, H, W) -> (N, C·H·W) in C order, as torch.flatten(x, 1)."""

    def forward(self, x):
        self.x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy, input_grad=True):
        return dy.reshape(self.x_shape)

    def r_forward(self, rx):
        return rx.reshape(rx.shape[0], -1)

    def __repr__(self):
        return "Flatten()"
