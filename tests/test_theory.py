"""The free-probability prediction (`minidi.theory`) against independent oracles: the Fuss–Catalan closed forms,
its parametric density, the ReLU and orthogonal variances, a Monte Carlo of random networks written here in NumPy
(independent of minidi.theory), and minidi's own exact Jacobian of MLP-7-Linear at init, on both backends."""
import math

import numpy as np
import pytest

from minidi import models, theory
from minidi.backend import to_device, to_numpy, xp_for
from minidi.errors import MinidiError
from minidi.measure.spectrum import jsv
from minidi.theory import closedforms as CF
from minidi.theory import density as D


@pytest.mark.parametrize("L", range(1, 9))
def test_fuss_catalan_moments_support_and_mean_singular_value(L):
    sp = theory.spectrum([300] * (L + 1))
    assert sp.moments[0] == pytest.approx(CF.fuss_catalan_moment(L, 1), abs=1e-6)
    assert sp.moments[1] == pytest.approx(CF.fuss_catalan_moment(L, 2), abs=1e-6)        # m₂ = L + 1
    assert sp.edge == pytest.approx(CF.fuss_catalan_edge(L), abs=1e-6)
    assert sp.mean_singular_value == pytest.approx(CF.fuss_catalan_mean_s(L), abs=1e-6)
    assert sp.atom == 0


@pytest.mark.parametrize("L", [1, 3, 6])
def test_the_solver_density_is_the_parametric_fuss_catalan_density(L):
    x, rho = CF.fuss_catalan_density(L, 200)
    keep = (x > 1e-3) & (x < 0.999 * CF.fuss_catalan_edge(L))
    got = D.density(theory.s_transform([300] * (L + 1)), x[keep], 1.0)
    assert np.allclose(got, rho[keep], rtol=1e-6)


CASES = [([300] * 4, "linear", "gaussian", None), ([1024, 100, 100, 100, 10], "linear", "uniform", None),
         ([400] * 4, "relu", "gaussian", None), ([400] * 5, "relu", "orthogonal", None),
         ([1024, 5, 10], "linear", "gaussian", None), ([50, 200, 300, 40], "relu", "gaussian", [2.0, 1.0, 3.0])]


@pytest.mark.parametrize("widths, act, init, var", CASES)
def test_every_density_integrates_to_one_minus_the_atom_and_gives_the_moments(widths, act, init, var):
    sp = theory.spectrum(widths, act, init, var)
    s, m1 = sp.s_transform, sp.moments[0]
    mass = theory.predict.integrate(s, np.ones_like, m1, sp.edge, lower=sp.lower_edge)
    first = theory.predict.integrate(s, lambda x: x, m1, sp.edge, lower=sp.lower_edge)
    second = theory.predict.integrate(s, lambda x: x * x, m1, sp.edge, lower=sp.lower_edge)
    assert mass == pytest.approx(1 - sp.atom, abs=1e-4)
    assert first == pytest.approx(sp.moments[0], rel=1e-4) and second == pytest.approx(sp.moments[1], rel=1e-4)


def test_the_atom_counts_the_rank_a_bottleneck_leaves():
    assert theory.spectrum([1024, 5, 10]).atom == pytest.approx(0.5, abs=1e-6)       # rank 5 of 10 logits
    assert theory.spectrum([64, 64, 64], "relu").atom == pytest.approx(0.5, abs=1e-6)   # half the units gated off
    assert theory.spectrum([100, 100, 100]).atom == 0


def test_orthogonal_linear_gives_every_singular_value_the_product_of_the_gains():
    sp = theory.spectrum([200] * 6, "linear", "orthogonal", [1.5, 2.0, 0.5, 1.0, 3.0])
    assert sp.normalized_variance == pytest.approx(0, abs=1e-9)
    assert sp.moments[0] == pytest.approx(1.5 * 2.0 * 0.5 * 1.0 * 3.0) and sp.edge == pytest.approx(sp.moments[0])
    assert sp.mean_singular_value == pytest.approx(math.sqrt(4.5), rel=1e-6)


@pytest.mark.parametrize("L, orthogonal", [(2, False), (5, False), (2, True), (6, True)])
def test_relu_variances_equal_their_closed_forms(L, orthogonal):
    sp = theory.spectrum([256] * (L + 1), "relu", "orthogonal" if orthogonal else "gaussian")
    assert sp.moments[0] == pytest.approx(2.0)                     # σ²p = 1 per gated layer; the last layer σ² = 2
    assert sp.normalized_variance == pytest.approx(CF.normalized_variance(L, L - 1, 0.5, orthogonal), rel=1e-9)


