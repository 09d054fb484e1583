"""Cascade weight shedding (Azarian & Porikli 2021): after a small prune, fine-tuning drives many of the
remaining weights to (near) zero. The paper published no code; these operational definitions are minidi's own
(../shared/research/weight_shedding.md, docs/weight_shedding.md):

    shed weight      an unpruned weight (mask 1) with |θ_j(t)| < τ
    τ                κ · median |θ(t₀)| over the unpruned weights at the start of fine-tuning (κ = 1e-2, 1e-3),
                     or the global magnitude threshold of the prune at t₀ (`thresholds`)
    σ(t)             #{unpruned j : |θ_j(t)| < τ} / #{unpruned j}, per layer and overall (`shed_fraction`)
    dead unit        a neuron/filter whose incoming weights are all shed or pruned, or (given a probe batch x)
                     whose ReLU output is 0 on every sample and position (`dead_units`)
    implicit sparsity  accuracy after also hard-pruning every shed weight (`implicit_sparsity`): unchanged when
                     the shed weights really are dead weight
    BN-dead channel  a BatchNorm channel whose scale |γ| < τ_γ = κ · median |γ(t₀)| over every BN scale
                     (`bn_dead_channels`): the channel's output is then (nearly) its constant shift β
    relative σ       σ against each layer's own κ · median |θ_ℓ(t)| at time t (`relative_shed_fraction`): a
                     BatchNorm network's convolutions are scale-free, so weight decay shrinks a whole layer
                     without changing what it computes; the relative σ counts only weights small *within* it

Mechanism: under SGD with weight decay λ (no momentum), a weight whose loss gradient is 0 follows
θ ← θ − ηλθ, so θ(t) = (1 − ηλ)^t θ(0); a unit with no inputs (or a dead ReLU) gives its outgoing weights a zero
gradient, so they decay, the next units lose their inputs in turn: a cascade. Without weight decay nothing decays.
"""
import copy

import numpy as np

from ..backend import get_array_module, to_numpy
from ..errors import MinidiError, check_number
from ..nn.checks import check_batch
from ..prune.masks import keep_top, prunable

KAPPAS = (1e-2, 1e-3)


def _unpruned(p):
    return p.mask != 0 if p.mask is not None else get_array_module(p.data).ones(p.shape, dtype=bool)


def shed_fraction(model, tau):
    """{weight name: fraction of its unpruned weights with |θ| < tau, "overall": the same over all of them}.

    One device reduction per layer, read back together."""
    tau = check_number(tau, "tau", low=0)
    weights = prunable(model, require=True)
    xp = get_array_module(next(iter(weights.values())).data)
    counts = xp.stack([xp.stack([((abs(p.data) < tau) & _unpruned(p)).sum(), _unpruned(p).sum()])
                       for p in weights.values()])
    counts = to_numpy(counts).astype(np.int64)
    out = {name: (int(s) / int(n) if n else 0.0) for name, (s, n) in zip(weights, counts)}
    out["overall"] = int(counts[:, 0].sum()) / max(int(counts[:, 1].sum()), 1)
    return out


def relative_shed_fraction(model, kappa=KAPPAS[0]):
    """{weight name: fraction of its unpruned weights with |θ| < κ · (that layer's median unpruned |θ| now),
    "overall": the same counts summed over layers}: σ with a scale-free τ (see the module docstring).

    Medians and counts on the device, the counts read back together (as `shed_fraction`)."""
    kappa = check_number(kappa, "kappa", low=0, low_open=True)
    weights = prunable(model, require=True)
    xp = get_array_module(next(iter(weights.values())).data)
    rows = []
    for p in weights.values():
        w = abs(p.data)[_unpruned(p)]
        rows.append(xp.stack([(w < kappa * xp.median(w)).sum(), xp.asarray(w.size)]) if w.size else
                    xp.zeros(2, dtype=np.int64))
    counts = to_numpy(xp.stack(rows)).astype(np.int64)
    out = {name: (int(s) / int(n) if n else 0.0) for name, (s, n) in zip(weights, counts)}
    out["overall"] = int(counts[:, 0].sum()) / max(int(counts[:, 1].sum()), 1)
    return out


