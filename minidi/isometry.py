"""Dynamical-isometry tools: OrthP, orthogonal init, approximate isometry, and the TPP regularizer.

OrthP (exact isometry recovery), for every weight matrix W (conv kernels flattened to (out, in·kh·kw)):
    A = Wᵀ if W is wide else W;  A = Q R (reduced QR);  Q[:, j] *= sign(R[j, j]);  W ← gain · (Qᵀ or Q).
For a linear MLP whose widths never grow after the first layer every W_l has orthonormal rows from layer 1 on
(and W_1 has too when it is wide), so J Jᵀ = W_L ⋯ W_1 W_1ᵀ ⋯ W_Lᵀ = I: every Jacobian singular value is 1.
"""
import math

import numpy as np

from .backend import device_of, get_array_module, to_device
from .backend import rng as backend_rng
from .nn.init import orthogonal, orthogonalize
from .models.plan import weight_layers
from .prune.structured import kept_units, l1_scores
from .prune.spec import parse_spec


def _matrix(w):
    """A weight array as a matrix (out, fan-in): conv kernels (out, in, kh, kw) are flattened (a view)."""
    return w.reshape(w.shape[0], -1)


def orthp(model, gain=1.0):
    """Replace every weight matrix by gain × its sign-fixed QR orthonormal factor, in place; biases untouched.

    gain: 1 for linear networks, √2 for ReLU networks. Masks, if any, are re-applied (which of course breaks
    exact orthogonality of a masked matrix). Returns the model.
    """
    for layer in weight_layers(model):
        w = layer.weight
        q = orthogonalize(_matrix(w.data).astype(get_array_module(w.data).float64))
        w.data = (gain * q).astype(w.data.dtype).reshape(w.shape)
        w.apply_mask()
    return model


def orthogonal_init(model, gain=1.0, seed=0):
    """Re-draw every weight matrix as a random (semi-)orthogonal matrix times gain (biases kept)."""
    rng = backend_rng(seed)
    device = None
    for layer in weight_layers(model):
        device = device or device_of(layer.weight.data)
        w = orthogonal(layer.weight.shape, rng, gain, dtype=layer.weight.data.dtype)
        layer.weight.data = to_device(w, device)
        layer.weight.apply_mask()
    return model


def isometry_loss(w):
    """‖W Wᵀ − I‖²_F for a wide (or square) W, ‖Wᵀ W − I‖²_F for a tall one; returns (loss, dloss/dW).

    d/dW ‖W Wᵀ − I‖² = 4 (W Wᵀ − I) W;   d/dW ‖Wᵀ W − I‖² = 4 W (Wᵀ W − I).
    The loss is a 0-d array on W's device (reading it with float() waits for the GPU).
    """
    xp = get_array_module(w)
    if w.shape[0] <= w.shape[1]:
        e = w @ w.T - xp.eye(w.shape[0], dtype=w.dtype)
        return (e * e).sum(), 4 * e @ w
    e = w.T @ w - xp.eye(w.shape[1], dtype=w.dtype)
    return (e * e).sum(), 4 * w @ e


def approximate_isometry(model, steps=10000, lr=1e-3, tol=1e-6, check_every=100, gain=1.0):
    """Lee et al. (ICLR 2020): per layer, minimise ‖W Wᵀ − I‖²_F with Adam, re-applying the mask each step;
    then W ← gain · W (gain √2 for ReLU networks, as OrthP's: the rows end orthogonal with norm gain).

    Stops a layer early when its loss falls below tol, read every `check_every` steps (the only times the
    device is waited for). Returns {layer index: (initial loss, final loss, steps)}, the losses before the gain.
    """
    from .nn import Parameter
    from .optim import Adam
    out = {}
    for i, layer in enumerate(weight_layers(model)):
        w = layer.weight
        shadow = Parameter(_matrix(w.data))              # a (out, fan-in) view of the same data
        if w.mask is not None:
            shadow.mask = w.mask.reshape(shadow.shape)
        opt = Adam([shadow], lr=lr)
        first = float(isometry_loss(shadow.data)[0])
        step = 0
        for step in range(1, steps + 1):
            loss, grad = isometry_loss(shadow.data)
            shadow.grad = shadow.mask * grad if shadow.mask is not None else grad
            opt.step()                              # Adam re-applies the mask after the update
            if step % check_every == 0 and float(loss) < tol:
                break
        out[i] = (first, float(isometry_loss(shadow.data)[0]), step)
        w.data = (gain * shadow.data if gain != 1.0 else shadow.data).reshape(w.shape)
    return out


