"""Batch normalization over the batch (and spatial) axes, with running statistics."""
import numpy as np

from ..backend import get_array_module
from .im2col import batch_major_view, channel_major
from .module import Module
from .parameter import Parameter


class _BatchNorm(Module):
    """y = γ · (x − μ) / √(σ² + ε) + β, per channel.

    Training: μ, σ² are the batch statistics of each channel (σ² biased); the running estimates follow
    r ← (1 − m)·r + m·batch value, with the *unbiased* variance, as PyTorch does. Eval: μ, σ² = running ones.
    Backward (training), with x̂ = (x − μ)/√(σ² + ε), M values per channel, s = γ/√(σ² + ε):
        dγ = Σ dy·x̂;   dβ = Σ dy;   dx = s · (dy − dβ/M − x̂ · dγ/M).
    In eval mode μ, σ² are constants: dx = s · dy.
    All of it runs on a (C, M) view of the channel-major memory (`channels`), one row per channel.
    """

    buffer_names = ("running_mean", "running_var", "num_batches_tracked")

    def __init__(self, num_features, eps=1e-5, momentum=0.1, dtype=np.float32):
        self.weight = Parameter(np.ones(num_features, dtype=dtype))
        self.bias = Parameter(np.zeros(num_features, dtype=dtype))
        self.running_mean = np.zeros(num_features, dtype=dtype)
        self.running_var = np.ones(num_features, dtype=dtype)
        self.num_batches_tracked = np.zeros((), dtype=np.int64)
        self.eps, self.momentum = eps, momentum

    @property
    def num_features(self):
        return self.weight.shape[0]

    def forward(self, x):
        xp = get_array_module(x)
        xc = self.channels(x)                                                 # (C, M)
        if self.training:
            mean = xc.mean(axis=1)
            centred = xc - mean[:, None]
            var = _row_dots(centred, centred) / xc.shape[1]                    # biased σ², from x − μ
            m, n = self.momentum, xc.shape[1]
            self.running_mean = (1 - m) * self.running_mean + m * mean.astype(self.running_mean.dtype)
            self.running_var = (1 - m) * self.running_var + m * (var * n / max(n - 1, 1)).astype(self.running_var.dtype)
            self.num_batches_tracked = self.num_batches_tracked + 1
        else:
            mean, var = self.running_mean, self.running_var
            centred = xc - mean[:, None]
        self.inv_std = 1 / xp.sqrt(var + self.eps)
        centred *= self.inv_std[:, None]
        self.xhat = centred                                                   # x̂, kept for backward
        self.used_batch_stats, self.x_shape = self.training, x.shape
        y = self.xhat * self.weight.data[:, None]
        y += self.bias.data[:, None]
        return self.restore(y)

    def backward(self, dy, input_grad=True):
        dyc = self.channels(dy)
        dgamma = _row_dots(dyc, self.xhat)
        dbeta = dyc.sum(axis=1)
        if self.weight.requires_grad:
            self.weight.accumulate(dgamma)
            self.bias.accumulate(dbeta)
        if not input_grad:
            return None
        s = (self.weight.data * self.inv_std)[:, None]
        if not self.used_batch_stats:
            return self.restore(dyc * s)
        m = dyc.shape[1]
        dx = self.xhat * (-dgamma / m)[:, None]              # dx = s · (dy − x̂ · dγ/M − dβ/M), one new array
        dx += dyc
        dx -= (dbeta / m)[:, None]
        dx *= s
        return self.restore(dx)

    # R-operator (minidi.hvp), γ and β held fixed. With batch statistics, μ and s = √(σ² + ε) move with the
    # weights below: R{s} = mean(x̂ R{x}) =: a, and R{x̂} = (R{x} − mean R{x} − x̂ a) / s (the symmetric Jacobian
    # of x ↦ x̂, the same map as backward's). In eval mode the statistics are constants: R{y} = γ R{x} / s.
    def r_forward(self, rx):
        rxc = self.channels(rx)
        if not self.used_batch_stats:
            return self.restore(rxc * (self.weight.data * self.inv_std)[:, None])
        m = rxc.shape[1]
        self.r_a = _row_dots(self.xhat, rxc) / m                           # a = R{s}, per channel
        self.r_xhat = (rxc - (rxc.sum(axis=1) / m)[:, None] - self.xhat * self.r_a[:, None]) * self.inv_std[:, None]
        return self.restore(self.r_xhat * self.weight.data[:, None])       # R{y} = γ R{x̂}

    def r_backward(self, dy, rdy, input_grad=True):
        """δ_in = γ/s · u,  u = δ − mean δ − x̂ mean(δ x̂);   R{δ_in} = γ/s · (R{u} − (a/s) u), with
        R{u} = R{δ} − mean R{δ} − R{x̂} mean(δ x̂) − x̂ (mean(R{δ} x̂) + mean(δ R{x̂}))."""
        g, rg = self.channels(dy), self.channels(rdy)
        s = (self.weight.data * self.inv_std)[:, None]
        if not self.used_batch_stats:
            return self.restore(g * s), self.restore(rg * s)
        m = g.shape[1]
        c = _row_dots(g, self.xhat) / m
        u = g - (g.sum(axis=1) / m)[:, None] - self.xhat * c[:, None]
        rc = (_row_dots(rg, self.xhat) + _row_dots(g, self.r_xhat)) / m
        ru = rg - (rg.sum(axis=1) / m)[:, None] - self.r_xhat * c[:, None] - self.xhat * rc[:, None]
        return self.restore(u * s), self.restore((ru - u * (self.r_a * self.inv_std)[:, None]) * s)

    def __repr__(self):
        return f"{type(self).__name__}({self.num_features})"


def _row_dots(a, b):
    """Σ_m a[c, m]·b[c, m] for each row c of two (C, M) arrays, as C (1, M)·(M, 1) matrix products: one pass,
    with BLAS's blocked accumulation (einsum's running float32 sum loses ~20× more precision at M = 10⁵)."""
    return (a[:, None, :] @ b[:, :, None])[:, 0, 0]


class BatchNorm1d(_BatchNorm):
    """x: (N, C), statistics over N."""

    def channels(self, x):
        return x.T                                     # (C, N), a view

    def restore(self, a):
        return a.T


class BatchNorm2d(_BatchNorm):
    """x: (N, C, H, W), statistics over N, H and W."""

    def channels(self, x):
        return channel_major(x).reshape(x.shape[1], -1)     # (C, N·H·W); free for conv outputs

    def restore(self, a):
        return batch_major_view(a.reshape(self.x_shape[1], self.x_shape[0], *self.x_shape[2:]))
