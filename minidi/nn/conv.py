"""2-D convolution by im2col + one matrix product, over cache-sized chunks of the batch."""
import numpy as np

from ..backend import get_array_module
from .im2col import batch_major_view, channel_major, col2im_cm, im2col_cm, im2col_rows
from .module import Module
from .parameter import Parameter


class Conv2d(Module):
    """y[n, o] = Σ_c W[o, c] ⋆ x_pad[n, c] + b[o]   (cross-correlation, stride s, zero padding p).

    x: (N, C, H, W) -> y: (N, O, Ho, Wo);  W: (O, C, kh, kw) as PyTorch stores it; b: (O,) or None.
    As matrices, with cols = im2col(x) (kh·kw·C, N·Ho·Wo) and Wm = W reordered to (O, kh·kw·C):
        forward   Y = Wm cols + b                         (O, N·Ho·Wo) = y in channel-major memory
        backward  db = Σ dY, and in general   dWm = dY colsᵀ,   dx = col2im(Wmᵀ dY).
    "Same" layers (stride 1, k×k kernel, padding (k − 1)/2: every 3×3 conv of a ResNet) use instead
        dx = conv(dy, W̃, padding k − 1 − p),   W̃[c, o, i, j] = W[o, c, k−1−i, k−1−j],
    the same sum as col2im (each dx pixel gathers W-weighted dy from the outputs whose windows cover it;
    flipping the kernel lists those outputs as one window of dy), computed as a forward convolution. With
    cols' = im2col of the padded dy (rows (i, j, o), a column per x pixel): dx = W̃m cols' and also
    dW̃m = X cols'ᵀ (X = x as (C, N·H·W)), so one im2col serves both gradients and its product has a k²·O
    inner dimension instead of O, without col2im's k² scatter-adds.
    (See `minidi.nn.im2col` for the memory layout; the arrays returned have PyTorch's logical shapes.)

    Speed: cols is kh·kw times larger than x. On the CPU the batch is processed in chunks whose cols fit in
    the cache (`chunk_bytes`), and backward rebuilds each chunk's cols instead of keeping them all: the
    matrix products then read cols from cache, not from memory. On the GPU the whole batch is one chunk.
    Small layers (cols of the whole batch ≤ `keep_bytes`) keep forward's cols for a backward that takes the
    general route (or the first layer's, which skips dx) instead of rebuilding them. Stride-1 layers use the full-row im2col (`im2col_rows`) when its junk columns cost
    less than half again.
    """

    chunk_bytes = 4 << 20
    keep_bytes = 16 << 20

    def __init__(self, weight, bias=None, stride=1, padding=0):
        self.weight = Parameter(weight)
        self.bias = Parameter(bias) if bias is not None else None
        self.stride, self.padding = stride, padding

    out_channels = property(lambda self: self.weight.shape[0], doc="O, the number of filters")
    in_channels = property(lambda self: self.weight.shape[1], doc="C, the input channels")
    kernel_size = property(lambda self: tuple(self.weight.shape[2:]), doc="(kh, kw)")

    def _wm(self):
        """W (O, C, kh, kw) as the matrix (O, kh·kw·C) whose columns follow the (i, j, c) rows of cols."""
        w = self.weight.data
        return get_array_module(w).ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(w.shape[0], -1)

    def _flipped_wm(self):
        """W̃ as a matrix (C, kh·kw·O): W̃[c, (i, j, o)] = W[o, c, kh−1−i, kw−1−j]."""
        w = self.weight.data
        return get_array_module(w).ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 2, 3, 0)).reshape(w.shape[1], -1)

    def output_size(self, h, w):
        """(Ho, Wo) of the output for an (H, W) input."""
        kh, kw = self.kernel_size
        return _out_len(h, kh, self.stride, self.padding), _out_len(w, kw, self.stride, self.padding)

    def _by_convolution(self):
        """Is dx computed as a convolution of dy? For "same" convolutions: stride 1, square odd kernel,
        padding (k − 1)/2, so that dx's convolution does exactly the work of forward's. (With less padding
        it would also be exact, but it would compute H·W rather than Ho·Wo outputs' worth of products:
        25× more for a 5×5 kernel on a 5×5 input, where col2im is cheaper.)"""
        kh, kw = self.kernel_size
        return self.stride == 1 and kh == kw and 2 * self.padding == kh - 1

    def _chunks(self, xc, col_bytes_per_image):
        """Slices of the batch axis whose cols take about chunk_bytes each (one slice on the GPU)."""
        n = xc.shape[1]
        if get_array_module(xc) is not np:
            return [slice(0, n)]
        step = max(1, self.chunk_bytes // col_bytes_per_image)
        return [slice(i, min(i + step, n)) for i in range(0, n, step)]

    def _geometry(self, xc, stride, padding):
        """Output size (Ho, Wo), the width of cols' output rows (Wp for the row form, else Wo), bytes of
        cols per image."""
        c, _, h, w = xc.shape
        kh, kw = self.kernel_size
        ho, wo = _out_len(h, kh, stride, padding), _out_len(w, kw, stride, padding)
        wp = w + 2 * padding
        rows = stride == 1 and 2 * wp <= 3 * wo                 # full rows: at most 50% junk columns
        width = wp if rows else wo
        return (ho, wo), width, c * kh * kw * ho * width * xc.itemsize

    def _cols(self, xc, stride, padding, width, wo):
        kh, kw = self.kernel_size
        if width != wo:
            return im2col_rows(xc, kh, kw, padding)[0]
        return im2col_cm(xc, kh, kw, stride, padding)[0]

    def _convolve(self, xc, wm, stride, padding, kept=None):
        """Y = wm · im2col(xc) chunk by chunk: channel-major xc (C, N, H, W) -> y (O, N, Ho, Wo).
        Appends each chunk's cols to `kept` when given."""
        xp = get_array_module(xc)
        (ho, wo), width, per_image = self._geometry(xc, stride, padding)
        y = xp.empty((wm.shape[0], xc.shape[1], ho, wo), dtype=xc.dtype)
        for part in self._chunks(xc, per_image):
            cols = self._cols(xc[:, part], stride, padding, width, wo)
            y[:, part] = (wm @ cols).reshape(wm.shape[0], -1, ho, width)[..., :wo]
            if kept is not None:
                kept.append(cols)
        return y

    def forward(self, x):
        self.xc = channel_major(x)                                          # kept for backward
        _, width, per_image = self._geometry(self.xc, self.stride, self.padding)
        keep = self.training and self.weight.requires_grad and per_image * self.xc.shape[1] <= self.keep_bytes
        self.kept_cols = [] if keep else None
        y = self._convolve(self.xc, self._wm(), self.stride, self.padding, self.kept_cols)
        if self.bias is not None:
            y += self.bias.data[:, None, None, None]
        return batch_major_view(y)

    def backward(self, dy, input_grad=True):                  # dy: (N, O, Ho, Wo)
        dyc = channel_major(dy)                                             # (O, N, Ho, Wo), usually free
        if input_grad and self._by_convolution():
            dx = self._gradients_by_convolution(dyc)                        # dx and dW from one im2col of dy
        else:
            if self.weight.requires_grad:
                self._weight_grad(dyc)
            dx = self._col2im_grad(dyc) if input_grad else None
        if self.bias is not None and self.weight.requires_grad:
            self.bias.accumulate(dyc.sum(axis=(1, 2, 3)))                   # db = Σ dY
        return batch_major_view(dx) if input_grad else None

    def _gradients_by_convolution(self, dyc):
        """"Same" layers: with cols = im2col of dy padded by k − 1 − p (rows (i, j, o), one column per x pixel),
            dx = W̃ · cols       and       dW̃ = X · colsᵀ,
        where X is x as a (C, N·H·W) matrix and dW̃ is dW flipped and transposed as W̃ is. One im2col per chunk
        serves both gradients, and forward's cols are never needed again."""
        xp = get_array_module(dyc)
        o, c, k, _ = self.weight.shape
        pad = k - 1 - self.padding
        (h, w), width, per_image = self._geometry(dyc, 1, pad)
        wt = self._flipped_wm()
        need_w = self.weight.requires_grad
        dwt = xp.zeros_like(wt) if need_w else None
        dx = xp.empty_like(self.xc)
        for part in self._chunks(dyc, per_image):
            cols = self._cols(dyc[:, part], 1, pad, width, w)
            dx[:, part] = (wt @ cols).reshape(c, -1, h, width)[..., :w]
            if need_w:
                dwt += _widened(self.xc[:, part], width).reshape(c, -1) @ cols.T
        if need_w:
            self.weight.accumulate(xp.ascontiguousarray(dwt.reshape(c, k, k, o).transpose(3, 0, 1, 2)[:, :, ::-1, ::-1]))
        return dx

    def _weight_grad(self, dyc):
        """dWm = Σ over chunks of dY colsᵀ, with cols of x (junk columns of the row form get dY = 0)."""
        xp = get_array_module(dyc)
        o, c, kh, kw = self.weight.shape
        (ho, wo), width, per_image = self._geometry(self.xc, self.stride, self.padding)
        dwm = xp.zeros((o, kh * kw * c), dtype=dyc.dtype)
        for k, part in enumerate(self._chunks(self.xc, per_image)):
            cols = self.kept_cols[k] if self.kept_cols else self._cols(self.xc[:, part], self.stride, self.padding,
                                                                         width, wo)
            dwm += _widened(dyc[:, part], width).reshape(o, -1) @ cols.T
        self.weight.accumulate(xp.ascontiguousarray(dwm.reshape(o, kh, kw, c).transpose(0, 3, 1, 2)))

    def _col2im_grad(self, dyc):
        """dx = col2im(Wmᵀ dY), chunk by chunk (every layer that is not "same")."""
        xp = get_array_module(dyc)
        kh, kw = self.kernel_size
        c, n, h, w = self.xc.shape
        _, _, ho, wo = dyc.shape
        wm = self._wm()
        dx = xp.empty_like(self.xc)
        for part in self._chunks(self.xc, c * kh * kw * ho * wo * dyc.itemsize):
            m = len(range(n)[part])
            dcols = wm.T @ xp.ascontiguousarray(dyc[:, part]).reshape(dyc.shape[0], -1)     # dcols = Wmᵀ dY
            dx[:, part] = col2im_cm(dcols, c, m, h, w, kh, kw, self.stride, self.padding, ho, wo)
        return dx

    # R-operator (minidi.hvp). A convolution is bilinear, y = B(x, W) + b, so every R term is this layer's own
    # forward or backward run with the direction V in place of W, or with R{x} in place of x (a "twin").
    def _twin(self, weight, xc, weight_grad=True):
        """This layer's geometry with another weight and another stored (channel-major) input."""
        twin = Conv2d(weight, None, self.stride, self.padding)
        twin.xc, twin.kept_cols, twin.weight.requires_grad = xc, None, weight_grad
        return twin

    def r_forward(self, rx):                              # rx = R{x}, None when x does not depend on θ
        """R{y} = B(R{x}, W) + B(x, V)."""
        xp = get_array_module(self.xc)
        self.rxc = None if rx is None else channel_major(rx)
        (ho, wo), _, _ = self._geometry(self.xc, self.stride, self.padding)
        ry = xp.zeros((self.out_channels, self.xc.shape[1], ho, wo), dtype=self.xc.dtype)
        if self.rxc is not None:
            ry += self._convolve(self.rxc, self._wm(), self.stride, self.padding)
        if self.weight.direction is not None:
            ry += self._convolve(self.xc, self._twin(self.weight.direction, self.xc)._wm(), self.stride, self.padding)
        return batch_major_view(ry)

    def r_backward(self, dy, rdy, input_grad=True):
        """R{∇W} = ∇_W B(x; R{δ}) + ∇_W B(R{x}; δ);   δ_in = ∇_x B(W; δ);   R{δ_in} = ∇_x B(W; R{δ}) + ∇_x B(V; δ)."""
        v = self.weight.direction
        first = self._twin(self.weight.data, self.xc)                      # W, with the stored x
        rdx = first.backward(rdy, input_grad)
        g = first.weight.grad
        if self.rxc is not None:                                           # the stored input moves too
            second = self._twin(self.weight.data if v is None else v, self.rxc)
            out = second.backward(dy, input_grad and v is not None)
            g = g + second.weight.grad
            if input_grad and v is not None:
                rdx = rdx + out
        elif input_grad and v is not None:
            rdx = rdx + self._twin(v, self.xc, weight_grad=False).backward(dy)
        self.weight.accumulate_r(g)
        if not input_grad:
            return None, None
        return self._twin(self.weight.data, self.xc, weight_grad=False).backward(dy), rdx

    def __repr__(self):
        kh, kw = self.kernel_size
        return (f"Conv2d({self.in_channels}, {self.out_channels}, kernel=({kh}, {kw}), stride={self.stride}, "
                f"padding={self.padding}, bias={self.bias is not None})")


def _widened(a, width):
    """A contiguous copy of a channel-major (C, n, H, W) array with zero columns appended up to `width`: the
    matrix that lines up with the columns of a full-row im2col (junk columns × 0 add nothing)."""
    xp = get_array_module(a)
    if a.shape[3] == width:
        return xp.ascontiguousarray(a)
    out = xp.zeros(a.shape[:3] + (width,), dtype=a.dtype)
    out[..., :a.shape[3]] = a
    return out


def _out_len(n, k, stride, padding):
    """Output length of a convolution along one axis: ⌊(n + 2p − k)/s⌋ + 1."""
    return (n + 2 * padding - k) // stride + 1
