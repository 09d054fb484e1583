"""im2col and col2im: turning a convolution into one matrix product, and its adjoint.

For an input x (N, C, H, W), a kernel of size (kh, kw), stride s and zero padding p, the output has
Ho = (H + 2p − kh)//s + 1 rows and Wo columns. Every output pixel (n, i, j) sees the window
x_pad[n, :, i·s : i·s+kh, j·s : j·s+kw]. `windows` returns all of them as a *view* of shape
(N, Ho, Wo, C, kh, kw) made with strides (no copying, no loops); reshaping that view to a matrix
(N·Ho·Wo, C·kh·kw) is the one copy im2col makes.

col2im is the adjoint: each window's gradient is added back to where the window came from. Windows
overlap, so it loops over the kh·kw kernel offsets (9 or 25 strided slice-adds over the whole batch),
never over pixels.
"""
from ..backend import get_array_module


def out_size(size, k, stride, padding):
    return (size + 2 * padding - k) // stride + 1


def pad(x, padding, value=0.0):
    """Zero-pad (or `value`-pad) the last two axes of x (N, C, H, W) by `padding` on every side."""
    if padding == 0:
        return x
    xp = get_array_module(x)
    return xp.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=value)


def windows(x_padded, kh, kw, stride):
    """All (kh, kw) windows of x_padded (N, C, Hp, Wp) at the given stride: a view (N, Ho, Wo, C, kh, kw)."""
    xp = get_array_module(x_padded)
    n, c, hp, wp = x_padded.shape
    ho, wo = (hp - kh) // stride + 1, (wp - kw) // stride + 1
    sn, sc, sh, sw = x_padded.strides
    return xp.lib.stride_tricks.as_strided(
        x_padded, shape=(n, ho, wo, c, kh, kw), strides=(sn, sh * stride, sw * stride, sc, sh, sw))


def im2col(x, kh, kw, stride, padding):
    """cols (N·Ho·Wo, C·kh·kw): row r holds the window of output pixel r, in (c, i, j) order like W[o]."""
    xp = get_array_module(x)
    w = windows(xp.ascontiguousarray(pad(x, padding)), kh, kw, stride)
    n, ho, wo = w.shape[:3]
    return w.reshape(n * ho * wo, -1), (ho, wo)


def col2im(dcols, x_shape, kh, kw, stride, padding, ho, wo):
    """The adjoint of im2col: dcols (N·Ho·Wo, C·kh·kw) → dx (N, C, H, W), summing overlapping windows."""
    xp = get_array_module(dcols)
    n, c, h, w = x_shape
    d = dcols.reshape(n, ho, wo, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)   # (N, C, kh, kw, Ho, Wo), a view
    dx = xp.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=dcols.dtype)
    for i in range(kh):                         # kernel offsets only: kh·kw slice-adds over the whole batch
        for j in range(kw):
            dx[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride] += d[:, :, i, j]
    return dx[:, :, padding:padding + h, padding:padding + w] if padding else dx
