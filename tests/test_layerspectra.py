"""Per-layer spectra: for a linear MLP the local singular values are those of the weight matrices, the product of
the local Jacobians is the engine's input Jacobian on a ReLU MLP, and the Gram route equals explicit SVDs."""
import numpy as np
import pytest

from minidi.measure import layerspectra
from minidi import models
from minidi.backend import to_device, to_numpy
from minidi.errors import MinidiError
from minidi.measure.jacobian import backprop_jacobian
from minidi.models.mlp import mlp
from minidi.measure.spectrum import jsv_stats


def _x(device, n=12, d=20, seed=0):
    return to_device(np.random.default_rng(seed).standard_normal((n, d)), device)


def test_linear_mlp_local_singular_values_are_the_weights(device):
    model = to_device(mlp(4, [15, 12, 9], act="linear", in_dim=20, n_classes=6, seed=1, dtype=np.float64), device)
    spectra = layerspectra.layer_spectra(model, _x(device))
    for row, layer in zip(spectra, model.linear_layers()):
        s = np.linalg.svd(to_numpy(layer.weight.data), compute_uv=False)
        expected = jsv_stats(np.tile(s, (12, 1)))
        for k in ("mean", "min", "max", "dist_to_one"):
            assert abs(row["local"][k] - expected[k]) <= 1e-10 * max(1.0, abs(expected[k])), (row["layer"], k)


def test_the_product_of_local_jacobians_is_the_input_jacobian_on_a_relu_mlp(device):
    model = to_device(mlp(4, [15, 12, 9], act="relu", in_dim=20, n_classes=6, seed=2, dtype=np.float64), device)
    x = _x(device, seed=3)
    local = layerspectra.local_jacobians(model, x)
    product = local[0]
    for J in local[1:]:
        product = J @ product
    np.testing.assert_allclose(to_numpy(product), to_numpy(backprop_jacobian(model, x)), rtol=1e-10, atol=1e-12)


def test_the_gram_route_equals_explicit_svds(device):
    model = to_device(mlp(3, [25, 8], act="tanh", in_dim=20, n_classes=5, seed=4, dtype=np.float64), device)
    x = _x(device, seed=5)
    spectra = layerspectra.layer_spectra(model, x, chunk=5)
    local = [to_numpy(J) for J in layerspectra.local_jacobians(model, x)]
    product = None
    for row, J in zip(spectra, local):
        product = J if product is None else J @ product
        for key, matrices in (("local", J), ("product", product)):
            s = np.linalg.svd(matrices, compute_uv=False)
            expected = jsv_stats(s)
            for k in ("mean", "min", "max", "dist_to_one"):
                assert abs(row[key][k] - expected[k]) <= 1e-9 * max(1.0, abs(expected[k])), (row["layer"], key, k)
    assert layerspectra.furthest_from_isometry(spectra) in {r["layer"] for r in spectra}


def test_only_fully_connected_chains():
    with pytest.raises(MinidiError, match="fully connected chains"):
        layerspectra.layer_spectra(models.build("lenet5-relu"), np.zeros((1, 1, 32, 32), np.float32))