def bn_scales(model):
    """{BatchNorm module name: its scales |γ| as a host float64 array}, in forward order ({} without BN)."""
    from ..nn import BatchNorm1d, BatchNorm2d
    return {name: np.abs(to_numpy(m.weight.data)).astype(np.float64) for name, m in model.named_modules()
            if isinstance(m, (BatchNorm1d, BatchNorm2d))}


def bn_threshold(model, kappa=KAPPAS[0]):
    """τ_γ = κ · median |γ| over every BatchNorm scale of the model now (None without BatchNorm)."""
    scales = bn_scales(model)
    return None if not scales else float(kappa * np.median(np.concatenate(list(scales.values()))))


def bn_dead_channels(model, tau):
    """{BatchNorm module name: sorted channel indices with |γ| < tau}."""
    tau = check_number(tau, "tau", low=0)
    return {name: np.flatnonzero(g < tau).tolist() for name, g in bn_scales(model).items()}


def first_to_shed(rows, label, level):
    """{weight name: the first epoch (1-based) whose σ_ℓ at τ `label` reaches `level`, or None}, from the epoch
    rows of `ShedMonitor` (each with row["shed"][label][layer]): which layers shed first."""
    out = {}
    for row in rows:
        for name, v in row["shed"][label].items():
            if name != "overall" and out.get(name) is None:
                out[name] = row["epoch"] + 1 if v >= level else None
    return out


def thresholds(model, kappas=KAPPAS, prune_threshold=None):
    """{label: τ} at t₀: "kappa=1e-2": κ · median |θ| of the unpruned weights, and "prune" when given."""
    kappas = [check_number(k, "kappa", low=0, low_open=True) for k in kappas]
    if prune_threshold is not None:
        prune_threshold = check_number(prune_threshold, "prune threshold", low=0)
    values = np.concatenate([np.abs(to_numpy(p.data))[to_numpy(_unpruned(p))]
                             for p in prunable(model, require=True).values()])
    if not values.size:
        raise MinidiError("every weight is pruned: the median weight is undefined")
    median = float(np.median(values))
    out = {f"kappa={k:g}": k * median for k in kappas}
    if prune_threshold is not None:
        out["prune"] = float(prune_threshold)
    return out


def dead_units(model, x=None, tau=0.0):
    """{weight name: sorted host indices of dead units of that layer}.

    By weights: every incoming weight of the unit (row i of W, a filter's whole kernel) pruned or |θ| ≤ tau
    (tau = 0: exactly zero). By activations, when a probe batch x is given: the ReLU after the layer outputs 0
    on every sample (and position) — for chain models (`model.chain`: MLP, ConvNet), where the k-th ReLU
    follows the k-th weight layer; other models are judged by weights only."""
    tau = check_number(tau, "tau", low=0)
    if x is not None:
        check_batch(model, x, what="dead_units' probe batch")
    dead = {}
    for name, p in prunable(model).items():
        w = np.abs(to_numpy(p.data)).reshape(p.shape[0], -1)
        alive = np.ones_like(w, dtype=bool) if p.mask is None else to_numpy(p.mask).reshape(p.shape[0], -1) != 0
        dead[name] = set(np.flatnonzero(~((w > tau) & alive).any(axis=1)).tolist())
    if x is not None and getattr(model, "chain", False):
        from ..nn import ReLU
        was = model.training
        model.eval()
        model.forward(x)
        model.train(was)
        relus = [m for _, m in model.named_modules() if isinstance(m, ReLU)]
        for (name, _), relu in zip(prunable(model).items(), relus):
            y = to_numpy(relu.y)
            axes = (0,) + tuple(range(2, y.ndim))
            dead[name] |= set(np.flatnonzero(~(y > 0).any(axis=axes)).tolist())
    return {k: sorted(v) for k, v in dead.items()}


def unpruned_masks(model):
    """{weight name: host bool array, True where the weight is unpruned (mask 1, or no mask)}."""
    return {k: to_numpy(_unpruned(p)) for k, p in prunable(model).items()}


def shed_masks(model, tau):
    """{weight name: host bool array, True where the weight is shed: unpruned and |θ| < tau}."""
    return {k: to_numpy((abs(p.data) < tau) & _unpruned(p)) for k, p in prunable(model).items()}


