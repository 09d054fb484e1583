"""Batch normalization over the batch (and spatial) axes, with running statistics."""
import numpy as np

from ..backend import get_array_module
from .module import Module
from .parameter import Parameter


class _BatchNorm(Module):
    """y = γ · (x − μ) / √(σ² + ε) + β, per channel.

    Training: μ, σ² are the batch statistics over `axes` (σ² biased); the running estimates follow
    r ← (1 − m)·r + m·batch value, with the *unbiased* variance, as PyTorch does. Eval: μ, σ² = running ones.
    Backward (training), with x̂ = (x − μ)/√(σ² + ε), n values per channel and g = dy·γ:
        dx = (g − mean(g) − x̂ · mean(g · x̂)) / √(σ² + ε);   dγ = Σ dy·x̂;   dβ = Σ dy.
    In eval mode μ, σ² are constants: dx = g / √(σ² + ε).
    """

    axes = ()
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

    def _shape(self, v, ndim):
        return v.reshape((1, -1) + (1,) * (ndim - 2))

    def forward(self, x):
        xp = get_array_module(x)
        if self.training:
            mean, var = x.mean(axis=self.axes), x.var(axis=self.axes)
            n = x.size // self.num_features
            m = self.momentum
            self.running_mean = (1 - m) * self.running_mean + m * mean.astype(self.running_mean.dtype)
            self.running_var = (1 - m) * self.running_var + m * (var * n / max(n - 1, 1)).astype(self.running_var.dtype)
            self.num_batches_tracked = self.num_batches_tracked + 1
        else:
            mean, var = self.running_mean, self.running_var
        self.inv_std = self._shape(1 / xp.sqrt(var + self.eps), x.ndim)
        self.xhat = (x - self._shape(mean, x.ndim)) * self.inv_std            # kept for backward
        self.used_batch_stats = self.training
        return self.xhat * self._shape(self.weight.data, x.ndim) + self._shape(self.bias.data, x.ndim)

    def backward(self, dy, input_grad=True):
        if self.weight.requires_grad:
            self.weight.accumulate((dy * self.xhat).sum(axis=self.axes))
            self.bias.accumulate(dy.sum(axis=self.axes))
        if not input_grad:
            return None
        g = dy * self._shape(self.weight.data, dy.ndim)
        if not self.used_batch_stats:
            return g * self.inv_std
        mean_g = g.mean(axis=self.axes, keepdims=True)
        mean_gx = (g * self.xhat).mean(axis=self.axes, keepdims=True)
        return (g - mean_g - self.xhat * mean_gx) * self.inv_std

    def __repr__(self):
        return f"{type(self).__name__}({self.num_features})"


class BatchNorm1d(_BatchNorm):
    """x: (N, C), statistics over N."""
    axes = (0,)


class BatchNorm2d(_BatchNorm):
    """x: (N, C, H, W), statistics over N, H and W."""
    axes = (0, 2, 3)
