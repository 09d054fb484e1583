"""2-D convolution by im2col + one matrix product."""
from ..backend import get_array_module
from .im2col import col2im, im2col
from .module import Module
from .parameter import Parameter


class Conv2d(Module):
    """y[n, o] = Σ_c W[o, c] ⋆ x_pad[n, c] + b[o]   (cross-correlation, stride s, zero padding p).

    x: (N, C, H, W) -> y: (N, O, Ho, Wo);  W: (O, C, kh, kw) as PyTorch stores it; b: (O,) or None.
    As matrices: cols = im2col(x) (N·Ho·Wo, C·kh·kw), Wm = W.reshape(O, C·kh·kw):
        forward   Y = cols Wmᵀ + b                       (N·Ho·Wo, O), then to (N, O, Ho, Wo)
        backward  dWm = dYᵀ cols,  db = Σ dY,  dcols = dY Wm,  dx = col2im(dcols)
    """

    def __init__(self, weight, bias=None, stride=1, padding=0):
        self.weight = Parameter(weight)
        self.bias = Parameter(bias) if bias is not None else None
        self.stride, self.padding = stride, padding

    @property
    def out_channels(self):
        return self.weight.shape[0]

    @property
    def in_channels(self):
        return self.weight.shape[1]

    @property
    def kernel_size(self):
        return self.weight.shape[2:]

    def forward(self, x):
        kh, kw = self.kernel_size
        cols, (ho, wo) = im2col(x, kh, kw, self.stride, self.padding)
        self.cols, self.x_shape, self.out_hw = cols, x.shape, (ho, wo)      # kept for backward
        y = cols @ self.weight.data.reshape(self.out_channels, -1).T
        if self.bias is not None:
            y += self.bias.data
        return get_array_module(y).ascontiguousarray(y.reshape(x.shape[0], ho, wo, -1).transpose(0, 3, 1, 2))

    def backward(self, dy, input_grad=True):                  # dy: (N, O, Ho, Wo)
        xp = get_array_module(dy)
        dy_mat = xp.ascontiguousarray(dy.transpose(0, 2, 3, 1)).reshape(-1, self.out_channels)   # (N·Ho·Wo, O)
        if self.weight.requires_grad:
            self.weight.accumulate((dy_mat.T @ self.cols).reshape(self.weight.shape))           # dW = dYᵀ cols
            if self.bias is not None:
                self.bias.accumulate(dy_mat.sum(axis=0))
        if not input_grad:
            return None
        kh, kw = self.kernel_size
        dcols = dy_mat @ self.weight.data.reshape(self.out_channels, -1)                        # dcols = dY Wm
        return col2im(dcols, self.x_shape, kh, kw, self.stride, self.padding, *self.out_hw)

    def __repr__(self):
        kh, kw = self.kernel_size
        return (f"Conv2d({self.in_channels}, {self.out_channels}, kernel=({kh}, {kw}), stride={self.stride}, "
                f"padding={self.padding}, bias={self.bias is not None})")
