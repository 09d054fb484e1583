"""OrthP, orthogonal init, approximate isometry and the TPP regularizer."""
import copy

import numpy as np
import pytest
from minidi.testing.gradcheck import numerical_grad, rel_error

from minidi import models
from minidi.backend import to_device, to_numpy
from minidi.recover import TPPRegularizer, approximate_isometry, isometry_loss, orthogonal_init, orthp
from minidi.nn.init import orthogonalize
from minidi.prune import prune_neurons
from minidi.measure.spectrum import jsv


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-5), (np.float64, 1e-10)])
def test_orthp_makes_every_jsv_of_a_pruned_linear_mlp_one(device, dtype, tol):
    model = to_device(models.build("mlp7-linear", seed=0, dtype=dtype), device)
    pruned = prune_neurons(model, "0-5:0.8,6:0")
    x = to_device(np.random.default_rng(0).standard_normal((5, 1024)).astype(dtype), device)
    assert abs(to_numpy(jsv(pruned, x)) - 1).max() > 0.5          # pruning breaks isometry...
    orthp(pruned)
    s = to_numpy(jsv(pruned, x))
    assert s.shape == (5, 10) and abs(s - 1).max() < tol          # ...OrthP restores it exactly


def test_orthp_leaves_biases_and_scales_by_gain(device):
    model = to_device(models.build("mlp7-relu", seed=1), device)
    biases = [to_numpy(layer.bias.data).copy() for layer in model.linear_layers()]
    orthp(model, gain=np.sqrt(2))
    for layer, b in zip(model.linear_layers(), biases):
        w = to_numpy(layer.weight.data).astype(np.float64)
        gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
        np.testing.assert_allclose(gram, 2 * np.eye(len(gram)), atol=1e-5)
        np.testing.assert_array_equal(to_numpy(layer.bias.data), b)


@pytest.mark.parametrize("shape", [(5, 9), (9, 5), (6, 6)])
def test_orthogonalize_is_gram_schmidt(xp, shape):
    """Q from the sign-fixed QR equals Gram–Schmidt: orthonormal, and Qᵀ A upper triangular with R_jj > 0."""
    a = xp.asarray(np.random.default_rng(0).standard_normal(shape))
    q = orthogonalize(a)
    wide = shape[0] < shape[1]
    a_t, q_t = (a.T, q.T) if wide else (a, q)
    qn, an = to_numpy(q_t), to_numpy(a_t)
    np.testing.assert_allclose(qn.T @ qn, np.eye(qn.shape[1]), atol=1e-12)
    r = qn.T @ an
    np.testing.assert_allclose(np.tril(r, -1), 0, atol=1e-12)
    assert (np.diag(r) > 0).all()


def test_orthogonal_init_is_seeded_and_orthogonal(device):
    a, b = models.build("mlp7-linear"), to_device(models.build("mlp7-linear"), device)
    orthogonal_init(a, seed=2)
    orthogonal_init(b, seed=2)                                        # the same draw on either device
    for la, lb in zip(a.linear_layers(), b.linear_layers()):
        np.testing.assert_array_equal(la.weight.data, to_numpy(lb.weight.data))
        w = to_numpy(lb.weight.data).astype(np.float64)
        gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
        np.testing.assert_allclose(gram, np.eye(len(gram)), atol=1e-5)


@pytest.mark.parametrize("shape", [(4, 7), (7, 4)])
def test_isometry_loss_gradient(shape):
    w = np.random.default_rng(0).standard_normal(shape)
    loss, grad = isometry_loss(w)
    assert rel_error(grad, numerical_grad(lambda: isometry_loss(w)[0], w)) < 1e-7


