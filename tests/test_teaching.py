"""The teaching layer: the readable convolution equals the fast one, and the public gradient checker catches a
wrong backward (both checks: every entry, and Chainer's one random direction)."""
import numpy as np
import pytest

from minidi.backend import to_device, to_numpy
from minidi.nn import Conv2d, Linear, Module
from minidi.nn.reference import ReferenceConv2d
from minidi.testing.gradcheck import check_direction, check_gradients, rel_error


@pytest.mark.parametrize("c_in, c_out, k, stride, padding, side", [
    (3, 4, 3, 1, 1, 8),      # "same": the fast layer computes dx as a convolution of dy
    (2, 5, 5, 1, 0, 9),      # valid, LeNet-like
    (3, 2, 3, 2, 1, 9),      # strided: col2im
    (1, 3, 1, 1, 0, 5),      # 1×1
])
def test_reference_convolution_equals_the_fast_one(c_in, c_out, k, stride, padding, side, device):
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((c_out, c_in, k, k)), rng.standard_normal(c_out)
    x = to_device(rng.standard_normal((4, c_in, side, side)), device)
    fast = to_device(Conv2d(w.copy(), b.copy(), stride, padding), device)
    slow = to_device(ReferenceConv2d(w.copy(), b.copy(), stride, padding), device)
    y_fast, y_slow = fast.forward(x), slow.forward(x)
    assert y_fast.shape == y_slow.shape
    assert rel_error(y_fast, y_slow) < 1e-12
    dy = to_device(rng.standard_normal(y_fast.shape), device)
    dx_fast, dx_slow = fast.backward(dy), slow.backward(dy)
    assert rel_error(dx_fast, dx_slow) < 1e-12
    assert rel_error(fast.weight.grad, slow.weight.grad) < 1e-12
    assert rel_error(fast.bias.grad, slow.bias.grad) < 1e-12


def test_reference_convolution_passes_the_gradient_checks(device):
    rng = np.random.default_rng(1)
    layer = to_device(ReferenceConv2d(rng.standard_normal((2, 2, 3, 3)), rng.standard_normal(2), 2, 1), device)
    x = to_device(rng.standard_normal((2, 2, 5, 5)), device)
    assert check_gradients(layer, x) < 1e-7
    assert check_direction(layer, x) < 1e-7


class WrongLinear(Module):
    """A Linear whose backward forgets the transpose of a square W: forward and shapes are right, gradients not."""

    def __init__(self, w):
        self.inner = Linear(w)

    def forward(self, x):
        return self.inner.forward(x)

    def backward(self, dy, input_grad=True):
        self.inner.weight.accumulate(dy.T @ self.inner.x)
        return dy @ self.inner.weight.data.T


def test_the_gradient_checker_passes_a_right_backward_and_catches_a_wrong_one(device):
    rng = np.random.default_rng(2)
    w = rng.standard_normal((4, 4))
    x = to_device(rng.standard_normal((3, 4)), device)
    right = to_device(Linear(w.copy(), rng.standard_normal(4)), device)
    assert check_gradients(right, x) < 1e-8 and check_direction(right, x) < 1e-8
    wrong = to_device(WrongLinear(w.copy()), device)
    with pytest.raises(AssertionError):
        check_gradients(wrong, x)
    with pytest.raises(AssertionError):
        check_direction(wrong, x)
    assert to_numpy(x).shape == (3, 4)                 # the checks leave the input as it was
