"""Exact Hessian-vector products by the R-operator (`minidi.measure.hessian`), each against an oracle that fails
differently: finite differences of gradients where the network is smooth; on ReLU and max-pool networks the
Hessian of the same network with its gates frozen (a smooth network, built here independently, its full matrix
by differences), also with a pre-activation placed exactly at 0 and within 1e-12 of it; the closed form of a
linear network."""
import copy

import numpy as np
import pytest

from minidi import models
from minidi.backend import to_device, to_numpy
from minidi.measure.hessian import Hessian, hvp, weight_parameters
from minidi.models.convnets import ConvNet
from minidi.models.mlp import MLP
from minidi.nn import (AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU,
                       Sequential, SoftmaxCrossEntropy, Tanh)
from minidi.prune import scores

RNG = np.random.default_rng


# --- oracles ------------------------------------------------------------------------------------------------
def gradient(model, x, y, T=1.0):
    """{weight name: ∇L} by the engine's backward, on the model as it is (float64)."""
    loss = SoftmaxCrossEntropy()
    model.zero_grad()
    loss.forward(model.forward(x) / T, y)
    model.backward(loss.backward() / T, input_grad=False)
    return {k: to_numpy(p.grad).copy() for k, p in weight_parameters(model).items()}


def fd_hvp(model, x, y, v, T=1.0, eps=1e-5):
    """(∇L(θ + εv) − ∇L(θ − εv)) / 2ε: exact up to O(ε²) only where no gate changes inside the step."""
    weights = weight_parameters(model)
    theta = {k: p.data.copy() for k, p in weights.items()}
    grads = []
    for sign in (1, -1):
        for k, p in weights.items():
            p.data = theta[k] + sign * eps * _like(v[k], p.data)
        grads.append(gradient(model, x, y, T))
    for k, p in weights.items():
        p.data = theta[k]
    return {k: (grads[0][k] - grads[1][k]) / (2 * eps) for k in weights}


def _like(a, ref):
    from minidi.backend import get_array_module
    return get_array_module(ref).asarray(a)


def flat(blocks):
    return np.concatenate([to_numpy(b).ravel() for b in blocks.values()])


def unflat(vec, like):
    out, start = {}, 0
    for k, b in like.items():
        out[k] = vec[start:start + b.size].reshape(b.shape)
        start += b.size
    return out


def rel(a, b):
    a, b = flat(a) if isinstance(a, dict) else a, flat(b) if isinstance(b, dict) else b
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


def random_direction(model, seed=5):
    gen = RNG(seed)
    return {k: gen.standard_normal(p.shape) for k, p in weight_parameters(model).items()}


class FrozenGate(Module):
    """x ↦ x ⊙ m with a fixed 0/1 mask m: a ReLU whose gate is frozen (smooth in every weight)."""

    def __init__(self, mask):
        self.mask = mask

    def forward(self, x):
        return x * self.mask

    def backward(self, dy, input_grad=True):
        return dy * self.mask


class FrozenPool(Module):
    """A max-pool whose routing is frozen: output (n, c, i, j) reads input position index[n, c, i, j]."""

    def __init__(self, index, x_shape):
        self.index, self.x_shape = index, x_shape

    def forward(self, x):
        n, c, h, w = x.shape
        return np.take_along_axis(x.reshape(n, c, h * w), self.index.reshape(n, c, -1), axis=2).reshape(self.index.shape)

    def backward(self, dy, input_grad=True):
        n, c, h, w = self.x_shape
        dx = np.zeros((n, c, h * w))
        np.add.at(dx, (np.arange(n)[:, None, None], np.arange(c)[None, :, None], self.index.reshape(n, c, -1)),
                  dy.reshape(n, c, -1))
        return dx.reshape(self.x_shape)


