"""Closed forms of the Jacobian spectrum at init (spectral_theory.md), the oracles the solver is tested against.

Deep linear, square, Gaussian weights of variance 1/N (L layers): x·M = (1 + M)^{L+1}, the Fuss–Catalan law:
    m_k = C((L+1)k, k) / (Lk + 1)   (m₁ = 1, m₂ = L + 1: Var λ = L, depth alone breaks isometry)
    support [0, (L+1)^{L+1} / L^L],   E[s] = Γ((L+3)/2) / (Γ(3/2) Γ(L/2 + 2))
    density, parametric in φ ∈ (0, π/(L+1)):  x(φ) = sin^{L+1}((L+1)φ) / (sin φ · sin^L(Lφ)),
                                               ρ = sin²φ · sin^{L−1}(Lφ) / (π sin^L((L+1)φ))
Orthogonal linear: every s = Π_l g_l. ReLU at criticality with g gates (fraction p active): Gaussian weights add
1 per weight layer and (1 − p)/p per gate to Var λ / m₁²; orthogonal weights only the gates' (1 − p)/p.
"""
import math

import numpy as np


def fuss_catalan_moment(L, k):
    return math.comb((L + 1) * k, k) / (L * k + 1)


def fuss_catalan_edge(L):
    return (L + 1) ** (L + 1) / L ** L


def fuss_catalan_mean_s(L):
    return math.gamma((L + 3) / 2) / (math.gamma(1.5) * math.gamma(L / 2 + 2))


def fuss_catalan_density(L, n=2000):
    """(λ, ρ(λ)) along the parametrization, λ decreasing from the edge towards 0."""
    phi = np.linspace(0, math.pi / (L + 1), n + 2)[1:-1]
    x = np.sin((L + 1) * phi) ** (L + 1) / (np.sin(phi) * np.sin(L * phi) ** L)
    rho = np.sin(phi) ** 2 * np.sin(L * phi) ** (L - 1) / (math.pi * np.sin((L + 1) * phi) ** L)
    return x, rho


def normalized_variance(weights, gates, p=0.5, orthogonal=False):
    """Var λ / m₁² of a square network at large width: `weights` weight layers, `gates` gates passing a fraction p."""
    return (0 if orthogonal else weights) + gates * (1 - p) / p