def _monte_carlo(widths, act, init, draws, seed=0):
    """(m₂/m₁², mean s) of J = W_L D ⋯ D W_1 at random inputs, NumPy only (entries of variance 1/fan_in for
    linear, 2/fan_in for ReLU; orthogonal: QR of a Gaussian matrix)."""
    gen = np.random.default_rng(seed)
    lam, sing = [], []
    gain2 = 2.0 if act == "relu" else 1.0
    for _ in range(draws):
        ws = []
        for a, b in zip(widths[:-1], widths[1:]):
            if init == "orthogonal":
                q, r = np.linalg.qr(gen.standard_normal((max(a, b), min(a, b))))
                q = q * np.sign(np.diag(r))
                ws.append(math.sqrt(gain2) * (q if b >= a else q.T))
            else:
                ws.append(gen.standard_normal((b, a)) * math.sqrt(gain2 / a))
        h = gen.standard_normal(widths[0])
        j = np.eye(widths[0])
        for k, w in enumerate(ws):
            h, j = w @ h, w @ j
            if act == "relu" and k < len(ws) - 1:
                on = h > 0
                h, j = h * on, j * on[:, None]
        s = np.linalg.svd(j, compute_uv=False)
        lam.append(s ** 2)
        sing.append(s)
    lam, sing = np.concatenate(lam), np.concatenate(sing)
    return np.mean(lam ** 2) / np.mean(lam) ** 2, float(np.mean(sing))


@pytest.mark.parametrize("widths, act, init, draws", [([400] * 4, "linear", "gaussian", 3),
                                                      ([400] * 4, "relu", "gaussian", 6),
                                                      ([400] * 5, "relu", "orthogonal", 6),
                                                      ([800, 400, 400, 400], "linear", "gaussian", 3)])
def test_a_monte_carlo_of_wide_random_networks_agrees_within_two_percent(widths, act, init, draws):
    sp = theory.spectrum(widths, act, init)
    ratio, mean_s = _monte_carlo(widths, act, init, draws)
    assert ratio == pytest.approx(sp.moments[1] / sp.moments[0] ** 2, rel=0.02)
    assert mean_s == pytest.approx(sp.mean_singular_value, rel=0.02)


def test_mlp7_linear_at_init_is_predicted_within_two_percent(device):
    """The note's worked prediction, 0.0198, against minidi's exact Jacobian of 20 fresh inits (linear: J is the
    product of the weights, one matrix per init)."""
    prediction = theory.spectrum_of(models.build("mlp7-linear"))
    assert prediction.mean_singular_value == pytest.approx(0.0198, abs=5e-5)
    x = xp_for(device).asarray(np.random.default_rng(0).standard_normal((1, 1024)).astype(np.float32))
    measured = [float(to_numpy(jsv(to_device(models.build("mlp7-linear", seed=s), device), x)).mean())
                for s in range(20)]
    assert np.mean(measured) == pytest.approx(prediction.mean_singular_value, rel=0.02)


@pytest.mark.parametrize("args, message", [
    (([10],), "widths must list at least the input and the output width"),
    (([10, 0, 10],), "a width must be in [1, inf), got 0"),
    (([10, -3],), "a width must be in [1, inf), got -3"),
    (([10, 10], "tanh"), "unknown activation 'tanh'"),
    (([10, 10], "linear", "xavier"), "unknown init 'xavier'"),
    (([10, 10], "linear", "gaussian", float("nan")), "weight_var must be finite"),
    (([10, 10, 10], "linear", "gaussian", [1.0]), "weight_var gives 1 values for 2 weight layers"),
])
def test_bad_inputs_are_one_line_minidi_errors(args, message):
    with pytest.raises(MinidiError) as info:
        theory.spectrum(*args)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_spectrum_of_refuses_what_it_cannot_predict_and_says_why():
    with pytest.raises(MinidiError, match="fully connected chains"):
        theory.spectrum_of(models.build("lenet5-relu"))
    with pytest.raises(MinidiError, match="no prediction for init 'xavier-uniform'"):
        theory.spectrum_of(models.build("mlp7-linear", init="xavier-uniform"))
