"""The exact input–output Jacobian and its singular values."""
import numpy as np
import pytest
from minidi.testing.gradcheck import numerical_grad, rel_error

from minidi import models
from minidi.backend import to_device, to_numpy
from minidi.measure.jacobian import backprop_jacobian, input_jacobian, linear_jacobian
from minidi.measure.spectrum import JSVMonitor, jsv, jsv_stats, singular_values


def _model(device, act, seed=0, widths=(7, 6), d=5, c=4):
    return to_device(models.mlp(len(widths) + 1, list(widths), act, in_dim=d, n_classes=c, seed=seed,
                                dtype=np.float64), device)


def _finite_difference_jacobian(model, x):
    """J[n, k, :] = ∂ logit_k(x_n) / ∂ x_n by central differences, sample by sample (the slow reference)."""
    n, c = x.shape[0], model.forward(x).shape[1]
    J = np.zeros((n, c, x[0].size))
    for i in range(n):
        xi = x[i:i + 1].copy()
        for k in range(c):
            J[i, k] = to_numpy(numerical_grad(lambda: model.forward(xi)[0, k], xi)).ravel()
    return J


@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_jacobian_matches_central_differences(device, xp, act):
    model = _model(device, act)
    x = xp.asarray(np.random.default_rng(1).standard_normal((6, 5)))
    J = input_jacobian(model, x)
    assert J.shape == (6, 4, 5)
    assert rel_error(J, _finite_difference_jacobian(model, x)) < 1e-6


def test_jacobian_leaves_model_state_alone(device, xp):
    model = _model(device, "relu")
    model.train()
    x = xp.asarray(np.random.default_rng(1).standard_normal((3, 5)))
    input_jacobian(model, x)
    assert model.training and all(p.requires_grad and p.grad is None for p in model.parameters())


def test_linear_jacobian_is_the_weight_product_for_every_input(device, xp):
    model = _model(device, "linear")
    w = [to_numpy(layer.weight.data) for layer in model.linear_layers()]
    product = w[2] @ w[1] @ w[0]
    x = xp.asarray(np.random.default_rng(2).standard_normal((4, 5)))
    assert rel_error(linear_jacobian(model), product) < 1e-14
    J = input_jacobian(model, x)                           # the closed form, broadcast
    assert J.shape == (4, 4, 5) and rel_error(J, np.broadcast_to(product, (4, 4, 5))) < 1e-14
    assert rel_error(backprop_jacobian(model, x), J) < 1e-12   # and backprop agrees with it


def test_chunking_does_not_change_the_jacobian(device, xp):
    model = _model(device, "tanh")
    x = xp.asarray(np.random.default_rng(3).standard_normal((10, 5)))
    assert rel_error(input_jacobian(model, x, chunk=3), input_jacobian(model, x)) < 1e-14


def test_jacobian_of_image_shaped_input_is_flattened(xp):
    model = models.mlp(2, 5, "relu", in_dim=16, n_classes=3, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4))
    assert input_jacobian(model, x).shape == (2, 3, 16)


@pytest.mark.parametrize("shape", [(50, 10, 64), (30, 64, 10), (40, 10, 10)])
def test_gram_singular_values_equal_svd(device, xp, shape):
    J = xp.asarray(np.random.default_rng(0).standard_normal(shape))
    reference = np.linalg.svd(to_numpy(J), compute_uv=False)
    for method in ("gram", "svd"):
        s = singular_values(J, method)
        assert s.shape == reference.shape
        assert np.abs(to_numpy(s) - reference).max() < 1e-12 * reference.max()


def test_gram_is_as_exact_as_svd_for_ill_conditioned_float32_jacobians():
    """A float32 J with singular values spread over 4 decades: the float64 Gram route matches a float64 SVD of
    the same float32 numbers to 1e-6 relative error for every value, the smallest included."""
    rng = np.random.default_rng(0)
    u = np.linalg.qr(rng.standard_normal((20, 10, 10)))[0]
    v = np.linalg.qr(rng.standard_normal((20, 300, 10)))[0]
    s_true = np.logspace(0, -4, 10)
    J = (u * s_true) @ v.transpose(0, 2, 1)
    J32 = J.astype(np.float32)
    exact = np.linalg.svd(J32.astype(np.float64), compute_uv=False)
    gram = singular_values(J32)
    assert np.abs(gram / exact - 1).max() < 1e-6
    single = np.linalg.svd(J32, compute_uv=False)             # a float32 SVD is the less exact of the two here
    assert np.abs(gram / exact - 1).max() <= np.abs(single / exact - 1).max()


def test_singular_values_of_a_single_matrix_descend():
    J = np.diag([1.0, 3.0, 2.0])
    np.testing.assert_allclose(singular_values(J), [3.0, 2.0, 1.0], rtol=1e-14)


def test_jsv_stats_definitions():
    s = np.array([[2.0, 1.0], [4.0, 0.5]])
    st = jsv_stats(s)
    assert st["mean"] == pytest.approx(1.875) and st["std"] == pytest.approx(np.std([2, 1, 4, 0.5]))
    assert st["std_over_mean"] == pytest.approx(st["std"] / 1.875)
    assert (st["min"], st["max"]) == (0.5, 4.0)
    assert st["cond"] == pytest.approx((2 + 8) / 2)
    assert st["dist_to_one"] == pytest.approx((1 + 0 + 9 + 0.25) / 4)
    assert jsv_stats(np.array([[1.0, 0.0]]))["cond"] == float("inf")


def test_jsv_monitor_adds_stats_to_each_row(device, xp):
    model = _model(device, "relu")
    x = xp.asarray(np.random.default_rng(1).standard_normal((8, 5)))
    monitor = JSVMonitor(x)
    monitor.on_start(model, [])
    row = {}
    monitor.on_epoch_end(model, row)
    assert monitor.initial == jsv_stats(jsv(model, x))
    assert row["jsv_mean"] == monitor.initial["mean"] and "jsv_cond" in row
