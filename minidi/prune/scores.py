"""Pruning-at-initialization scores, one short function per method (../shared/research/pruning_at_init.md).

θ are the prunable weights (conv and linear weights; biases and BatchNorm are never pruned), g = ∇_θ L the
gradient of the cross-entropy L on a small batch (x, y). Each function returns {parameter name: score}, an array
shaped like the weight, on the model's device:

    random     u ~ U(0, 1)                      keep the highest
    magnitude  |θ|                              keep the highest
    snip       |θ ⊙ g|                          keep the highest   (connection sensitivity)
    grasp      −θ ⊙ (H g), logits / T, T = 200  keep the LOWEST    (remove the weights that most slow the
                                                                    gradient flow gᵀg when removed)
    synflow    |θ ⊙ ∂R/∂θ|, R = 1ᵀ f_|θ|(1)     keep the highest   (data-free; iterated, see `at_init`)

Every score is computed on a float64 copy of the model, so the model itself (its weights, BatchNorm running
statistics, gradients) is never touched, and CPU and GPU give the same ranking. Masks already on the model are
respected (a masked weight is 0, so its gradient-based score is 0).

H g exactly, without autograd: Pearlmutter's R-operator through the engine (`minidi.measure.hessian`), one extra
forward and backward pass, in float64, BatchNorm in train mode (its batch statistics are part of H). ReLU and
max-pool hold their gates (second derivative 0, also at a kink, as autograd defines it). A central difference
of gradients would not do: a step that moves a ReLU input across 0 changes the gradient by O(1), and divided
by 2ε that gives one unit's weights scores thousands of times too large. Biases and BatchNorm are held
fixed (H is the weight block).
"""
import copy

import numpy as np

from ..backend import get_array_module
from ..backend import rng as backend_rng
from ..errors import MinidiError
from ..measure.hessian import Hessian
from ..nn.checks import check_batch, sample_shape
from ..nn import SoftmaxCrossEntropy
from .masks import prunable

METHODS = ("random", "magnitude", "snip", "grasp", "synflow")
NEEDS_DATA = ("snip", "grasp")
KEEP_LOWEST = ("grasp",)                 # the methods whose lowest scores are kept
GRASP_T = 200.0


def scores(model, method, x=None, y=None, seed=0):
    """{prunable weight name: score array}, for method in random|magnitude|snip|grasp|synflow.

    x, y: the scoring batch (SNIP and GraSP need it; see `per_class_batch`), on the model's device.
    seed: the random scores' generator (random only)."""
    if method not in METHODS:
        raise MinidiError(f"unknown pruning method {method!r}: choose one of {', '.join(METHODS)}")
    prunable(model, require=True)
    if method in NEEDS_DATA and (x is None or y is None):
        raise MinidiError(f"{method} scores need data: pass x and y (e.g. 10 training examples per class)")
    if method in NEEDS_DATA:
        check_batch(model, x, y, f"{method}'s scoring batch")
    if method == "random":
        return random_scores(model, seed)
    if method == "magnitude":
        return magnitude_scores(model)
    if method == "snip":
        return snip_scores(model, x, y)
    if method == "grasp":
        return grasp_scores(model, x, y)
    return synflow_scores(model)


def random_scores(model, seed=0):
    """u_j ~ U(0, 1), drawn on the host from a seeded generator, layer by layer in layer order."""
    rng = backend_rng(seed)
    return {k: get_array_module(p.data).asarray(rng.random(p.shape)) for k, p in prunable(model).items()}


def magnitude_scores(model):
    """|θ_j|."""
    return {k: get_array_module(p.data).abs(p.data) for k, p in prunable(model).items()}


def snip_scores(model, x, y):
    """|θ ⊙ ∂L/∂θ| (Lee et al. 2019); dividing by the sum, as SNIP does, does not change the ranking."""
    work = scoring_copy(model, training=True)
    grads = weight_grads(work, x, y)
    return {k: abs(p.data * grads[k]) for k, p in prunable(work).items()}


def grasp_scores(model, x, y, temperature=GRASP_T):
    """−θ ⊙ (H g) (Wang et al. 2020), g and H of the loss of logits / T, H g exact; the lowest scores are kept.

    Scaling g or H by a positive constant scales every score alike, so the ranking is the same: the public code
    sums the gradients of two half batches (g' = 2g) and adds their Hessian products (H' = 2H), i.e. 4·H g."""
    H = Hessian(model, x, y, temperature, training=True)
    hg = H @ H.gradient()
    return {k: -p.data * hg[k] for k, p in H.weights.items()}


def synflow_scores(model):
    """|θ ⊙ ∂R/∂θ| with R = Σ outputs of the network whose every weight, bias and BatchNorm value is replaced by
    its absolute value, at the all-ones input, BatchNorm in eval mode, in float64 (Tanaka et al. 2020)."""
    work = scoring_copy(model, training=False)
    work.apply_arrays(lambda a: abs(a) if a.dtype.kind == "f" else a)
    xp = get_array_module(next(iter(prunable(work).values())).data)
    out = work.forward(xp.ones((1,) + sample_shape(model), dtype=np.float64))
    work.backward(xp.ones_like(out), input_grad=False)               # dR/d(outputs) = 1
    return {k: abs(p.data * p.grad) for k, p in prunable(work).items()}


# --- the pieces ------------------------------------------------------------------------------------------
def scoring_copy(model, training):
    """A float64 copy of `model` (masks kept) in train or eval mode, without gradients."""
    work = copy.deepcopy(model).astype(np.float64)
    work.train(training)
    work.zero_grad()
    return work


def weight_grads(model, x, y, temperature=1.0):
    """{prunable weight name: ∂L/∂θ} with L = CE(f(x) / T, y), by the engine's backprop (float64 copy of x).

    dL/dz = dCE/d(z/T) / T for the logits z."""
    loss = SoftmaxCrossEntropy()
    model.zero_grad()
    logits = model.forward(x.astype(np.float64))
    loss.forward(logits / temperature, y)
    model.backward(loss.backward() / temperature, input_grad=False)
    return {k: p.grad.copy() for k, p in prunable(model).items()}


def per_class_batch(x, y, per_class=10, seed=0, classes=None):
    """(x, y) of `per_class` examples of each class, drawn without replacement by `seed` (host indices, one
    gather on the device), classes in order. SNIP and GraSP score on it (10 per class, as their papers)."""
    from ..backend import to_numpy
    labels = to_numpy(y)
    rng = backend_rng(seed)
    classes = range(int(labels.max()) + 1) if classes is None else classes
    picks = []
    for c in classes:
        where = np.flatnonzero(labels == c)
        if len(where) < per_class:
            raise MinidiError(f"class {c} has {len(where)} training examples, fewer than {per_class}")
        picks.append(rng.choice(where, per_class, replace=False))
    index = get_array_module(x).asarray(np.concatenate(picks))
    return x[index], y[index]
