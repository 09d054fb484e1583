"""From an S-transform to the spectrum: moments, the support's upper edge, the atom at 0 and the density of
λ = s², by solving
    x · M · S(M) = 1 + M,      M(x) = ψ(1/x),   G(x) = (1 + M(x)) / x,   ρ(x) = −Im G(x + i0) / π
with root continuation: start at large x, where M ≈ m₁/x, and step down a grid, each Newton solve starting from
the previous root (so the physical branch is followed; picking "the root with the most negative imaginary part"
picks wrong branches for deep networks). The path runs a relative 1e-9 above the real axis, where the roots
never merge, so the continuation cannot slip onto another branch at an edge of the support.
"""
import math

import numpy as np

H = 1e-20                # complex-step size of the derivatives of S at 0
ETA = 1e-9               # G is read at x(1 + iη): near enough the axis, far enough that the branches stay apart


def moments(s):
    """(m₁, m₂) of λ from S near 0: S(0) = 1/m₁ and S′(0) = (m₁² − m₂)/m₁³ (the derivative by a complex step)."""
    s0 = float(np.real(s(0.0)))
    ds = float(np.imag(s(1j * H)) / H)
    m1 = 1.0 / s0
    return m1, m1 * m1 - ds * m1 ** 3


def _f(s, x, m):
    return x * m * s(m) - 1.0 - m


def _newton(s, z, m, iters=100):
    """The root of z·M·S(M) − 1 − M near m (Newton, the derivative by a central difference)."""
    for _ in range(iters):
        h = 1e-7 * max(1.0, abs(m))
        f = _f(s, z, m)
        df = (_f(s, z, m + h) - _f(s, z, m - h)) / (2 * h)
        step = f / df
        m = m - step
        if abs(step) <= 1e-14 * max(1.0, abs(m)):
            break
    return m


def solve_path(s, xs, m1):
    """M(x + iη) along the decreasing grid xs (xs[0] far above the support), by continuation; η = ETA·x, so
    that the roots never merge on the path and Newton cannot fall onto another branch."""
    out = np.empty(len(xs), dtype=complex)
    m = complex(m1 / xs[0])
    for i, x in enumerate(xs):
        z = complex(x, ETA * x)
        root = _newton(s, z, m)
        if ((1 + root) / z).imag > 0:             # Im G > 0: not the physical branch; start below the axis
            root = _newton(s, z, complex(m.real, -abs(m)))
        m = out[i] = root
    return out


def real_map(s, m):
    """x(M) = (1 + M) / (M S(M)) on the real M axis: the inverse of M(x) outside the support."""
    return (1.0 + m) / (m * np.real(s(m)))


def upper_edge(s, m1):
    """The largest λ of the support: where x(M) = (1 + M)/(M S(M)) has its critical point on the positive M branch
    that comes down from M ≈ m₁/x at large x (x decreases as M grows, until the edge, where dx/dM = 0)."""
    lo, hi = 1e-12, 1e-6
    dx = lambda m: (real_map(s, m * (1 + 1e-7)) - real_map(s, m * (1 - 1e-7))) / (2e-7 * m)  # noqa: E731
    while dx(hi) < 0 and hi < 1e12:               # still decreasing: the edge lies further out
        lo, hi = hi, hi * 2
    for _ in range(200):                          # bisection on the sign of dx/dM
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if dx(mid) < 0 else (lo, mid)
        if hi / lo - 1 < 1e-14:
            break
    return float(real_map(s, math.sqrt(lo * hi)))


def _x(s, m):
    with np.errstate(all="ignore"):
        try:
            v = real_map(s, m)
        except ZeroDivisionError:
            return math.nan
    return float(v) if np.isfinite(v) else math.nan


def lower_edge(s, atom_mass):
    """The smallest λ > 0 of the support: 0 when the density reaches down to 0, else the end of the gap above 0.
    Below the support M is real: as x → 0⁺, M → M₀ = atom − 1, and along the real branch that leaves M₀ (on
    whichever side x(M) > 0) x(M) rises to a maximum, the lower edge. That branch is the physical one when x(M)
    has a simple zero at M₀; a multiple zero means a density that diverges like a power at 0 (no gap)."""
    from scipy.optimize import minimize_scalar
    m0 = atom_mass - 1
    for side in (1.0, -1.0):
        steps = np.geomspace(1e-9, 1e3, 6001)
        xs = np.array([_x(s, m0 + side * u) for u in steps])
        if not xs[0] > 0:
            continue
        order = math.log(xs[1000] / xs[0]) / math.log(steps[1000] / steps[0]) if xs[1000] > 0 else 0.0
        if order > 1.5:            # x ~ (M − M₀)^k, k ≥ 2: that real branch is not the physical one; the density
            return 0.0             # reaches down to 0 like a power of x
        bad = np.flatnonzero(~(xs > 0))
        stop = bad[0] if len(bad) else len(xs)
        k = int(np.argmax(xs[:stop]))
        if k == 0 or k >= stop - 1:
            continue
        lo, hi = steps[k - 1], steps[k + 1]
        best = minimize_scalar(lambda u: -_x(s, m0 + side * u), bounds=(lo, hi), method="bounded",
                               options={"xatol": 1e-14 * hi})
        return float(max(-best.fun, xs[k]))
    return 0.0


def atom(s):
    """The mass at λ = 0. As x → 0, M(x) → −(1 − atom), and x·M·S(M) = 1 + M can only stay balanced there if S has a
    pole: the atom is 1 + the largest pole of S in (−1, 0) (none: no atom). A pole of S is a zero of 1/S (possibly
    a double one, where 1/S does not change sign): the local minima of |1/S| on a scan of (−1, 0), refined."""
    from scipy.optimize import minimize_scalar

    def inv(m):
        try:
            return abs(complex(1.0 / s(m)))
        except ZeroDivisionError:                  # a factor's own pole hit exactly: 1/S = 0 there
            return 0.0
    grid = -np.geomspace(1e-12, 1 - 1e-12, 4001)  # from just below 0 towards −1
    values = np.array([inv(m) for m in grid])
    for k in range(len(grid)):
        left, right = values[k - 1] if k else np.inf, values[k + 1] if k + 1 < len(grid) else np.inf
        if values[k] <= left and values[k] <= right:
            a, b = grid[min(k + 1, len(grid) - 1)], grid[max(k - 1, 0)]
            best = minimize_scalar(inv, bounds=(a, b), method="bounded", options={"xatol": 1e-15})
            m, v = (best.x, best.fun) if best.fun < values[k] else (grid[k], values[k])
            if v < 1e-7 and 1 + m > 1e-6:          # (−1 itself is where M(0) sits when there is no atom)
                return float(1 + m)
    return 0.0


def density(s, xs, m1):
    """ρ(λ) on the decreasing grid xs, the continuation started far above it."""
    top = 1e4 * max(m1, 1.0)
    start = np.geomspace(top, xs[0], 400)[:-1] if xs[0] < top else np.empty(0)
    m = solve_path(s, np.concatenate([start, xs]), m1)[len(start):]
    xs = np.asarray(xs, dtype=float)
    g = (1.0 + m) / (xs * (1 + 1j * ETA))
    return np.maximum(-g.imag / math.pi, 0.0)