def remove_shed(model, tau, limit=None):
    """Hard-prune the shed weights (|θ| < tau, unpruned) in place: their mask becomes 0. limit: at most this
    many, the smallest |θ| first (ties by position). Returns the number removed."""
    weights = prunable(model)
    shed = shed_masks(model, tau)
    n_shed = int(sum(v.sum() for v in shed.values()))
    n = n_shed if limit is None else min(n_shed, int(limit))
    if n == 0:
        return 0
    # priority: shed weights by |θ| (the smallest goes first), everything else +inf (never removed here)
    priority = {k: np.where(shed[k], np.abs(to_numpy(p.data)), np.inf) for k, p in weights.items()}
    total = sum(p.size for p in weights.values())
    masks = keep_top(priority, (total - n) / total)
    keep_count = sum(int(m.sum()) for m in masks.values())
    assert keep_count == total - n
    for k, p in weights.items():
        xp = get_array_module(p.data)
        p.set_mask(xp.asarray(masks[k]) * (p.mask if p.mask is not None else 1))
    return n


def implicit_sparsity(model, tau, x, y):
    """(accuracy, accuracy after also hard-pruning every shed weight, number removed), on (x, y)."""
    from ..train import evaluate
    check_batch(model, x, y, "implicit_sparsity's batch")
    before = evaluate(model, x, y)[1]
    pruned = copy.deepcopy(model)
    removed = remove_shed(pruned, tau)
    return before, evaluate(pruned, x, y)[1], removed


def disconnected(model, tau):
    """Layers that shedding disconnects: the collapsed layers once every shed weight is treated as pruned."""
    from ..prune.at_init import layer_collapse
    pruned = copy.deepcopy(model)
    remove_shed(pruned, tau)
    return layer_collapse(pruned)


class ShedMonitor:
    """A `fit` callback: σ(t) for each τ (overall and per layer) every `every` steps during the first
    `early_epochs` epochs and after every epoch; dead units by weights (at the first τ) and by activations on the
    probe batch after every epoch. `self.trace` holds [(t in epochs, {label: σ overall})]; each epoch's row gains
    `shed` ({label: {layer: σ}}), `dead_by_weights`, `dead_by_activations`, `dead_units` (counts per layer; a
    unit dead by either counts once in `dead_units`), `dead_total` (the sum of `dead_units`),
    `shed_relative` (`relative_shed_fraction`, κ = 1e-2) and, given `bn_tau`, `dead_bn` (BN-dead channels per BN
    layer)."""

    def __init__(self, taus, probe=None, every=50, early_epochs=2, steps_per_epoch=None, bn_tau=None):
        self.taus, self.probe, self.every, self.early = dict(taus), probe, every, early_epochs
        self.steps_per_epoch, self.step, self.trace, self.bn_tau = steps_per_epoch, 0, [], bn_tau

    def on_start(self, model, history):
        self.trace.append((0.0, {k: shed_fraction(model, t)["overall"] for k, t in self.taus.items()}))

    def state_dict(self):                                 # kept in a run's checkpoint: a resumed run keeps its trace
        return {"trace": [[t, v] for t, v in self.trace], "step": self.step}

    def load_state_dict(self, state):
        self.trace, self.step = [(t, v) for t, v in state["trace"]], state["step"]

    def before_step(self, model):
        self.step += 1
        if self.steps_per_epoch and self.step % self.every == 0 and self.step < self.early * self.steps_per_epoch:
            t = self.step / self.steps_per_epoch               # σ just before this step's update
            self.trace.append((t, {k: shed_fraction(model, v)["overall"] for k, v in self.taus.items()}))

    def on_epoch_end(self, model, row):
        shed = {k: shed_fraction(model, t) for k, t in self.taus.items()}
        self.trace.append((row["epoch"] + 1.0, {k: v["overall"] for k, v in shed.items()}))
        first = next(iter(self.taus.values()))
        by_w = dead_units(model, tau=first)
        by_a = dead_units(model, self.probe) if self.probe is not None else {}
        union = {k: set(v) | set(by_a.get(k, ())) for k, v in by_w.items()}
        row.update(shed=shed, dead_by_weights={k: len(v) for k, v in by_w.items()},
                   dead_by_activations={k: len(v) for k, v in by_a.items()},
                   dead_units={k: len(v) for k, v in union.items()},
                   dead_total=sum(len(v) for v in union.values()),
                   shed_relative=relative_shed_fraction(model))
        if self.bn_tau is not None:
            row["dead_bn"] = {k: len(v) for k, v in bn_dead_channels(model, self.bn_tau).items()}
