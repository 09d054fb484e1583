"""The decay law: how fast weight decay alone shrinks a weight whose loss gradient is 0 (a weight of a dead or
disconnected unit), under minidi's (PyTorch's) SGD, and so whether a run is long enough to show shedding at all.

With ∇L = 0 the gradient the optimizer sees is g_t = λ w_t, and (v_0 = 0, so the first step has v_1 = g_0):

    v_{t+1} = μ v_t + λ w_t
    w_{t+1} = w_t − η v_{t+1}                    i.e.  [w; v]_{t+1} = [[1 − ηλ, −ημ], [λ, μ]] [w; v]_t
    w_{t+1} = w_t − η (λ w_t + μ v_{t+1})        (Nesterov:  [[1 − ηλ(1 + μ), −ημ²], [λ, μ]])

`trajectory` iterates this recurrence exactly (float64); its limit rate is the spectral radius ρ of the matrix,
ρ ≈ 1 − ηλ/(1 − μ) for small ηλ (so momentum 0.9 makes weight decay ten times stronger). `steps_to_fall` is the
first step at which |w_t| < ratio·|w_0|, and `epochs_to_fall` the same in epochs (None: never, e.g. λ = 0).
"""
import math

import numpy as np

from ..errors import check_number
from ..limits import MAX_SGD_STEPS


def transition(lr, momentum, weight_decay, nesterov=False):
    """The 2×2 matrix A with [w; v]_{t+1} = A [w; v]_t for a weight with zero loss gradient."""
    eta, mu, lam = (check_number(lr, "lr", low=0), check_number(momentum, "momentum", low=0, high=1, high_open=True),
                    check_number(weight_decay, "weight decay", low=0))
    if nesterov:
        return np.array([[1 - eta * lam * (1 + mu), -eta * mu * mu], [lam, mu]])
    return np.array([[1 - eta * lam, -eta * mu], [lam, mu]])


def trajectory(w0, lr, momentum, weight_decay, steps, nesterov=False):
    """[w_0, w_1, ..., w_steps] of a weight with zero loss gradient (the recurrence above, float64)."""
    a = transition(lr, momentum, weight_decay, nesterov)
    state, out = np.array([float(w0), 0.0]), [float(w0)]
    for _ in range(int(check_number(steps, "steps", low=0, high=MAX_SGD_STEPS, integer=True))):
        state = a @ state
        out.append(state[0])
    return np.array(out)


def rate(lr, momentum, weight_decay, nesterov=False):
    """ρ, the spectral radius of the recurrence: |w_t| shrinks like ρ^t in the long run."""
    return float(max(abs(np.linalg.eigvals(transition(lr, momentum, weight_decay, nesterov)))))


def steps_to_fall(ratio, lr, momentum, weight_decay, nesterov=False, limit=MAX_SGD_STEPS):
    """The first step t with |w_t| < ratio·|w_0| (None if not within `limit` steps).

    When A's eigenvalues are real and ≥ 0 (every setting with ηλ small against (1 − √μ)², the studies' included)
    w_t = c₁r₁ᵗ + c₂r₂ᵗ falls monotonically once below 1, so the first crossing is found by doubling t and then
    bisecting, each w_t from a matrix power (exact up to rounding); otherwise the recurrence is stepped through."""
    ratio = check_number(ratio, "ratio", low=0, high=1, low_open=True, high_open=True)
    a = transition(lr, momentum, weight_decay, nesterov)
    w = lambda t: abs(np.linalg.matrix_power(a, t)[0, 0])             # noqa: E731  (w_0 = 1, v_0 = 0)
    eig = np.linalg.eigvals(a)
    if not (np.all(np.abs(eig.imag) == 0) and np.all(eig.real >= 0)):
        state = np.array([1.0, 0.0])
        for t in range(1, min(limit, 10 ** 7) + 1):
            state = a @ state
            if abs(state[0]) < ratio:
                return t
        return None
    if max(abs(eig)) >= 1:
        return None
    hi = 1
    while w(hi) >= ratio:
        hi *= 2
        if hi > limit:
            return None
    lo = hi // 2                                          # w(lo) ≥ ratio (or lo = 0), w(hi) < ratio
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if w(mid) >= ratio else (lo, mid)
    return hi


def epochs_to_fall(ratio, lr, momentum, weight_decay, steps_per_epoch, nesterov=False):
    """`steps_to_fall` in epochs (a fraction), or None when weight decay never gets the weight there."""
    if weight_decay == 0 or lr == 0:
        return None
    t = steps_to_fall(ratio, lr, momentum, weight_decay, nesterov)
    return None if t is None else t / check_number(steps_per_epoch, "steps per epoch", low=1, integer=True)


def log_rate_epochs(ratio, lr, momentum, weight_decay, steps_per_epoch):
    """The limit rate's estimate of the same, ln(ratio) / (steps_per_epoch · ln ρ): the one-line rule of thumb."""
    rho = rate(lr, momentum, weight_decay)
    return None if rho >= 1 else math.log(ratio) / (steps_per_epoch * math.log(rho))
