"""The singular values of a convolution layer as a linear map (Sedghi, Gupta, Long, ICLR 2019).

A stride-1 convolution with **circular** padding on n×n images is a doubly block-circulant operator: the 2-D
Fourier transform diagonalizes it by frequency, so its singular values are those of the out × in matrices

    K̂(u, v) = Σ_{a, b} k[:, :, a, b] · exp(−2πi (u·a + v·b) / n),      u, v = 0 … n − 1,

one small SVD per frequency: n²·min(out, in) values instead of one SVD of an (out·n²) × (in·n²) matrix.

With **zero** padding (minidi's `Conv2d`, PyTorch's default) the operator is only block-Toeplitz: the pixels at
the border see zeros where the circular one wraps around, so its singular values are close to these for large n
(the border is a fraction ~4k/n of the pixels) but not equal; `tests/test_convspectra.py` shows both against the
dense matrix of a small layer.

A **stride-s** convolution (s | n) is a stride-1 one on the s² polyphase sub-images of side n/s (pixel (s·i + r,
s·j + q) of channel c becomes pixel (i, j) of channel (c, r, q): a permutation, so no singular value changes), with
the kernel k'[o, (c, r, q), a, b] = k[o, c, s·a + r, s·b + q] (zero past the kernel's edge): `strided_singular_values`.

`layer_spectra` applies this to every layer of a CNN, in the order of its pruning plan: the conv as a linear map
of its own input (BatchNorm and the activation after it not included), at the side its input has in the network.
"""
import numpy as np

from ..backend import to_numpy
from ..errors import MinidiError, check_number
from ..nn import Conv2d
from ..nn.checks import check_batch, conv_input_sizes, plan_of
from .layerspectra import KEYS
from .spectrum import jsv_stats


def circular_singular_values(kernel, n):
    """The singular values (descending) of the stride-1, circularly padded convolution with `kernel`
    (out, in, kh, kw) on n×n inputs, as one float64 NumPy array of n²·min(out, in) values."""
    k = np.asarray(to_numpy(kernel), dtype=np.float64)
    if k.ndim != 4:
        raise MinidiError(f"a convolution kernel is (out, in, kh, kw), got shape {k.shape}")
    n = check_number(n, "the image side n", low=max(k.shape[2], k.shape[3]), integer=True)
    freq = np.fft.fft2(k, s=(n, n), axes=(2, 3))                   # (out, in, n, n): K̂ at every frequency
    per_frequency = np.linalg.svd(freq.transpose(2, 3, 0, 1), compute_uv=False)   # (n, n, min(out, in))
    return np.sort(per_frequency.ravel())[::-1]


def layer_singular_values(conv, n):
    """`circular_singular_values` of a minidi `Conv2d` (its weight; stride 1 only: the Fourier diagonalization
    needs translation invariance)."""
    if getattr(conv, "stride", 1) not in (1, (1, 1)):
        raise MinidiError(f"the FFT spectrum needs a stride-1 convolution, this one has stride {conv.stride}")
    return circular_singular_values(conv.weight.data, n)


def strided_singular_values(kernel, n, stride=1):
    """The singular values (descending) of the circularly padded convolution with `kernel` and `stride` on n×n
    inputs: `circular_singular_values` of the polyphase kernel on the (n/stride)² sub-images (see above)."""
    k = np.asarray(to_numpy(kernel), dtype=np.float64)
    s = check_number(stride, "stride", low=1, integer=True)
    if s == 1:
        return circular_singular_values(k, n)
    if k.ndim != 4 or n % s:
        raise MinidiError(f"a stride-{s} spectrum needs a (out, in, kh, kw) kernel and a side n divisible by {s}, got "
                          f"shape {k.shape} and n = {n}")
    out, cin, kh, kw = k.shape
    ph, pw = -(-kh // s) * s, -(-kw // s) * s
    k = np.pad(k, ((0, 0), (0, 0), (0, ph - kh), (0, pw - kw)))
    k = k.reshape(out, cin, ph // s, s, pw // s, s).transpose(0, 1, 3, 5, 2, 4).reshape(out, cin * s * s, ph // s, pw // s)
    return circular_singular_values(k, n // s)


def layer_spectra(model, x):
    """Per weight layer of the plan, in forward order: {"layer", "local": `jsv_stats` of its singular values}: a
    conv's by the FFT (circular padding, at its input's side in the network: `nn.checks.conv_input_sizes` for
    samples shaped as x's), a Linear's by an SVD of W."""
    check_batch(model, x[:1], what="the probe batch")
    sides = {k: h for k, (h, w) in conv_input_sizes(model, x.shape[1:]).items()}
    rows = []
    for e in plan_of(model):
        w = e.layer.weight.data
        if isinstance(e.layer, Conv2d):
            s = strided_singular_values(w, sides[id(e.layer)], e.layer.stride)
        else:
            s = np.linalg.svd(np.asarray(to_numpy(w), dtype=np.float64), compute_uv=False)
        rows.append({"layer": e.name, "local": jsv_stats(s)})
    return rows


def supports(model):
    """Whether `layer_spectra` applies: a network with a convolution in its plan."""
    return any(isinstance(e.layer, Conv2d) for e in plan_of(model))


class ConvLayerMonitor:
    """A `fit` callback: each epoch's row gains "layers", the per-layer FFT spectra (summarized to `KEYS`)."""

    def __init__(self, x):
        self.x = x

    def measure(self, model):
        return [{"layer": r["layer"], "local": {k: r["local"][k] for k in KEYS}} for r in layer_spectra(model, self.x)]

    def on_epoch_end(self, model, row):
        row["layers"] = self.measure(model)
