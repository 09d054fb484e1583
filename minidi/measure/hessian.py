"""Exact Hessian-vector products of the loss by Pearlmutter's R-operator, through the engine by hand.

For a direction v on the weights, R{f} = d/dr f(θ + r v) at r = 0. Applying R to every step of forward and
backward gives, in one extra forward and backward pass (no finite difference, no autograd),

    H v = R{∇_θ L},      L(θ) = CE(f(x; θ) / T, y), the mean over the batch.

Each layer carries its own rules beside its forward and backward (`r_forward`, `r_backward` in `minidi.nn`):
    Linear / Conv2d   R{y} = R{x} Wᵀ + x Vᵀ;   R{∇W} = R{δ}ᵀ x + δᵀ R{x};   R{δ_in} = R{δ} W + δ V
                      (a convolution is the same bilinear map on im2col columns)
    ReLU, LeakyReLU, max-pool   the gate / the routing is held (second derivative 0, also exactly at a kink)
    Tanh              R{y} = φ' R{x};   R{δ_in} = φ' R{δ} + φ'' R{x} δ
    BatchNorm         train mode: the batch mean and variance move with the weights (their R terms are part of
                      H); eval mode: constants
    pooling, flatten, dropout, shortcuts   linear in x: the same map applied to R{x} and R{δ}
    softmax CE        R{δ_z} = (diag p − p pᵀ) R{z} / (N T²)   (δ_z = (p − onehot)/(N T), p = softmax(z/T))
The cross terms (δᵀ R{x} in the weight gradient, δ V in the backward pass) are kept: this is the full
Hessian, not the Gauss–Newton matrix.

Held fixed: biases and BatchNorm's γ, β carry no direction, and only the weight blocks of H v are returned
(H is the weight block H_WW, as GraSP uses it). Pruned weights (mask 0) neither move nor get curvature:
H v is restricted to the kept weights. Everything runs on a float64 copy of the model, in the model's own
mode (or `training`), so the model itself is never touched.

    Hessian(model, x, y)      the operator: forward and δ computed once; `H @ v` costs one R-forward and one
                              R-backward (the curvature lens applies it many times)
    hvp(model, x, y, v)       {weight name: (H v) block}, one product
"""
import copy
from collections.abc import Mapping

import numpy as np

from ..backend import get_array_module
from ..errors import MinidiError, check_number
from ..nn import SoftmaxCrossEntropy
from ..nn.checks import check_batch, prunable as weight_parameters


class Hessian:
    """The Hessian of L(θ) = CE(model(x)/T, y) with respect to the weights, as an operator: `H @ v`."""

    def __init__(self, model, x, y, temperature=1.0, training=None):
        check_batch(model, x, y)
        check_number(temperature, "temperature", low=0, low_open=True)
        self.model = copy.deepcopy(model).astype(np.float64)
        self.model.train(model.training if training is None else training)
        self.model.zero_grad()
        self.weights = weight_parameters(self.model)
        self.temperature = float(temperature)
        loss = SoftmaxCrossEntropy()
        self.logits = self.model.forward(x.astype(np.float64))
        self.loss = float(loss.forward(self.logits / self.temperature, y))
        self.probs = loss.probs                                           # softmax(z / T)
        self.dz = loss.backward() / self.temperature                      # δ_z = (p − onehot) / (N T)

    def gradient(self):
        """{weight name: ∇L}, by the engine's backward on the same copy and batch."""
        self.model.zero_grad()
        self.model.backward(self.dz, input_grad=False)
        return {k: p.grad.copy() for k, p in self.weights.items()}

    def __matmul__(self, v):
        """{weight name: (H v) block} for a direction v = {weight name: array} (missing names: 0)."""
        if not isinstance(v, Mapping):
            raise MinidiError(f"hvp: v must be a dict {{weight name: array}}, got {type(v).__name__}")
        unknown = [k for k in v if k not in self.weights]
        if unknown:
            raise MinidiError(f"hvp: no weight named {unknown[0]} (the weights are {', '.join(self.weights)})")
        for p in self.model.parameters():
            p.direction, p.r_grad = None, None
        for k, p in self.weights.items():
            if k in v:
                direction = _real_direction(k, v[k], get_array_module(p.data))
                if tuple(direction.shape) != tuple(p.shape):
                    raise MinidiError(f"hvp: v[{k!r}] has shape {tuple(direction.shape)}, the weight {tuple(p.shape)}")
                p.direction = direction * p.mask if p.mask is not None else direction
        rz = self.model.r_forward(None)                                   # the input does not move: R{x} = 0
        t, n = self.temperature, len(self.logits)
        ru = rz / t                                                       # R{z / T}
        rdz = self.probs * (ru - (self.probs * ru).sum(axis=1, keepdims=True)) / (n * t)
        self.model.r_backward(self.dz, rdz, input_grad=False)
        xp = get_array_module(self.logits)
        return {k: (p.r_grad if p.r_grad is not None else xp.zeros_like(p.data)) for k, p in self.weights.items()}


def _real_direction(name, value, xp):
    """v[name] as a float64 array on the weights' device: real numbers, finite, or one MinidiError."""
    kind = getattr(getattr(value, "dtype", None), "kind", None)
    if kind is None:
        try:
            kind = np.asarray(value).dtype.kind
        except Exception:
            kind = "O"
    if kind not in "biuf":
        raise MinidiError(f"hvp: v[{name!r}] must hold real numbers, got dtype kind {kind!r}")
    direction = xp.asarray(value, dtype=np.float64)
    if not bool(xp.isfinite(direction).all()):
        raise MinidiError(f"hvp: v[{name!r}] holds NaN or infinite values")
    return direction


def hvp(model, x, y, v, temperature=1.0, training=None):
    """{weight name: (H v) block}, float64 on the model's device: the exact Hessian-vector product of the
    cross-entropy of model(x)/T against y (see the module docstring); the model is left untouched."""
    return Hessian(model, x, y, temperature, training) @ v