def argmax_index(x, k):
    """Flat input index of the first maximum of every k×k window (stride k), computed on the host."""
    n, c, h, w = x.shape
    win = x.reshape(n, c, h // k, k, w // k, k).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // k, w // k, k * k)
    r = win.argmax(axis=-1)
    rows = np.arange(h // k)[:, None] * k + r // k
    cols = np.arange(w // k)[None, :] * k + r % k
    return rows * w + cols


def frozen_copy(layers, x):
    """The host copy of a chain of layers with each ReLU / MaxPool2d replaced by its frozen version at input x."""
    out, a = [], to_numpy(x)
    for layer in layers:
        host = _host(layer)
        if isinstance(layer, ReLU):
            host = FrozenGate((a > 0).astype(np.float64))
        elif isinstance(layer, MaxPool2d):
            host = FrozenPool(argmax_index(a, layer.k), a.shape)
        a = host.forward(a)
        out.append(host)
    return out


def _host(layer):
    h = copy.deepcopy(layer)
    h.apply_arrays(lambda a: to_numpy(a).astype(np.float64))
    return h


def full_hessian_by_differences(model, x, y, T=1.0, eps=1e-5):
    """The full weight Hessian of a smooth model, column by column from differences of gradients."""
    weights = weight_parameters(model)
    n = sum(p.size for p in weights.values())
    like = {k: to_numpy(p.data) for k, p in weights.items()}
    cols = []
    for i in range(n):
        e = np.zeros(n)
        e[i] = 1
        cols.append(flat(fd_hvp(model, x, y, unflat(e, like), T, eps)))
    return np.array(cols).T


# --- networks -----------------------------------------------------------------------------------------------
def tanh_mlp():
    gen = RNG(0)
    return MLP([Linear(gen.standard_normal((7, 6)) * 0.6, gen.standard_normal(7) * 0.1), Tanh(),
                Linear(gen.standard_normal((5, 7)) * 0.6, gen.standard_normal(5) * 0.1), Tanh(),
                Linear(gen.standard_normal((4, 5)) * 0.6, gen.standard_normal(4) * 0.1)], "tanh")


def bn_mlp():
    gen = RNG(1)
    bn = BatchNorm1d(7, dtype=np.float64)
    bn.weight.data, bn.bias.data = gen.uniform(0.5, 1.5, 7), gen.standard_normal(7) * 0.2
    return MLP([Linear(gen.standard_normal((7, 6)) * 0.6, gen.standard_normal(7) * 0.1), bn, Tanh(),
                Linear(gen.standard_normal((4, 7)) * 0.6, gen.standard_normal(4) * 0.1)], "tanh")


def conv_net(pool, act, bn=False, seed=2):
    gen = RNG(seed)
    layers = [Conv2d(gen.standard_normal((3, 2, 3, 3)) * 0.4, gen.standard_normal(3) * 0.1, 1, 1)]
    if bn:
        norm = BatchNorm2d(3, dtype=np.float64)
        norm.weight.data, norm.bias.data = gen.uniform(0.5, 1.5, 3), gen.standard_normal(3) * 0.2
        layers.append(norm)
    layers += [act(), pool(2), Conv2d(gen.standard_normal((4, 3, 3, 3)) * 0.4, None, 1, 0), act()]
    return ConvNet(Sequential(*layers), Linear(gen.standard_normal((3, 4)) * 0.5, gen.standard_normal(3) * 0.1))


def batch(shape, classes, n=6, seed=3):
    gen = RNG(seed)
    return gen.standard_normal((n,) + shape), gen.integers(0, classes, n)


SMOOTH = {
    "tanh-mlp": (tanh_mlp, (6,), 4, None),
    "conv-avgpool-tanh": (lambda: conv_net(AvgPool2d, Tanh), (2, 6, 6), 3, None),
    "batchnorm1d-train": (bn_mlp, (6,), 4, True),
    "conv-batchnorm2d-train": (lambda: conv_net(AvgPool2d, Tanh, bn=True), (2, 6, 6), 3, True),
    "conv-batchnorm2d-eval": (lambda: conv_net(AvgPool2d, Tanh, bn=True), (2, 6, 6), 3, False),
}


@pytest.mark.parametrize("name", SMOOTH)
def test_hvp_equals_differences_of_gradients_on_smooth_networks(name, device):
    build, shape, classes, training = SMOOTH[name]
    model = to_device(build(), device)
    if training is not None:
        model.train(training)
    x, y = (to_device(a, device) for a in batch(shape, classes))
    v = random_direction(model)
    T = 1.7
    exact = hvp(model, x, y, v, temperature=T)
    H = Hessian(model, x, y, T)                                     # the float64 copy, in the model's mode
    assert rel(exact, fd_hvp(H.model, x.astype(np.float64), y, v, T)) < 1e-7


def test_the_model_is_left_untouched(device):
    model = to_device(conv_net(MaxPool2d, ReLU, bn=True), device)
    before = {k: to_numpy(a).copy() for k, a in model.state_dict().items()}
    x, y = (to_device(a, device) for a in batch((2, 6, 6), 3))
    hvp(model, x, y, random_direction(model))
    assert all(np.array_equal(before[k], to_numpy(a)) for k, a in model.state_dict().items())
    assert all(p.grad is None and p.direction is None for p in model.parameters())


# --- ReLU and max-pool: the gates frozen, kinks placed by hand -------------------------------------------
def kink_mlp(offset):
    """A ReLU MLP on dyadic numbers: unit 0 of the first layer has pre-activation exactly `offset` on sample 0
    (0 is exact: every product and sum below is a sum of dyadic rationals)."""
    gen = RNG(4)
    w1 = gen.integers(-4, 5, (5, 4)) / 8.0
    b1 = gen.integers(-4, 5, 5) / 8.0
    x = gen.integers(-2, 3, (6, 4)).astype(np.float64)
    b1[0] = -(x[0] @ w1[0]) + offset
    w2 = gen.integers(-4, 5, (3, 5)) / 8.0
    model = MLP([Linear(w1, b1), ReLU(), Linear(w2, gen.integers(-4, 5, 3) / 8.0)], "relu")
    return model, x, gen.integers(0, 3, 6)


def frozen_hessian(model, x, y, T=1.0):
    """The full Hessian of the model with its gates frozen at x: a smooth network, so differences are exact."""
    layers = model.layers.layers if isinstance(model, MLP) else model.features.layers + [model.flatten, model.classifier]
    frozen = frozen_copy(layers, x.reshape(len(x), -1) if isinstance(model, MLP) else x)
    net = MLP(frozen, "frozen") if isinstance(model, MLP) else ConvNet(Sequential(*frozen[:-2]), frozen[-1])
    return full_hessian_by_differences(net, to_numpy(x), to_numpy(y), T), {k: to_numpy(p.data) for k, p in
                                                                          weight_parameters(net).items()}


@pytest.mark.parametrize("offset", [0.25, 0.0, 1e-12, -1e-12])
def test_relu_hvp_equals_the_frozen_gate_hessian_also_at_a_kink(offset, device):
    model, x, y = kink_mlp(offset)
    pre = model.layers.layers[0].forward(x)[0, 0]                  # as the network computes it
    assert pre == offset if offset in (0.0, 0.25) else abs(pre - offset) < 1e-15   # the kink is where it was placed
    full, like = frozen_hessian(model, x, y)
    np.testing.assert_allclose(full, full.T, atol=1e-8)
    dev = to_device(copy.deepcopy(model), device)
    v = random_direction(model)
    exact = flat(hvp(dev, to_device(x, device), to_device(y, device), v))
    assert rel(exact, full @ flat(v)) < 1e-7
    for i in (0, 3, 21):                                            # single columns too
        e = np.zeros(full.shape[0])
        e[i] = 1
        assert rel(flat(hvp(dev, to_device(x, device), to_device(y, device), unflat(e, like))), full[:, i]) < 1e-7
    if offset == 0.0:                                              # the old method: a step across the kink
        wrong = flat(fd_hvp(model, x, y, v, eps=1e-4))
        assert rel(wrong, full @ flat(v)) > 1e-3


def test_maxpool_hvp_equals_the_frozen_routing_hessian(device):
    model = conv_net(MaxPool2d, ReLU, seed=7)
    x, y = batch((2, 6, 6), 3, seed=8)
    full, _ = frozen_hessian(model, x, y)
    v = random_direction(model)
    exact = flat(hvp(to_device(model, device), to_device(x, device), to_device(y, device), v))
    assert rel(exact, full @ flat(v)) < 1e-7


def test_resnet_hvp_equals_differences_where_no_gate_moves(device):
    """ResNet-20 (BatchNorm in train mode, residual blocks, ReLU): a step small enough that no gate changes
    (checked) makes differences of gradients exact up to O(ε²)."""
    model = to_device(models.build("resnet20", seed=0, n_classes=10), device).astype(np.float64)
    x, y = (to_device(a, device) for a in batch((3, 32, 32), 10, n=2))
    v = random_direction(model, seed=9)
    norm = np.sqrt(sum((a * a).sum() for a in v.values()))
    v = {k: a / norm for k, a in v.items()}                         # ‖v‖ = 1
    exact = hvp(model, x, y, v)
    eps = 1e-7
    relus = [m for _, m in model.named_modules() if isinstance(m, ReLU)]
    weights = weight_parameters(model)
    theta = {k: p.data.copy() for k, p in weights.items()}
    model.forward(x)
    gates = [to_numpy(r.y > 0).copy() for r in relus]
    for sign in (1, -1):
        for k, p in weights.items():
            p.data = theta[k] + sign * eps * _like(v[k], p.data)
        model.forward(x)
        assert all(np.array_equal(g, to_numpy(r.y > 0)) for g, r in zip(gates, relus)), "a gate moved: smaller step"
    for k, p in weights.items():
        p.data = theta[k]
    assert rel(exact, fd_hvp(model, x, y, v, eps=eps)) < 1e-5


# --- algebra: symmetry, linearity, masks, the linear network's closed form ---------------------------------
@pytest.mark.parametrize("build", [lambda: kink_mlp(0.0)[0], lambda: conv_net(MaxPool2d, ReLU, bn=True)])
def test_hvp_is_symmetric_and_linear(build, device):
    model = to_device(build(), device)
    shape = (4,) if isinstance(model, MLP) else (2, 6, 6)
    x, y = (to_device(a, device) for a in batch(shape, 3))
    H = Hessian(model, x, y)
    u, v = random_direction(model, 1), random_direction(model, 2)
    hu, hv = flat(H @ u), flat(H @ v)
    assert abs(flat(u) @ hv - flat(v) @ hu) <= 1e-10 * max(abs(flat(u) @ hv), 1e-30)
    combo = {k: 2.0 * u[k] - 3.0 * v[k] for k in u}
    assert rel(flat(H @ combo), 2.0 * hu - 3.0 * hv) < 1e-12


def test_masked_weights_get_no_curvature_and_their_direction_is_ignored(device):
    model = to_device(tanh_mlp(), device)
    w = model.layers.layers[0].weight
    mask = (RNG(3).random(w.shape) > 0.5).astype(np.float64)
    w.set_mask(to_device(mask, device))
    x, y = (to_device(a, device) for a in batch((6,), 4))
    v = random_direction(model)
    a = hvp(model, x, y, v)
    assert np.all(to_numpy(a["layers.0.weight"])[mask == 0] == 0)
    v2 = dict(v, **{"layers.0.weight": v["layers.0.weight"] + 100 * (1 - mask)})   # changes only masked entries
    assert rel(a, hvp(model, x, y, v2)) < 1e-15


def test_linear_network_hessian_equals_its_closed_form(device):
    """z = W2 W1 x: H = Σ_n J_nᵀ A_n J_n / N (A_n = diag p_n − p_n p_nᵀ, J_n = [W2 ⊗ x_nᵀ, I ⊗ h_nᵀ]) plus the
    cross block ∂²L/∂W2[a,b]∂W1[i,j] = 1[b = i] Σ_n δ_n[a] x_n[j], δ_n = (p_n − onehot_n)/N; 0 within a block."""
    gen = RNG(11)
    d, h, c, n = 4, 3, 3, 5
    w1, w2 = gen.standard_normal((h, d)), gen.standard_normal((c, h))
    x, y = gen.standard_normal((n, d)), gen.integers(0, c, n)
    hid, z = x @ w1.T, x @ w1.T @ w2.T
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    delta = (p - np.eye(c)[y]) / n
    H = np.zeros((h * d + c * h, h * d + c * h))
    for i in range(n):
        J = np.hstack([np.kron(w2, x[i][None]), np.kron(np.eye(c), hid[i][None])])
        H += J.T @ (np.diag(p[i]) - np.outer(p[i], p[i])) @ J / n
    cross = np.einsum("bi,na,nj->abij", np.eye(h), delta, x).reshape(c * h, h * d)
    H[h * d:, :h * d] += cross
    H[:h * d, h * d:] += cross.T
    model = to_device(MLP([Linear(w1), Linear(w2)], "linear"), device)
    v = {"layers.0.weight": gen.standard_normal((h, d)), "layers.1.weight": gen.standard_normal((c, h))}
    assert rel(flat(hvp(model, to_device(x, device), to_device(y, device), v)), H @ flat(v)) < 1e-12


# --- GraSP with the exact product -----------------------------------------------------------------------------
@pytest.mark.parametrize("offset", [0.0, 1e-12])
def test_grasp_scores_are_exact_and_stable_at_a_kink(offset, device):
    model, x, y = kink_mlp(offset)
    T = 200.0
    full, _ = frozen_hessian(model, x, y, T)
    g = flat(gradient(model.astype(np.float64), x, y, T))
    expected = -flat({k: to_numpy(p.data) for k, p in weight_parameters(model).items()}) * (full @ g)
    got = scores(to_device(model, device), "grasp", to_device(x, device), to_device(y, device))
    assert rel(flat(got), expected) < 1e-7
    assert np.isfinite(flat(got)).all()


def test_the_hvp_benchmark_runs(device):
    import subprocess
    import sys
    p = subprocess.run([sys.executable, "benchmarks/bench_hvp.py", "--device", device, "--batch", "4", "--repeats", "1",
                        "--models", "lenet300-100"], capture_output=True, text=True, timeout=300,
                       env={**__import__("os").environ, "MINIDI_GPU_STANDIN": "1"})
    assert p.returncode == 0, p.stderr
    rows = [line.split("  minidi")[0].strip() for line in p.stdout.splitlines() if "  minidi " in line]
    assert rows == ["lenet300-100 hvp, batch 4", "lenet300-100 H @ v reused, batch 4"]
