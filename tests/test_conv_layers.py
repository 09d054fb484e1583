"""Conv2d, pooling, BatchNorm, Dropout and residual blocks: central-difference gradients and naive references."""
import numpy as np
import pytest
from minidi.testing.gradcheck import check_gradients, rel_error

from minidi.backend import to_device, to_numpy
from minidi.nn import (AvgPool2d, BasicBlock, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Flatten, GlobalAvgPool2d,
                       Identity, MaxPool2d, Sequential, ZeroPadShortcut)


def _r(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def naive_conv(x, w, b, stride, padding):
    """The definition, with loops over every output pixel (the slow reference)."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    ho, wo = (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1
    y = np.zeros((n, o, ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            y[:, :, i, j] = np.einsum("nckl,ockl->no", patch, w) + (0 if b is None else b)
    return y


@pytest.mark.parametrize("k, stride, padding, bias", [(3, 1, 1, True), (3, 2, 1, True), (5, 1, 0, False),
                                                      (2, 2, 0, True), (3, 2, 0, False), (5, 1, 2, True),
                                                      (1, 1, 0, False)])
def test_conv2d_forward_matches_the_definition_and_gradients(device, k, stride, padding, bias):
    w, b, x = _r((4, 3, k, k), 1), _r((4,), 2) if bias else None, _r((2, 3, 7, 6), 3)
    conv = Conv2d(to_device(w, device), to_device(b, device) if bias else None, stride, padding)
    y = conv.forward(to_device(x, device))
    assert rel_error(y, naive_conv(x, w, b, stride, padding)) < 1e-13
    check_gradients(conv, to_device(x, device))


@pytest.mark.parametrize("k, stride, padding, same", [(3, 1, 1, True), (5, 1, 2, True), (1, 1, 0, True),
                                                      (5, 1, 0, False), (3, 2, 1, False), (3, 1, 0, False)])
def test_same_conv_backward_by_convolution_agrees_with_col2im_over_chunks(device, k, stride, padding, same):
    """"Same" stride-1 layers take dx and dW from one im2col of dy; the general route (col2im, cols of x) must
    give the same gradients, also when the batch is cut into one-image chunks."""
    w, x, dy = _r((4, 3, k, k), 1), _r((3, 3, 7, 6), 2), None
    grads = []
    for general in (False, True):
        conv = Conv2d(to_device(w, device), to_device(_r((4,), 3), device), stride, padding)
        conv.chunk_bytes = 1
        assert conv._by_convolution() is same
        if general:
            conv._by_convolution = lambda: False
        y = conv.forward(to_device(x, device))
        dy = _r(y.shape, 4) if dy is None else dy
        dx = conv.backward(to_device(dy, device))
        grads.append([to_numpy(dx), to_numpy(conv.weight.grad), to_numpy(conv.bias.grad)])
    for by_conv, by_col2im in zip(*grads):
        np.testing.assert_allclose(by_conv, by_col2im, rtol=1e-12, atol=1e-12)


def test_maxpool_forward_and_gradients(device):
    x = _r((2, 3, 6, 6))
    pool = MaxPool2d(2)
    y = to_numpy(pool.forward(to_device(x, device)))
    np.testing.assert_array_equal(y, x.reshape(2, 3, 3, 2, 3, 2).max(axis=(3, 5)))
    check_gradients(pool, to_device(x, device))


def test_overlapping_padded_maxpool_gradients(device):
    check_gradients(MaxPool2d(3, stride=2, padding=1), to_device(_r((2, 2, 7, 7)), device))


def test_maxpool_sends_the_gradient_to_one_entry_on_ties(xp):
    pool = MaxPool2d(2)
    x = xp.zeros((1, 1, 2, 2))
    pool.forward(x)
    dx = to_numpy(pool.backward(xp.ones((1, 1, 1, 1))))
    assert dx.sum() == 1 and dx[0, 0, 0, 0] == 1                  # the first maximal entry, as PyTorch


@pytest.mark.parametrize("k, stride, padding", [(2, 2, 0), (3, 2, 1), (3, 1, 1)])
def test_avgpool_forward_and_gradients(device, k, stride, padding):
    x = _r((2, 2, 6, 6))
    pool = AvgPool2d(k, stride, padding)
    y = to_numpy(pool.forward(to_device(x, device)))
    ones = np.ones((1, 1, k, k)) / (k * k)
    ref = naive_conv(x.reshape(4, 1, 6, 6), ones, None, stride, padding).reshape(2, 2, *y.shape[2:])
    assert rel_error(y, ref) < 1e-14
    check_gradients(pool, to_device(x, device))


def test_global_avgpool_and_flatten(device):
    x = to_device(_r((3, 4, 5, 5)), device)
    np.testing.assert_allclose(to_numpy(GlobalAvgPool2d().forward(x)), to_numpy(x).mean(axis=(2, 3)))
    check_gradients(GlobalAvgPool2d(), x)
    check_gradients(Flatten(), x)
    assert Flatten().forward(x).shape == (3, 100)


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_batchnorm2d_gradients(device, train):
    bn = BatchNorm2d(3, dtype=np.float64)
    bn.weight.data, bn.bias.data = _r(3, 1) + 1.5, _r(3, 2)
    bn.running_mean, bn.running_var = _r(3, 3), np.abs(_r(3, 4)) + 0.5
    bn = to_device(bn, device)
    check_gradients(bn, to_device(_r((4, 3, 3, 3), 5) * 2 + 1, device), train=train)


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_batchnorm1d_gradients(device, train):
    bn = to_device(BatchNorm1d(5, dtype=np.float64), device)
    bn.weight.data = bn.weight.data * 0.5 + 1
    check_gradients(bn, to_device(_r((6, 5)) * 3, device), train=train)


def test_batchnorm_statistics_follow_pytorch_conventions():
    bn = BatchNorm2d(2, momentum=0.1, dtype=np.float64)
    x = _r((4, 2, 3, 3)) * 2 + 5
    y = bn.forward(x)
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(y, (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5))
    n = 4 * 3 * 3
    np.testing.assert_allclose(bn.running_mean, 0.1 * mean)
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * var * n / (n - 1))   # unbiased, as PyTorch
    assert int(bn.num_batches_tracked) == 1
    bn.eval()
    np.testing.assert_allclose(bn.forward(x), (x - bn.running_mean[None, :, None, None]) /
                               np.sqrt(bn.running_var[None, :, None, None] + 1e-5))
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]


def test_dropout_scales_masks_and_is_identity_in_eval(xp):
    d = Dropout(0.25, seed=0)
    x = xp.ones((200, 50))
    y = to_numpy(d.forward(x))
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.02 and np.allclose(y[kept], 1 / 0.75)
    np.testing.assert_array_equal(to_numpy(d.backward(xp.ones((200, 50)))), y)   # the same mask
    d.eval()
    assert d.forward(x) is x


def _block(shortcut, cin, cout, stride, seed=0):
    rng = np.random.default_rng(seed)
    conv = lambda i, o, k, s, p: Conv2d(rng.standard_normal((o, i, k, k)) * 0.3, None, s, p)  # noqa: E731
    bn = lambda c: BatchNorm2d(c, dtype=np.float64)  # noqa: E731
    if shortcut == "A":
        short = ZeroPadShortcut(cin, cout, stride)
    elif shortcut == "B":
        short = Sequential(conv(cin, cout, 1, stride, 0), bn(cout))
    else:
        short = Identity()
    return BasicBlock(conv(cin, cout, 3, stride, 1), bn(cout), conv(cout, cout, 3, 1, 1), bn(cout), short)


@pytest.mark.parametrize("shortcut, cin, cout, stride", [("A", 2, 4, 2), ("B", 2, 4, 2), ("identity", 3, 3, 1)])
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_residual_block_gradients(device, shortcut, cin, cout, stride, train):
    block = to_device(_block(shortcut, cin, cout, stride), device)
    check_gradients(block, to_device(_r((3, cin, 6, 6), 7), device), train=train)


def test_option_a_shortcut_places_the_subsampled_input_in_the_middle_channels():
    s = ZeroPadShortcut(2, 6, 2)
    x = _r((1, 2, 4, 4))
    y = s.forward(x)
    assert y.shape == (1, 6, 2, 2)
    np.testing.assert_array_equal(y[:, 2:4], x[:, :, ::2, ::2])
    assert not y[:, :2].any() and not y[:, 4:].any()


@pytest.mark.parametrize("k, padding", [(3, 1), (5, 0), (3, 0)])
def test_full_row_im2col_matches_the_general_one(xp, k, padding):
    from minidi.nn.im2col import im2col_cm, im2col_rows
    xc = xp.asarray(_r((2, 3, 7, 6)))                                   # channel-major (C, N, H, W)
    general, (ho, wo) = im2col_cm(xc, k, k, 1, padding)
    rows, (_, wp) = im2col_rows(xc, k, k, padding)
    assert wp == 6 + 2 * padding
    kept = to_numpy(rows).reshape(-1, 3, ho, wp)[..., :wo].reshape(general.shape)   # drop the junk columns
    np.testing.assert_array_equal(kept, to_numpy(general))
