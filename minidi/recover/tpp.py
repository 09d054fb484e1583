"""Trainability-preserving pruning (Wang & Fu, ICLR 2023): a regularizer that pushes the units L1 pruning
will remove towards zero while keeping the Gram matrix of the kept units as it is.
"""
import numpy as np

from ..backend import get_array_module
from ..errors import check_number
from ..nn.checks import plan_of
from ..prune.structured import l1_keep
from .orthogonal import as_matrix


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
        plan = plan_of(model)
        step, lam_max = check_number(step, "step", low=0), check_number(lam_max, "lam_max", low=0)
        every, gram_weight = check_number(every, "every", low=1, integer=True), check_number(gram_weight, "gram_weight", low=0)
        if steps_per_epoch is not None:
            steps_per_epoch = check_number(steps_per_epoch, "steps_per_epoch", low=1, integer=True)
        self.pruned = {i: np.setdiff1d(np.arange(plan[i].layer.weight.shape[0]), keep)    # L1's choice, fixed now
                       for i, keep in l1_keep(model, spec).items()}
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
            w = as_matrix(layer.weight.data)
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
