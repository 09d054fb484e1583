"""The predicted Jacobian spectrum of a wide random MLP at initialization: `spectrum(widths, activation, init,
weight_var)`, and `spectrum_of(model)` for a model of minidi.models. Large-width asymptotics (free probability,
spectral_theory.md): a finite network deviates from it by finite-width corrections, most visibly with 10 logits.

    widths      [n_0 (input), n_1, ..., n_L (the logits)]: L weight layers, L − 1 gates (none after the last)
    activation  "linear" (no gate) or "relu" (a gate passing half the units: p = ½ at a symmetric init)
    init        "gaussian" (i.i.d. normal), "orthogonal" (orthonormal rows or columns), "uniform" (PyTorch's
                default Linear init, U(±1/√fan_in): variance 1/(3·fan_in))
    weight_var  per layer, the entries' variance times fan-in (for "orthogonal": the gain²); a number or one per
                layer. Default: what the init implies — "uniform" 1/3; "gaussian" and "orthogonal" 1 for linear
                networks and 2 for ReLU (criticality, σ²·p = 1).
"""
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import simpson

from ..errors import MinidiError, check_number
from . import density as D
from . import stransform as S

ACTIVATIONS = {"linear": 1.0, "relu": 0.5}          # the fraction of units a gate passes
INITS = ("gaussian", "orthogonal", "uniform")
GRID = 2000


@dataclass
class Spectrum:
    """The prediction: `grid` (singular values s), `density` of s on it (all zeros when the spectrum is one value:
    orthogonal linear networks, where `edge` = `lower_edge` is that value), `atom` (the mass at s = 0), `moments`
    (m₁, m₂ of λ = s²), `mean_singular_value` (E[s], the atom counted as 0), `edge` (the largest λ) and
    `lower_edge` (the smallest λ > 0 of the support: 0 when the density reaches down to 0)."""
    grid: np.ndarray
    density: np.ndarray
    atom: float
    moments: tuple
    mean_singular_value: float
    edge: float
    s_transform: object = field(repr=False, default=None)
    lower_edge: float = 0.0

    @property
    def normalized_variance(self):
        """m₂/m₁² − 1 = Var λ / m₁²: 0 exactly when every singular value is the same (isometry up to scale)."""
        m1, m2 = self.moments
        return m2 / (m1 * m1) - 1


def _check(widths, activation, init, weight_var):
    if not isinstance(widths, (list, tuple)) or len(widths) < 2:
        raise MinidiError(f"widths must list at least the input and the output width, got {widths!r}")
    widths = [check_number(w, "a width", low=1, integer=True) for w in widths]
    if activation not in ACTIVATIONS:
        raise MinidiError(f"unknown activation {activation!r}: choose one of {', '.join(ACTIVATIONS)}")
    if init not in INITS:
        raise MinidiError(f"unknown init {init!r}: choose one of {', '.join(INITS)}")
    layers = len(widths) - 1
    if weight_var is None:
        weight_var = 1 / 3 if init == "uniform" else 1 / ACTIVATIONS[activation]
    values = list(weight_var) if isinstance(weight_var, (list, tuple)) else [weight_var] * layers
    if len(values) != layers:
        raise MinidiError(f"weight_var gives {len(values)} values for {layers} weight layers")
    return widths, [check_number(v, "weight_var", low=0, low_open=True) for v in values]


def s_transform(widths, activation="linear", init="gaussian", weight_var=None):
    """The S-transform of J Jᵀ for these widths, gates and weights (see `stransform.jacobian`)."""
    widths, var = _check(widths, activation, init, weight_var)
    factor = S.orthogonal_weights if init == "orthogonal" else S.gaussian_weights
    weights = [factor(v, widths[l + 1], widths[l]) for l, v in enumerate(var)]
    gates = [S.gate(ACTIVATIONS[activation])] * (len(widths) - 2)
    return S.jacobian(widths, weights, gates)


