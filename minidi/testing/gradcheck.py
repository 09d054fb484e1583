"""Check a layer's hand-written backward against finite differences: the tool the tests use, for users too.

    check_gradients(module, x)   every entry of dL/dx and of each dL/dparameter against central differences
                                 of L = Σ forward(x) ⊙ R (R a fixed random array); exact but O(size) forwards
    check_direction(module, x)   one random direction d over the input and every parameter (Chainer's
                                 `check_backward`): the directional derivative ⟨∇L, d⟩ from backward against
                                 (L(θ + εd) − L(θ − εd)) / 2ε; two forwards, so it suits large layers

Both want float64 arrays (`module.astype(np.float64)`): in float32 a central difference has only ~3 digits.
A difference quotient is an oracle only where L is smooth: keep ReLU and max-pool inputs away from their
kinks (a kink inside the step changes the gradient by O(1)).

    >>> from minidi.testing import gradcheck
    >>> gradcheck.check_gradients(layer, x)          # returns the worst relative error, asserts it is < tol
"""
import numpy as np

from .. import backend


def rel_error(a, b):
    """‖a − b‖ / max(‖a‖ + ‖b‖, 1e-30): the norm-wise relative error used by every gradient check."""
    a, b = backend.to_numpy(a).ravel(), backend.to_numpy(b).ravel()
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-30))


def numerical_grad(f, array, eps=1e-6):
    """Central differences of the scalar f() w.r.t. every entry of `array` (modified in place, then restored)."""
    xp = backend.get_array_module(array)
    grad = xp.zeros_like(array)
    flat, gflat = array.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = float(flat[i])
        flat[i] = old + eps
        plus = float(f())
        flat[i] = old - eps
        minus = float(f())
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def _backward(module, x, seed, train):
    """(R, dL/dx, {name: dL/dp}) of L = Σ forward(x) ⊙ R; checks that backward leaves its upstream gradient alone."""
    xp = backend.get_array_module(x)
    module.train(train)
    out = module.forward(x)
    r = xp.asarray(np.random.default_rng(seed).standard_normal(out.shape))
    module.zero_grad()
    module.forward(x)
    r_before = r.copy()
    dx = module.backward(r)
    assert bool((r == r_before).all()), "backward modified its upstream gradient"
    return r, dx, {name: p.grad for name, p in module.named_parameters()}


def check_gradients(module, x, seed=12345, tol=1e-6, train=True):
    """Compare backward's input and parameter gradients with central differences of L = Σ forward(x) ⊙ R.

    Returns the worst relative error (and asserts it is below tol). `module` and `x` must be float64. R has its
    own seed: an R proportional to x would make e.g. BatchNorm's input gradient vanish (it is scale-invariant).
    """
    r, dx, grads = _backward(module, x, seed, train)
    loss = lambda: (module.forward(x) * r).sum()  # noqa: E731
    errors = {"input": rel_error(dx, numerical_grad(loss, x))}
    for name, p in module.named_parameters():
        errors[name] = rel_error(grads[name], numerical_grad(loss, p.data))
    worst = max(errors.values())
    assert worst < tol, errors
    return worst


def check_direction(module, x, seed=12345, eps=1e-6, tol=1e-6, train=True):
    """Compare ⟨∇L, d⟩ from backward with the central difference of L along one random direction d over the
    input and every parameter; returns the relative error (and asserts it is below tol)."""
    xp = backend.get_array_module(x)
    r, dx, grads = _backward(module, x, seed, train)
    rng = np.random.default_rng(seed + 1)
    params = dict(module.named_parameters())
    d = {name: xp.asarray(rng.standard_normal(p.shape)) for name, p in params.items()}
    d_x = xp.asarray(rng.standard_normal(x.shape))
    analytic = float((dx * d_x).sum()) + sum(float((grads[k] * d[k]).sum()) for k in params)
    original = {k: p.data.copy() for k, p in params.items()}

    def loss_at(t):
        for k, p in params.items():
            p.data = original[k] + t * d[k]
        return float((module.forward(x + t * d_x) * r).sum())
    numeric = (loss_at(eps) - loss_at(-eps)) / (2 * eps)
    for k, p in params.items():
        p.data = original[k]
    error = abs(analytic - numeric) / max(abs(analytic) + abs(numeric), 1e-30)
    assert error < tol, (analytic, numeric)
    return error
