"""2-D convolution by im2col + one matrix product, over cache-sized chunks of the batch."""
import numpy as np

from ..backend import get_array_module
from .im2col import batch_major_view, channel_major, col2im_cm, col2im_rows, im2col_cm, im2col_rows
from .module import Module
from .parameter import Parameter


class Conv2d(Module):
    """y[n, o] = Σ_c W[o, c] ⋆ x_pad[n, c] + b[o]   (cross-correlation, stride s, zero padding p).

    x: (N, C, H, W) -> y: (N, O, Ho, Wo);  W: (O, C, kh, kw) as PyTorch stores it; b: (O,) or None.
    As matrices, with cols = im2col(x) (kh·kw·C, N·Ho·Wo) and Wm = W reordered to (O, kh·kw·C):
        forward   Y = Wm cols + b                         (O, N·Ho·Wo) = y in channel-major memory
        backward  dWm = dY colsᵀ,  db = Σ dY,  dcols = Wmᵀ dY,  dx = col2im(dcols)
    (see `minidi.nn.im2col` for the memory layout; the arrays returned have PyTorch's logical shapes).

    Speed: cols is kh·kw times larger than x. On the CPU the batch is processed in chunks whose cols fit in
    the cache (`chunk_bytes`), and backward rebuilds each chunk's cols instead of keeping them all: the
    matrix products then read cols from cache, not from memory. On the GPU the whole batch is one chunk.
    Small layers (cols of the whole batch ≤ `keep_bytes`) keep forward's cols for backward instead.
    Stride-1 layers use the full-row im2col (`im2col_rows`) when its junk columns cost less than half again.
    """

    chunk_bytes = 4 << 20
    keep_bytes = 16 << 20

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
        return tuple(self.weight.shape[2:])

    def _wm(self):
        """W (O, C, kh, kw) as the matrix (O, kh·kw·C) whose columns follow the (i, j, c) rows of cols."""
        w = self.weight.data
        return get_array_module(w).ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(w.shape[0], -1)

    def _chunks(self, xc, ho, wo):
        """Slices of the batch axis whose cols take about chunk_bytes each (one slice on the GPU)."""
        n = xc.shape[1]
        if get_array_module(xc) is not np:
            return [slice(0, n)]
        per_image = self.weight.data[0].size * ho * wo * xc.itemsize
        step = max(1, self.chunk_bytes // per_image)
        return [slice(i, min(i + step, n)) for i in range(0, n, step)]

    def _out_hw(self, h, w):
        kh, kw = self.kernel_size
        return ((h + 2 * self.padding - kh) // self.stride + 1, (w + 2 * self.padding - kw) // self.stride + 1)

    def _rows(self, w):
        """Use the full-row im2col? Stride 1 and at most 50% junk columns (Wp ≤ 1.5·Wo)."""
        wp = w + 2 * self.padding
        return self.stride == 1 and 2 * wp <= 3 * (wp - self.kernel_size[1] + 1)

    def _cols(self, xc):
        """cols of a channel-major chunk and the width of its output rows (Wp for the row form, else Wo)."""
        kh, kw = self.kernel_size
        if self._rows(xc.shape[3]):
            cols, (_, width) = im2col_rows(xc, kh, kw, self.padding)
        else:
            cols, (_, width) = im2col_cm(xc, kh, kw, self.stride, self.padding)
        return cols, width

    def forward(self, x):
        xp = get_array_module(x)
        kh, kw = self.kernel_size
        self.xc, self.wm = channel_major(x), self._wm()                   # kept for backward
        c, n, h, w = self.xc.shape
        ho, wo = self._out_hw(h, w)
        y = xp.empty((self.out_channels, n, ho, wo), dtype=x.dtype)
        keep = self.training and self.weight.requires_grad and \
            self.weight.data[0].size * n * ho * (w + 2 * self.padding) * x.itemsize <= self.keep_bytes
        self.kept_cols = [] if keep else None
        for part in self._chunks(self.xc, ho, wo):
            cols, width = self._cols(self.xc[:, part])
            y[:, part] = (self.wm @ cols).reshape(self.out_channels, -1, ho, width)[..., :wo]    # Y = Wm cols
            if keep:
                self.kept_cols.append(cols)
        if self.bias is not None:
            y += self.bias.data[:, None, None, None]
        return batch_major_view(y)

    def backward(self, dy, input_grad=True):                  # dy: (N, O, Ho, Wo)
        xp = get_array_module(dy)
        o, c, kh, kw = self.weight.shape
        dyc = channel_major(dy)                                               # (O, N, Ho, Wo), usually free
        _, n, ho, wo = dyc.shape
        h, w = self.xc.shape[2:]
        need_w = self.weight.requires_grad
        dwm = xp.zeros_like(self.wm) if need_w else None
        dx = xp.empty_like(self.xc) if input_grad else None
        rows = self._rows(w)
        width = w + 2 * self.padding if rows else wo
        for k, part in enumerate(self._chunks(self.xc, ho, wo)):
            m = len(range(n)[part])
            if rows:
                dy_mat = xp.zeros((o, m, ho, width), dtype=dy.dtype)         # junk columns stay 0
                dy_mat[..., :wo] = dyc[:, part]
            else:
                dy_mat = xp.ascontiguousarray(dyc[:, part])
            dy_mat = dy_mat.reshape(o, -1)                                    # (O, n·Ho·width)
            if need_w:
                cols = self.kept_cols[k] if self.kept_cols else self._cols(self.xc[:, part])[0]   # or rebuilt
                dwm += dy_mat @ cols.T                                        # dWm = dY colsᵀ
            if input_grad:
                dcols = self.wm.T @ dy_mat                                    # dcols = Wmᵀ dY
                dx[:, part] = (col2im_rows(dcols, c, m, h, w, kh, kw, self.padding) if rows else
                               col2im_cm(dcols, c, m, h, w, kh, kw, self.stride, self.padding, ho, wo))
        if need_w:
            self.weight.accumulate(xp.ascontiguousarray(dwm.reshape(o, kh, kw, c).transpose(0, 3, 1, 2)))
            if self.bias is not None:
                self.bias.accumulate(dyc.sum(axis=(1, 2, 3)))
        return batch_major_view(dx) if input_grad else None

    def __repr__(self):
        kh, kw = self.kernel_size
        return (f"Conv2d({self.in_channels}, {self.out_channels}, kernel=({kh}, {kw}), stride={self.stride}, "
                f"padding={self.padding}, bias={self.bias is not None})")
