"""S-transforms: the free-probability algebra that predicts the Jacobian spectrum of a wide random network
(../shared/research/spectral_theory.md). Each function returns S as a plain function of a complex number z.

For a square matrix T with moments m_k = tr(T^k)/N, ψ(z) = Σ_k m_k z^k, χ its functional inverse, and
    S(z) = χ(z) (1 + z) / z.
Freely independent factors multiply: S_{AB} = S_A · S_B. The pieces of J = W_L D_{L−1} ⋯ D_1 W_1:

    WᵀW, W (out × in) i.i.d. entries of variance σ²/in, seen in the input space:   1 / (σ² (out/in + z))
    WᵀW, W = g·(a matrix with orthonormal rows or columns), in the input space:       (1 + z) / (g² (z + p)),
                                                                                      p = min(1, out/in)
    D² of a gate that passes a fraction p of units (ReLU: p = ½), identity: p = 1:   (1 + z) / (z + p)

A matrix of one space seen from another (the nonzero eigenvalues of XᵀX and XXᵀ agree; only the normalizing
dimension changes, by the ratio c = N_new / N_old):   S_new(z) = S_old(c z) · c (1 + z) / (1 + c z).
"""


def gaussian_weights(sigma2, fan_out, fan_in):
    """S of WᵀW (in the fan-in space) for i.i.d. entries of variance sigma2 / fan_in (Marchenko–Pastur)."""
    r = fan_out / fan_in
    return lambda z: 1.0 / (sigma2 * (r + z))


def orthogonal_weights(gain2, fan_out, fan_in):
    """S of WᵀW (in the fan-in space) for W = gain·(orthonormal rows, or columns when tall): gain² on a
    fraction min(1, out/in) of the directions, 0 on the rest."""
    p = min(1.0, fan_out / fan_in)
    if p == 1:
        return lambda z: 1.0 / gain2
    return lambda z: (1.0 + z) / (gain2 * (z + p))


def gate(p):
    """S of D² for a gate that passes a fraction p of the units with slope 1 (ReLU: p = ½; identity: p = 1)."""
    if p == 1:
        return lambda z: 1.0
    return lambda z: (1.0 + z) / (z + p)


def product(*factors):
    """S of a product of freely independent factors of the same space: the product of their S-transforms."""
    def s(z):
        out = 1.0
        for f in factors:
            out = out * f(z)
        return out
    return s


def transport(s, n_old, n_new):
    """S of the same nonzero spectrum counted in a space of dimension n_new instead of n_old."""
    c = n_new / n_old
    if c == 1:
        return s
    return lambda z: s(c * z) * c * (1.0 + z) / (1.0 + c * z)


def jacobian(widths, weights, gates):
    """S of J Jᵀ (in the output space) for J = W_L D_{L−1} ⋯ D_1 W_1.

    widths: [n_0 (input), n_1, ..., n_L (output)]; weights[l]: S of W_{l+1}ᵀW_{l+1} in its fan-in space n_l;
    gates[l]: S of D_{l+1}² (in the space n_{l+1}), L − 1 of them. The recursion: A_1 = W_1 W_1ᵀ; A_l = W_l (D A_{l−1}
    D) W_lᵀ, whose nonzero spectrum is that of the free product (A_{l−1} D²)(W_lᵀW_l) in the space n_{l−1}, then
    carried to n_l."""
    s = transport(weights[0], widths[0], widths[1])
    for l in range(1, len(widths) - 1):
        s = transport(product(s, gates[l - 1], weights[l]), widths[l], widths[l + 1])
    return s
