"""The singular values of a convolution layer as a linear map (Sedghi, Gupta, Long, ICLR 2019).

A stride-1 convolution with **circular** padding on n×n images is a doubly block-circulant operator: the 2-D
Fourier transform diagonalizes it by frequency, so its singular values are those of the out × in matrices

    K̂(u, v) = Σ_{a, b} k[:, :, a, b] · exp(−2πi (u·a + v·b) / n),      u, v = 0 … n − 1,

one small SVD per frequency: n²·min(out, in) values instead of one SVD of an (out·n²) × (in·n²) matrix.

With **zero** padding (minidi's `Conv2d`, PyTorch's default) the operator is only block-Toeplitz: the pixels at
the border see zeros where the circular one wraps around, so its singular values are close to these for large n
(the border is a fraction ~4k/n of the pixels) but not equal; `tests/test_convspectra.py` shows both against the
dense matrix of a small layer.
"""
import numpy as np

from ..backend import to_numpy
from ..errors import MinidiError, check_number


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
