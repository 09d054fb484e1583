"""The singular values of a convolution by the 2-D FFT of its kernel (`minidi.measure.convspectra`) against the
dense matrix of the same layer: circular padding built here with np.roll (an independent oracle), equal to 1e-6;
minidi's zero-padded Conv2d, close but not equal (the border); a strided layer through its polyphase kernel against
the dense matrix of the strided map; each layer of a CNN at the side its input has in the network."""
import numpy as np
import pytest

from minidi.backend import to_device, to_numpy, xp_for
from minidi.errors import MinidiError
from minidi import models
from minidi.measure.convspectra import (circular_singular_values, layer_singular_values, layer_spectra,
                                        strided_singular_values)
from minidi.nn.checks import conv_input_sizes
from minidi.nn import Conv2d


def circular_dense(kernel, n):
    """The (out·n², in·n²) matrix of y[o, i, j] = Σ_{c, a, b} k[o, c, a, b] x[c, i + a − p, j + b − p] (indices mod n)."""
    out, cin, kh, kw = kernel.shape
    p = kh // 2
    cols = []
    for c in range(cin):
        for i in range(n):
            for j in range(n):
                x = np.zeros((cin, n, n))
                x[c, i, j] = 1.0
                y = np.zeros((out, n, n))
                for a in range(kh):
                    for b in range(kw):
                        shifted = np.roll(np.roll(x, -(a - p), axis=1), -(b - p), axis=2)
                        y += np.einsum("oc,chw->ohw", kernel[:, :, a, b], shifted)
                cols.append(y.ravel())
    return np.array(cols).T


@pytest.mark.parametrize("shape, n", [((3, 2, 3, 3), 5), ((2, 4, 3, 3), 6), ((4, 4, 1, 1), 4), ((2, 3, 2, 2), 5)])
def test_fft_singular_values_equal_the_dense_svd_of_the_circular_layer(shape, n, device):
    kernel = np.random.default_rng(0).standard_normal(shape)
    got = circular_singular_values(xp_for(device).asarray(kernel), n)
    dense = np.linalg.svd(circular_dense(kernel, n), compute_uv=False)
    k = min(shape[0], shape[1]) * n * n
    assert got.shape == (k,)
    assert np.allclose(got, dense[:k], atol=1e-6, rtol=0)


def test_zero_padding_differs_from_circular_only_near_the_border(device):
    """minidi's Conv2d (zero padding 1): its dense matrix, column by column through forward; the largest singular
    value is close to the circular one, the spectra are not equal."""
    gen = np.random.default_rng(1)
    kernel, n = gen.standard_normal((2, 2, 3, 3)), 8
    conv = to_device(Conv2d(kernel, padding=1), device)
    xp = xp_for(device)
    basis = xp.asarray(np.eye(2 * n * n).reshape(2 * n * n, 2, n, n))
    zero = np.linalg.svd(to_numpy(conv.forward(basis)).reshape(2 * n * n, -1).T, compute_uv=False)
    circular = layer_singular_values(conv, n)
    assert abs(zero[0] - circular[0]) / circular[0] < 0.1
    assert not np.allclose(zero, circular, atol=1e-3)


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(MinidiError, match="a convolution kernel is"):
        circular_singular_values(np.ones((3, 3)), 4)
    with pytest.raises(MinidiError, match="the image side n must be"):
        circular_singular_values(np.ones((1, 1, 3, 3)), 2)
    with pytest.raises(MinidiError, match="stride-1"):
        layer_singular_values(Conv2d(np.ones((1, 1, 3, 3)), stride=2), 8)


def strided_dense(kernel, n, s):
    """The matrix of y[o, i, j] = Σ_{c, a, b} k[o, c, a, b] x[c, (s·i + a) mod n, (s·j + b) mod n], i, j < n / s."""
    out, cin, kh, kw = kernel.shape
    m = n // s
    rows = np.zeros((out, m, m, cin, n, n))
    for i in range(m):
        for j in range(m):
            for a in range(kh):
                for b in range(kw):
                    rows[:, i, j, :, (s * i + a) % n, (s * j + b) % n] += kernel[:, :, a, b]
    return rows.reshape(out * m * m, cin * n * n)


@pytest.mark.parametrize("shape, n, s", [((3, 2, 3, 3), 6, 2), ((4, 2, 1, 1), 4, 2), ((2, 3, 3, 3), 6, 3),
                                         ((2, 2, 3, 3), 5, 1)])
def test_strided_fft_singular_values_equal_the_dense_svd(shape, n, s, device):
    kernel = np.random.default_rng(2).standard_normal(shape)
    got = strided_singular_values(xp_for(device).asarray(kernel), n, s)
    dense = np.linalg.svd(strided_dense(kernel, n, s), compute_uv=False)
    k = min(len(got), len(dense))
    assert len(got) == min(shape[0], shape[1] * s * s) * (n // s) ** 2
    assert np.allclose(got[:k], dense[:k], atol=1e-6, rtol=0) and np.allclose(got[k:], 0, atol=1e-6)
    if dense.size > k:
        assert np.allclose(dense[k:], 0, atol=1e-6)                # the rest of a wide map's values are 0
    with pytest.raises(MinidiError, match="divisible by"):
        strided_singular_values(kernel, 7, 2)


def test_layer_spectra_take_each_conv_at_its_inputs_side(device):
    model = to_device(models.conv4(channels=(3, 4, 5, 2), seed=1, dtype=np.float64), device)
    x = xp_for(device).asarray(np.random.default_rng(0).standard_normal((2, 3, 32, 32)))
    model.train()
    rows = layer_spectra(model, x)
    assert model.training                                                 # eval inside, restored after
    plan = model.pruning_plan()
    assert [r["layer"] for r in rows] == [e.name for e in plan]
    assert list(conv_input_sizes(model).values()) == [(32, 32), (32, 32), (16, 16), (16, 16)]
    for row, e, n in zip(rows, plan, (32, 32, 16, 16)):
        want = circular_singular_values(e.layer.weight.data, n)
        assert row["local"]["max"] == pytest.approx(want.max(), rel=1e-12)
        assert row["local"]["dist_to_one"] == pytest.approx(((want - 1) ** 2).mean(), rel=1e-12)
    w = to_numpy(plan[-1].layer.weight.data)
    assert rows[-1]["local"]["mean"] == pytest.approx(np.linalg.svd(w, compute_uv=False).mean(), rel=1e-12)
    resnet = models.build("resnet20")
    sides = [h for h, w in conv_input_sizes(resnet).values()]
    assert sides == [32] * 7 + [32] + [16] * 5 + [16] + [8] * 5               # stride-2 convs read the larger side