class TPPRegularizer:
    """Trainability-preserving pruning (Wang & Fu, ICLR 2023), as a `fit` callback acting before each step.

    The units to prune are chosen by L1 once (`spec`), and kept fixed. For each pruned layer, with
    G = W Wᵀ and T = G with the pruned rows and columns zeroed (a constant), the loss gains
        1000·λ · mean((G − T)²)     → gradient 1000·λ · 4 (G − T) W / n²   (n = rows of W)
    and the pruned rows of W and b — and, on CNNs, the following BatchNorm's scale and shift of those
    channels — get the extra gradient λ·θ (a growing L2 penalty). λ grows by `step` every `every` iterations
    up to `lam_max`. After training, remove the pruned units with `prune_neurons`.
    steps_per_epoch: given, a resumed `fit` run restarts λ where it stood (iteration = epochs done × steps).
    """

    def __init__(self, model, spec, step=1e-4, every=10, lam_max=1.0, gram_weight=1000.0, steps_per_epoch=None):
        plan = model.pruning_plan()
        ratios = parse_spec(spec, plan)
        self.pruned = {}
        for i, entry in enumerate(plan):
            if ratios[i] > 0:
                keep = kept_units(l1_scores(entry.layer.weight.data), ratios[i])
                self.pruned[i] = np.setdiff1d(np.arange(entry.layer.weight.shape[0]), keep)
        self.step_size, self.every, self.lam_max, self.gram_weight = step, every, lam_max, gram_weight
        self.iteration, self.steps_per_epoch = 0, steps_per_epoch
        self._keep_cache = {}

    def on_resume(self, model, history):
        if self.steps_per_epoch:
            self.iteration = len(history) * self.steps_per_epoch

    @property
    def lam(self):
        return min(self.lam_max, self.step_size * (self.iteration // self.every))

    def _keep(self, i, w):
        """1 for the kept rows of layer i, 0 for the pruned ones, on w's device (made once, not every step)."""
        key = (i, w.dtype.str, type(w))
        if key not in self._keep_cache:
            keep = np.ones(w.shape[0], dtype=w.dtype)
            keep[self.pruned[i]] = 0
            self._keep_cache[key] = get_array_module(w).asarray(keep)
        return self._keep_cache[key]

    def penalty_and_grads(self, model):
        """(penalty, {layer index: (dW, {name: dθ})}) at the current λ; the penalty is a 0-d array on the
        model's device, so that `before_step`, which needs only the gradients, never waits for the GPU."""
        lam, total, grads = self.lam, 0.0, {}
        plan = model.pruning_plan()
        for i in self.pruned:
            layer, bn = plan[i].layer, plan[i].bn
            w = _matrix(layer.weight.data)
            g = w @ w.T
            keep = self._keep(i, w)
            e = g - g * keep[:, None] * keep[None, :]        # G − T: nonzero only in pruned rows/columns
            n2 = e.size
            total = total + self.gram_weight * lam * (e * e).sum() / n2
            dw = self.gram_weight * lam * 4 * (e @ w) / n2
            dw += lam * w * (1 - keep)[:, None]                 # growing L2 on the pruned rows
            total = total + 0.5 * lam * ((w * (1 - keep)[:, None]) ** 2).sum()
            l2 = {}                                             # growing L2 on the pruned units' other parameters
            for name, p in (("bias", layer.bias), ("bn_weight", bn and bn.weight), ("bn_bias", bn and bn.bias)):
                if p is not None:
                    l2[name] = lam * p.data * (1 - keep)
                    total = total + 0.5 * lam * ((p.data * (1 - keep)) ** 2).sum()
            grads[i] = (dw.reshape(layer.weight.shape), l2)
        return total, grads

    def before_step(self, model):
        """Add the regularizer's gradients to the parameters' grads (called by `fit` after backward)."""
        _, grads = self.penalty_and_grads(model)
        plan = model.pruning_plan()
        for i, (dw, l2) in grads.items():
            layer, bn = plan[i].layer, plan[i].bn
            layer.weight.accumulate(dw)
            targets = {"bias": layer.bias, "bn_weight": bn and bn.weight, "bn_bias": bn and bn.bias}
            for name, g in l2.items():
                targets[name].accumulate(g)
        self.iteration += 1


def gain_for(model):
    """√2 for ReLU networks, 1 otherwise (the OrthP gain of the paper)."""
    return math.sqrt(2.0) if getattr(model, "act", None) == "relu" else 1.0
