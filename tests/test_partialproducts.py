"""The partial products of a CNN (`minidi.measure.partialproducts`) against the full matrix of each P_l, built
here by central differences of the plain forward pass of the cut points (no R-forward, no backward): Lanczos's
top singular value equals the SVD's once the Krylov space is whole, the Hutchinson mean of s² falls within five
of its own standard errors, and the cut points compose to the model's forward pass."""
import numpy as np
import pytest

from minidi import models
from minidi.backend import device_of, to_device, to_numpy
from minidi.errors import MinidiError
from minidi.measure.partialproducts import lanczos_top, partial_products
from minidi.models.convnets import ConvNet, Init
from minidi.models.resnet import ResNet
from minidi.nn import BasicBlock, Identity, MaxPool2d, ReLU, Sequential, ZeroPadShortcut


def tiny_resnet():
    i = Init(4, dtype=np.float64)
    block = lambda c, p, s, short: BasicBlock(i.conv(c, p, 3, s, 1, False), i.bn(p), i.conv(p, p, 3, 1, 1, False),  # noqa: E731
                                             i.bn(p), short)
    stages = [Sequential(block(3, 3, 1, Identity())), Sequential(block(3, 6, 2, ZeroPadShortcut(3, 6, 2)))]
    return ResNet(i.conv(2, 3, 3, 1, 1, False), i.bn(3), stages, i.linear(6, 4), side=6)


def tiny_chain():
    i = Init(5, dtype=np.float64)
    features = Sequential(i.conv(1, 3, 3, padding=1, bias=False), i.bn(3), ReLU(), MaxPool2d(2), i.conv(3, 4, 3), ReLU())
    return ConvNet(features, i.linear(4 * 2 * 2, 3), side=8)


def warmed(model, device, shape):
    model = to_device(model, device)
    model.train()
    rng = np.random.default_rng(0)
    for _ in range(2):                                   # running statistics away from the init's 0 and 1
        model.forward(to_device(1 + 2 * rng.standard_normal((8,) + shape), device))
    model.eval()
    return model


def prefix(cuts, l, x):
    for _, modules in cuts[:l + 1]:
        for m in modules:
            x = m.forward(x)
    return x


def dense_products(model, x, eps=1e-6):
    """[P_l (N, size of h_l, D)] for every cut point, by central differences of the forward pass."""
    cuts, n, d = model.cut_points(), len(x), int(np.prod(x.shape[1:]))
    out = []
    for l in range(len(cuts)):
        rows = []
        for k in range(n):
            basis = np.eye(d).reshape((d,) + x.shape[1:])
            xk = to_numpy(x[k])
            plus = prefix(cuts, l, to_device(xk + eps * basis, device_of(x)))
            minus = prefix(cuts, l, to_device(xk - eps * basis, device_of(x)))
            rows.append((to_numpy(plus) - to_numpy(minus)).reshape(d, -1).T / (2 * eps))
        out.append(np.stack(rows))
    return out


@pytest.mark.parametrize("make, shape", [(tiny_resnet, (2, 6, 6)), (tiny_chain, (1, 8, 8))])
def test_partial_products_equal_the_dense_matrices(make, shape, device):
    model = warmed(make(), device, shape)
    x = to_device(np.random.default_rng(1).standard_normal((3,) + shape), device)
    d = int(np.prod(shape))
    cuts = model.cut_points()
    assert np.allclose(to_numpy(prefix(cuts, len(cuts) - 1, x)), to_numpy(model.forward(x)))   # they compose
    probes = 400
    rows = partial_products(model, x, steps=d, probes=probes, seed=3)
    assert [r["layer"] for r in rows] == [name for name, _ in cuts]
    for row, p in zip(rows, dense_products(model, x)):
        s = np.linalg.svd(p, compute_uv=False)                     # (N, min(size, D))
        assert row["size"] == p.shape[1]
        assert row["top"] == pytest.approx(s.max(axis=1).mean(), rel=1e-6)
        assert row["top_max"] == pytest.approx(s.max(), rel=1e-6)
        r = min(p.shape[1], d)
        a = np.einsum("nij,nik->njk", p, p)                         # PᵀP per sample
        se = np.sqrt((2 * (a ** 2).sum(axis=(1, 2)) / probes).sum()) / r / len(x)
        assert abs(row["ms"] - ((s ** 2).sum(axis=1) / r).mean()) < 5 * se


def test_lanczos_top_is_exact_on_a_whole_krylov_space_and_a_lower_bound_before(xp):
    rng = np.random.default_rng(2)
    m = rng.standard_normal((2, 12, 12))
    a = m @ m.transpose(0, 2, 1)
    top = np.linalg.eigvalsh(a)[:, -1]                              # the oracle: a dense eigensolver on the host
    a_dev = xp.asarray(a)
    apply = lambda v: (a_dev @ v[:, :, None])[:, :, 0]              # noqa: E731
    v0 = xp.asarray(rng.standard_normal((2, 12)))
    np.testing.assert_allclose(lanczos_top(apply, v0, 12), top, rtol=1e-10)
    assert np.all(lanczos_top(apply, v0, 3) <= top * (1 + 1e-12))
    low_rank = np.zeros((1, 12, 12))
    low_rank[0, :2, :2] = [[2.0, 0], [0, 5.0]]                      # a Krylov space of dimension 2, then 0
    lr_dev = xp.asarray(low_rank)
    assert lanczos_top(lambda v: (lr_dev @ v[:, :, None])[:, :, 0], xp.ones((1, 12)), 6)[0] == pytest.approx(5.0)


def test_a_model_without_cut_points_is_one_clear_error():
    with pytest.raises(MinidiError, match="names its cut points"):
        partial_products(models.build("mlp7-relu"), np.zeros((2, 1024), np.float32))
