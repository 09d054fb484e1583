"""The curvature lens against the full Hessian of a network with a few hundred weights: Lanczos' and the power
iteration's top eigenvalue against numpy.linalg.eigvalsh, Hutchinson's trace within its stated error,
stochastic Lanczos quadrature's nodes and weights, and the kept-weights space of a pruned network."""
import numpy as np
import pytest

from minidi.measure import curvature
from minidi.backend import rng as backend_rng
from minidi.backend import to_device, to_numpy
from minidi.measure.hessian import Hessian
from minidi.models.mlp import MLP
from minidi.nn import Linear, ReLU


def small_net(seed=0):
    gen = np.random.default_rng(seed)
    dims = [8, 12, 10, 4]                                           # 96 + 120 + 40 = 256 weights
    layers = []
    for i in range(3):
        layers.append(Linear(gen.standard_normal((dims[i + 1], dims[i])) / np.sqrt(dims[i]),
                             gen.standard_normal(dims[i + 1]) * 0.1))
        if i < 2:
            layers.append(ReLU())
    return MLP(layers, "relu")


def operator(device, mask=None):
    gen = np.random.default_rng(1)
    model = small_net()
    if mask is not None:
        model.layers.layers[0].weight.set_mask(mask)
    model = to_device(model, device)
    x, y = gen.standard_normal((20, 8)), gen.integers(0, 4, 20)
    return Hessian(model, to_device(x, device), to_device(y, device))


def full_matrix(H):
    space = curvature.FlatSpace(H)
    n = int(space.mask.size)
    cols = []
    for i in range(n):
        e = np.zeros(n)
        e[i] = 1
        cols.append(to_numpy(space.apply(space.xp.asarray(e))))
    return np.array(cols).T


def test_lanczos_and_power_iteration_find_the_top_eigenvalue(device):
    H = operator(device)
    full = full_matrix(H)
    np.testing.assert_allclose(full, full.T, atol=1e-12)
    eig = np.linalg.eigvalsh(full)
    top, bound = curvature.top_eigenvalues(H, k=2, steps=80)
    assert abs(top[0] - eig[-1]) <= 1e-8 * abs(eig[-1]) and abs(top[1] - eig[-2]) <= 1e-6 * abs(eig[-1])
    assert bound[0] < 1e-6 * abs(eig[-1])                          # the stated error bound is small and holds
    largest = eig[np.argmax(np.abs(eig))]
    value, iters = curvature.power_iteration(H, iters=2000, tol=1e-10)
    assert abs(value - largest) <= 1e-6 * abs(largest) and iters < 2000


def test_hutchinson_trace_is_within_its_stated_error(device):
    H = operator(device)
    exact = np.trace(full_matrix(H))
    estimate, se = curvature.hutchinson_trace(H, probes=200, seed=3)
    assert se > 0 and abs(estimate - exact) <= 4 * se


def test_slq_nodes_and_weights(device):
    H = operator(device)
    eig = np.linalg.eigvalsh(full_matrix(H))
    nodes, weights = curvature.spectral_density(H, probes=3, steps=12, seed=4)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-12)
    assert nodes.min() >= eig[0] - 1e-9 and nodes.max() <= eig[-1] + 1e-9
    space = curvature.FlatSpace(H)
    z = space.rademacher(backend_rng(4))                            # the first probe, drawn again
    first_moment = space.dot(z, space.apply(z)) / space.dot(z, z)
    assert abs((weights[0] * nodes[0]).sum() - first_moment) <= 1e-10 * max(abs(first_moment), 1e-30)
    grid = np.linspace(eig[0] - 1, eig[-1] + 1, 2001)
    curve = curvature.density_curve(nodes, weights, grid, sigma=0.05)
    assert abs(((curve[1:] + curve[:-1]) / 2 * np.diff(grid)).sum() - 1) < 1e-3                     # a density: it integrates to 1


def test_the_space_is_the_kept_weights(device):
    mask = (np.random.default_rng(5).random((12, 8)) > 0.5).astype(np.float32)
    H = operator(device, mask)
    space = curvature.FlatSpace(H)
    assert space.n == int(mask.sum()) + 120 + 40
    full = full_matrix(H)
    kept = to_numpy(space.mask) == 1
    assert np.all(full[~kept] == 0) and np.all(full[:, ~kept] == 0)
    eig = np.linalg.eigvalsh(full[np.ix_(kept, kept)])
    top, _ = curvature.top_eigenvalues(H, k=1, steps=80)
    assert abs(top[0] - eig[-1]) <= 1e-8 * abs(eig[-1])
    summary = curvature.summary(H, steps=40, probes=50)
    assert summary["weights"] == space.n and abs(summary["top_eigenvalue"] - eig[-1]) <= 1e-6 * abs(eig[-1])


@pytest.mark.parametrize("steps", [1, 5])
def test_lanczos_basis_is_orthonormal(steps, device):
    _, _, Q, _ = curvature.lanczos(operator(device), steps)
    q = np.array([to_numpy(v) for v in Q])
    np.testing.assert_allclose(q @ q.T, np.eye(len(Q)), atol=1e-12)
