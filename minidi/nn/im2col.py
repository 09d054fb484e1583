"""im2col and col2im: turning a convolution into one matrix product, and its adjoint.

Shapes are PyTorch's: x (N, C, H, W). For a kernel (kh, kw), stride s and zero padding p the output has
Ho = (H + 2p − kh)//s + 1 rows and Wo columns, and output pixel (n, y, x) sees the window
x_pad[n, :, y·s : y·s+kh, x·s : x·s+kw].

Memory layout (the one speed decision of the conv engine): the convolution layers keep their activations
in *channel-major* memory, (C, N, H, W) order, and hand them on as transposed views with the logical shape
(N, C, H, W). Then
  * `windows` is a strided view (kh, kw, C, N, Ho, Wo) whose last three axes are whole (N, Ho, Wo) planes,
    so im2col's one copy moves long contiguous runs;
  * the matrix product W·cols yields (O, N·Ho·Wo), which already *is* the next activation in
    channel-major order: no transpose;
  * col2im adds each kernel offset's (C, N, Ho, Wo) block with contiguous reads and writes.
Rows of cols are ordered (i, j, c): kernel offset first, then channel; `Conv2d` reorders W to match.
col2im loops over the kh·kw kernel offsets (9 or 25 slice-adds over the whole batch), never over pixels.

Stride 1 has a faster form, `im2col_rows`: flatten each padded image to one row of Hp·Wp values; the
windows of kernel offset (i, j) for *all* Ho·Wp positions (y, x) are then one contiguous run starting at
i·Wp + j. Columns x ≥ Wo are wrap-around junk, computed and dropped (Wp/Wo − 1 extra work), but every copy
moves runs of Ho·Wp values instead of Wo — several times faster in NumPy. (Stride-1 "same" layers need no
col2im at all: `Conv2d` computes their dx as a convolution of dy.)
"""
from ..backend import get_array_module


def channel_major(x):
    """x (N, C, H, W) as a contiguous (C, N, H, W) array: free when x is already a view of one."""
    return get_array_module(x).ascontiguousarray(x.transpose(1, 0, 2, 3))


def batch_major_view(a):
    """(C, N, H, W) memory → the logical (N, C, H, W) array, as a view (no copy)."""
    return a.transpose(1, 0, 2, 3)


def padded(xc, padding, value=0.0):
    """Pad the spatial axes of a channel-major array (C, N, H, W) by `padding` on every side."""
    if padding == 0:
        return xc
    xp = get_array_module(xc)
    c, n, h, w = xc.shape
    out = xp.full((c, n, h + 2 * padding, w + 2 * padding), value, dtype=xc.dtype)
    out[:, :, padding:padding + h, padding:padding + w] = xc
    return out


def windows(xc, kh, kw, stride):
    """All (kh, kw) windows of a channel-major (C, N, Hp, Wp) array: a strided view (kh, kw, C, N, Ho, Wo)."""
    xp = get_array_module(xc)
    c, n, hp, wp = xc.shape
    ho, wo = (hp - kh) // stride + 1, (wp - kw) // stride + 1
    sc, sn, sh, sw = xc.strides
    return xp.lib.stride_tricks.as_strided(
        xc, shape=(kh, kw, c, n, ho, wo), strides=(sh, sw, sc, sn, sh * stride, sw * stride))


def im2col_cm(xc, kh, kw, stride, padding, value=0.0):
    """cols (kh·kw·C, N·Ho·Wo) of a channel-major xc (C, N, H, W): column r holds the window of output
    pixel r, rows in (i, j, c) order. Returns cols and (Ho, Wo)."""
    w = windows(padded(xc, padding, value), kh, kw, stride)
    ho, wo = w.shape[-2:]
    return w.reshape(kh * kw * w.shape[2], -1), (ho, wo)


def col2im_cm(dcols, c, n, h, w, kh, kw, stride, padding, ho, wo):
    """The adjoint of im2col_cm: dcols (kh·kw·C, N·Ho·Wo) → dx (C, N, H, W), channel-major, summing the
    gradients of overlapping windows."""
    xp = get_array_module(dcols)
    d = dcols.reshape(kh, kw, c, n, ho, wo)
    dx = xp.zeros((c, n, h + 2 * padding, w + 2 * padding), dtype=dcols.dtype)
    for i in range(kh):                          # kernel offsets only, each a whole-batch slice-add
        for j in range(kw):
            dx[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride] += d[i, j]
    return dx[:, :, padding:padding + h, padding:padding + w] if padding else dx


def col2im(dcols, x_shape, kh, kw, stride, padding, ho, wo):
    """col2im_cm, returned as a logical (N, C, H, W) view."""
    n, c, h, w = x_shape
    return batch_major_view(col2im_cm(dcols, c, n, h, w, kh, kw, stride, padding, ho, wo))


def _flat_padded(xc, padding, kw):
    """(C, N, Hp·Wp + kw − 1): each zero-padded image flattened, with kw − 1 zeros after it so that the
    last window run stays inside the row."""
    xp = get_array_module(xc)
    c, n, h, w = xc.shape
    hp, wp = h + 2 * padding, w + 2 * padding
    buf = xp.zeros((c, n, hp * wp + kw - 1), dtype=xc.dtype)
    _images(buf, hp, wp)[:, :, padding:padding + h, padding:padding + w] = xc
    return buf, hp, wp


def _images(buf, hp, wp):
    """The (C, N, Hp, Wp) images inside a flat-row buffer (C, N, Hp·Wp + extra), as a view (always a view:
    it is written through)."""
    xp = get_array_module(buf)
    sc, sn, sp = buf.strides
    return xp.lib.stride_tricks.as_strided(buf, shape=buf.shape[:2] + (hp, wp), strides=(sc, sn, wp * sp, sp))


def im2col_rows(xc, kh, kw, padding):
    """Stride-1 im2col over full padded rows: cols (kh·kw·C, N·Ho·Wp); columns with x ≥ Wo are junk."""
    xp = get_array_module(xc)
    buf, hp, wp = _flat_padded(xc, padding, kw)
    c, n = xc.shape[:2]
    ho = hp - kh + 1
    sc, sn, sp = buf.strides
    runs = xp.lib.stride_tricks.as_strided(buf, shape=(kh, kw, c, n, ho * wp), strides=(wp * sp, sp, sc, sn, sp))
    return runs.reshape(kh * kw * c, n * ho * wp), (ho, wp)