def integrate(s, fn, m1, edge, n=1501, lower=0.0):
    """∫ fn(λ) ρ(λ) dλ over the continuous part, by Simpson's rule on grids that make the integrand smooth: near a
    square-root edge e, λ = e ∓ t²; down to 0 (where ρ may diverge like a power), a log grid with the power-law
    tail below its first point added in closed form."""
    if 0 < lower < edge:                           # support [lower, edge]: two square-root edges
        mid = (lower + edge) / 2
        t = np.linspace(0, math.sqrt(edge - mid), n)
        up, down = edge - t * t, lower + t[::-1] * t[::-1]   # both decreasing
        rho = D.density(s, np.concatenate([up[1:-1], down[:-1]]), m1)
        r_up = np.concatenate([[0.0], rho[:n - 2], [rho[n - 2]]])
        r_down = np.concatenate([rho[n - 2:], [0.0]])
        return float(simpson(fn(up) * r_up * 2 * t, x=t) + simpson(fn(down) * r_down * 2 * t[::-1], x=-t[::-1]))
    lo = np.geomspace(edge / 2, edge * 1e-16, n)
    t = np.linspace(0, math.sqrt(edge / 2), n)
    up = edge - t * t
    xs = np.concatenate([up[1:], lo[1:]])                     # decreasing, for the continuation
    rho = D.density(s, xs, m1)
    r_up, r_lo = np.concatenate([[0.0], rho[:n - 1]]), np.concatenate([[rho[n - 2]], rho[n - 1:]])
    upper = simpson(fn(up) * r_up * 2 * t, x=t)
    lower_part = -simpson(fn(lo) * r_lo * lo, x=np.log(lo))
    a, b = r_lo[-1], r_lo[-2]                                 # ρ ≈ c x^(−k) below the last point
    k = -math.log(a / b) / math.log(lo[-1] / lo[-2]) if a > 0 and b > 0 else 0.0
    tail = fn(lo[-1]) * a * lo[-1] / (1 - k) if 0 <= k < 1 else 0.0
    return float(upper + lower_part + tail)


def spectrum(widths, activation="linear", init="gaussian", weight_var=None, points=GRID):
    """The predicted spectrum (a `Spectrum`) of the input–output Jacobian of a wide random MLP at init."""
    s = s_transform(widths, activation, init, weight_var)
    m1, m2 = D.moments(s)
    atom = D.atom(s)
    if m2 / (m1 * m1) * (1 - atom) - 1 < 1e-6:            # one value: every nonzero s² equals m₁/(1 − atom)
        value = m1 / (1 - atom)
        grid = np.linspace(0, math.sqrt(value) * 1.05, points + 1)[1:]
        return Spectrum(grid, np.zeros_like(grid), atom, (m1, m2), math.sqrt(value) * (1 - atom), value, s, value)
    edge = D.upper_edge(s, m1)
    lower = D.lower_edge(s, atom)
    lower = lower if lower < edge else 0.0
    mean_s = integrate(s, np.sqrt, m1, edge, lower=lower)
    grid = np.linspace(0, math.sqrt(edge) * 1.05, points + 1)[1:]
    lam = grid[::-1] ** 2
    rho = D.density(s, lam, m1)[::-1]
    return Spectrum(grid, 2 * grid * rho, atom, (m1, m2), mean_s, edge, s, lower)


def spectrum_of(model):
    """The prediction for a model of `minidi.models`: an MLP (its widths, activation and init read from it).
    Refused, with the reason: a network with convolutions or residual blocks (the theory here is for dense
    chains), and inits the theory does not cover (Xavier's variance depends on fan_out as well; Kaiming-normal of
    minidi draws with fan_out: its variance times fan_in is 2·fan_in/fan_out, which `spectrum` takes as weight_var)."""
    from ..nn import Linear
    if not hasattr(model, "linear_layers") or not getattr(model, "chain", False):
        raise MinidiError(f"spectrum_of predicts fully connected chains (MLPs), not {type(model).__name__}: the "
                          "free-probability prediction here has no convolution or residual factor")
    layers = [m for m in model.layers.layers if isinstance(m, Linear)]
    widths = [layers[0].in_features] + [m.out_features for m in layers]
    init = getattr(model, "init", None)
    activation = {"relu": "relu", "linear": "linear"}.get(getattr(model, "act", None))
    if activation is None:
        raise MinidiError(f"spectrum_of covers linear and ReLU MLPs, not activation {getattr(model, 'act', None)!r}")
    if init in ("default", "kaiming-uniform"):
        return spectrum(widths, activation, "uniform")
    if init == "orthogonal":                          # minidi draws orthogonal weights with gain 1
        return spectrum(widths, activation, "orthogonal", 1.0)
    if init == "kaiming-normal":
        gain2 = 2.0 if activation == "relu" else 1.0
        return spectrum(widths, activation, "gaussian", [gain2 * m.in_features / m.out_features for m in layers])
    raise MinidiError(f"spectrum_of has no prediction for init {init!r} (it covers default/kaiming-uniform, "
                      "kaiming-normal and orthogonal)")
