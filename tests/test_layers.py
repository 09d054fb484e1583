"""Every layer, the loss and whole MLPs against float64 central differences (relative error < 1e-6)."""
import numpy as np
import pytest
from minidi.testing.gradcheck import check_gradients, numerical_grad, rel_error

from minidi import models
from minidi.backend import to_device, to_numpy
from minidi.nn import Identity, LeakyReLU, Linear, ReLU, Sequential, SoftmaxCrossEntropy, Tanh


def _x(xp, shape, seed=1):
    return xp.asarray(np.random.default_rng(seed).standard_normal(shape))


@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients(xp, bias):
    rng = np.random.default_rng(0)
    layer = Linear(xp.asarray(rng.standard_normal((4, 5))), xp.asarray(rng.standard_normal(4)) if bias else None)
    check_gradients(layer, _x(xp, (3, 5)))


@pytest.mark.parametrize("act", [ReLU(), Tanh(), LeakyReLU(0.1), Identity()], ids=repr)
def test_activation_gradients(xp, act):
    check_gradients(act, _x(xp, (6, 7)))


@pytest.mark.parametrize("act", ["relu", "tanh", "linear"])
def test_three_layer_mlp_gradients(device, xp, act):
    model = to_device(models.mlp(3, 6, act=act, in_dim=5, n_classes=4, dtype=np.float64), device)
    check_gradients(model, _x(xp, (4, 5)))


def test_linear_forward_is_x_wt_plus_b(xp):
    w, b, x = _x(xp, (3, 4), 1), _x(xp, (3,), 2), _x(xp, (5, 4), 3)
    y = Linear(w, b).forward(x)
    expected = np.einsum("ni,oi->no", to_numpy(x), to_numpy(w)) + to_numpy(b)
    assert rel_error(y, expected) < 1e-14


def test_softmax_cross_entropy_value_and_gradient(xp):
    logits = _x(xp, (5, 4)) * 3
    labels = xp.asarray([0, 3, 1, 1, 2])
    loss_fn = SoftmaxCrossEntropy()
    loss = float(loss_fn.forward(logits, labels))
    z, lab = to_numpy(logits), to_numpy(labels)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    assert abs(loss - (-np.log(p[np.arange(5), lab]).mean())) < 1e-12
    analytic = loss_fn.backward()
    numeric = numerical_grad(lambda: loss_fn.forward(logits, labels), logits)
    assert rel_error(analytic, numeric) < 1e-6


def test_softmax_cross_entropy_is_stable_for_huge_logits(xp):
    logits = xp.asarray([[1000.0, 0.0], [-1000.0, 1000.0]])
    loss = SoftmaxCrossEntropy().forward(logits, xp.asarray([0, 1]))
    assert np.isfinite(float(loss)) and abs(float(loss)) < 1e-12


def test_first_layer_can_skip_its_input_gradient(device, xp):
    model = to_device(models.mlp(3, 5, "relu", in_dim=4, n_classes=3, dtype=np.float64), device)
    x = _x(xp, (2, 4))
    model.forward(x)
    assert model.backward(xp.ones((2, 3)), input_grad=False) is None
    grads_skip = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    model.forward(x)
    assert model.backward(xp.ones((2, 3))) is not None
    for g, p in zip(grads_skip, model.parameters()):
        assert bool((g == p.grad).all())


def test_sequential_chains_in_order(xp):
    seq = Sequential(Linear(_x(xp, (3, 2), 5), None), Tanh())
    check_gradients(seq, _x(xp, (4, 2)))
