"""Where isometry breaks inside a CNN: the partial products P_l = ∂h_l/∂x, from the input x (D = C·H·W values)
to the output h_l of cut point l (`model.cut_points()`: a ResNet's stem and each residual block; on a chain
each conv with its BN, activation and pooling), per sample, in eval mode (BatchNorm by its running statistics, as
for the JSV). P_l is (size of h_l) × D — 16·32·32 × 3072 after a ResNet's stem — too large to form, so it is
only applied to vectors:

    P_l v     the R-forward (forward-mode) pass of the cut points up to l, parameters held (`r_forward`);
    P_lᵀ u    the backward pass of the same cut points from h_l.

    top       σ_max(P_l) = √λ_max(P_lᵀ P_l), by k steps of Lanczos on P_lᵀ P_l (full reorthogonalization), every
              sample at once (each its own tridiagonal matrix): the largest Ritz value is a lower bound that
              reaches σ_max² as k grows (exactly at k = D);
    ms        the mean of s² over the min(size of h_l, D) singular values, tr(P_lᵀ P_l) / min(·) with the
              trace by Hutchinson, E‖P_l v‖² for v ~ N(0, I): the forward passes alone, all cut points at once.
For an isometry both are 1. (For an MLP the same products are formed exactly: `minidi.measure.layerspectra`.)
"""
import numpy as np

from ..backend import get_array_module, rng as backend_rng, to_device, device_of, to_numpy
from ..errors import MinidiError, check_number
from ..nn.checks import check_batch
from .jacobian import inference_backward


def _cut_points(model):
    if not callable(getattr(model, "cut_points", None)):
        raise MinidiError(f"partial products need a model that names its cut points (a minidi CNN), not "
                          f"{type(model).__name__}")
    return model.cut_points()


def _jvp(cuts, l, v):
    """P_l v: the R-forward of cut points 0..l (after a forward pass at x)."""
    for _, modules in cuts[:l + 1]:
        for m in modules:
            v = m.r_forward(v)
    return v


def _vjp(cuts, l, u):
    """P_lᵀ u: the backward pass of cut points l..0 from h_l."""
    for _, modules in reversed(cuts[:l + 1]):
        for m in reversed(modules):
            u = m.backward(u)
    return u


def _rowdot(a, b):
    return (a.reshape(len(a), -1) * b.reshape(len(b), -1)).sum(axis=1)


def lanczos_top(apply, v0, steps):
    """The largest Ritz value of k = `steps` Lanczos steps on the symmetric map `apply`, per sample: v0 (N, ...)
    holds each sample's start vector; returns a float64 host array (N,) of λ_max estimates."""
    xp = get_array_module(v0)
    v = v0 / xp.sqrt(_rowdot(v0, v0)).reshape((-1,) + (1,) * (v0.ndim - 1))
    basis, alphas, betas = [v], [], []
    for j in range(steps):
        w = apply(v)
        alphas.append(_rowdot(w, v))
        for q in basis:                                   # full reorthogonalization (against v too)
            w = w - _rowdot(w, q).reshape(v.shape[:1] + (1,) * (v.ndim - 1)) * q
        if j == steps - 1:
            break
        b = xp.sqrt(_rowdot(w, w))
        betas.append(b)
        live = (b > 1e-12 * xp.abs(alphas[0]).max()).astype(w.dtype)  # an exhausted Krylov space stays 0
        v = w * (live / xp.where(b > 0, b, 1)).reshape(v.shape[:1] + (1,) * (v.ndim - 1))
        basis.append(v)
    a, b = (to_numpy(xp.stack(alphas)).T.astype(np.float64),
            to_numpy(xp.stack(betas)).T.astype(np.float64) if betas else np.zeros((len(v0), 0)))
    t = np.zeros((len(a), len(alphas), len(alphas)))
    idx = np.arange(len(alphas))
    t[:, idx, idx] = a
    t[:, idx[:-1], idx[1:]] = b
    t[:, idx[1:], idx[:-1]] = b
    return np.linalg.eigvalsh(t)[:, -1]


def partial_products(model, x, steps=10, probes=4, seed=0):
    """Per cut point, in forward order: {"layer", "top": mean over samples of σ_max(P_l), "top_max": its largest,
    "ms": mean over samples of the mean s² (see above), "size": size of h_l}. steps: Lanczos steps; probes:
    Hutchinson vectors; seed: the host generator of the start and probe vectors."""
    steps, probes = check_number(steps, "steps", low=1, integer=True), check_number(probes, "probes", low=1, integer=True)
    check_batch(model, x, what="the probe batch")
    cuts = _cut_points(model)
    xp, gen = get_array_module(x), backend_rng(seed)
    draw = lambda: to_device(gen.standard_normal(x.shape).astype(x.dtype), device_of(x))  # noqa: E731
    d = int(np.prod(x.shape[1:]))
    rows = []
    with inference_backward(model):
        h = x
        sizes = []
        for _, modules in cuts:                          # the forward pass at x, keeping every cut's size
            for m in modules:
                h = m.forward(h)
            sizes.append(int(np.prod(h.shape[1:])))
        traces = [xp.zeros(len(x), dtype=xp.float64) for _ in cuts]
        for _ in range(probes):                          # one R-forward pass: P_l v at every cut point
            v = draw()
            for l, (_, modules) in enumerate(cuts):
                for m in modules:
                    v = m.r_forward(v)
                traces[l] = traces[l] + _rowdot(v, v).astype(xp.float64)
        for l, (name, _) in enumerate(cuts):
            top = np.sqrt(np.clip(lanczos_top(lambda v: _vjp(cuts, l, _jvp(cuts, l, v)), draw(), steps), 0, None))
            ms = to_numpy(traces[l]) / probes / min(sizes[l], d)
            rows.append({"layer": name, "top": float(top.mean()), "top_max": float(top.max()),
                         "ms": float(ms.mean()), "size": sizes[l]})
    return rows