def test_approximate_isometry_reduces_the_loss_and_keeps_masks(device):
    model = to_device(models.mlp(3, 16, "relu", in_dim=12, n_classes=4, seed=0, dtype=np.float64), device)
    mask = (np.random.default_rng(1).random((16, 12)) > 0.3).astype(np.float64)
    model.linear_layers()[0].weight.set_mask(to_device(mask, device))
    result = approximate_isometry(model, steps=2000, lr=1e-2)
    for first, last, _ in result.values():
        assert last < 0.2 * first
    w = to_numpy(model.linear_layers()[0].weight.data)
    assert not w[mask == 0].any()
    _, _, steps = approximate_isometry(to_device(models.mlp(2, 8, "linear", in_dim=8, n_classes=8), device),
                                       steps=5000, lr=1e-2, tol=1e-6)[0]
    assert steps < 5000                                                  # stopped early once isometric


def test_tpp_regularizer_gradients_match_its_penalty(device):
    model = to_device(models.mlp(3, 6, "relu", in_dim=5, n_classes=3, seed=0, dtype=np.float64), device)
    reg = TPPRegularizer(model, "0-1:0.5", step=0.01, every=1)
    reg.iteration = 7
    assert reg.lam == pytest.approx(0.07)
    assert sorted(reg.pruned) == [0, 1] and all(len(v) == 3 for v in reg.pruned.values())
    _, grads = reg.penalty_and_grads(model)
    for i, layer in enumerate(model.linear_layers()[:2]):
        numeric_w = numerical_grad(lambda: reg.penalty_and_grads(model)[0], layer.weight.data)
        numeric_b = numerical_grad(lambda: reg.penalty_and_grads(model)[0], layer.bias.data)
        assert rel_error(grads[i][0], numeric_w) < 1e-6
        assert rel_error(grads[i][1]["bias"], numeric_b) < 1e-6


def test_tpp_on_a_cnn_also_decays_the_batchnorm_of_pruned_filters(device):
    model = to_device(models.build("conv4", dtype=np.float64), device)
    reg = TPPRegularizer(model, "0:0.5", step=0.1, every=1)
    reg.iteration = 5
    bn = model.pruning_plan()[0].bn
    bn.weight.data[:] = 2.0
    _, grads = reg.penalty_and_grads(model)
    g = to_numpy(grads[0][1]["bn_weight"])
    gone = reg.pruned[0]
    np.testing.assert_allclose(g[gone], 0.5 * 2.0)                        # λ·γ on the pruned channels
    assert not np.delete(g, gone).any()                                   # nothing on the kept ones


def test_tpp_penalty_vanishes_when_pruned_units_are_zero_and_lambda_caps(device):
    model = to_device(models.mlp(2, 6, "linear", in_dim=4, n_classes=3, seed=0, dtype=np.float64), device)
    reg = TPPRegularizer(model, "0:0.5", step=0.5, every=1)
    reg.iteration = 10
    assert reg.lam == 1.0
    layer = model.linear_layers()[0]
    gone = to_device(np.asarray(reg.pruned[0]), device)
    layer.weight.data[gone] = 0
    layer.bias.data[gone] = 0
    penalty, _ = reg.penalty_and_grads(model)
    assert float(penalty) == 0.0


def test_tpp_as_training_callback_drives_pruned_rows_down(device):
    from minidi import optim
    from minidi.data import synthetic
    from minidi.schedules import Constant
    from minidi.train import fit
    x, y = (to_device(a, device) for a in synthetic(300, 10, classes=3, seed=0))
    data = {"train": (x, y), "test": (x[:60], y[:60])}
    model = to_device(models.mlp(3, 12, "relu", in_dim=10, n_classes=3, seed=0), device)
    reg = TPPRegularizer(model, "0:0.5", step=0.05, every=1)
    gone = reg.pruned[0]
    norm = lambda: float(np.abs(to_numpy(model.linear_layers()[0].weight.data)[gone]).sum())  # noqa: E731
    before = norm()
    fit(model, optim.SGD(model.parameters(), lr=0.05, momentum=0.9), Constant(0.05), data, 6, 30,
        callbacks=[reg])
    assert reg.iteration == 60 and norm() < 0.2 * before
    after = copy.deepcopy(model)
    assert prune_neurons(after, "0:0.5").widths == [10, 6, 12, 3]
