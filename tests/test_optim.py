"""Optimizers against their update equations, step by step, and masks."""
import numpy as np
import pytest

from minidi import optim
from minidi.backend import to_device, to_numpy
from minidi.nn import Parameter


def _param(device, values):
    p = Parameter(to_device(np.array(values, dtype=np.float64), device))
    return p


def _set_grad(p, device, values):
    p.grad = to_device(np.array(values, dtype=np.float64), device)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_matches_the_pytorch_update_rule(device, nesterov):
    w0, lr, mu, wd = np.array([1.0, -2.0, 0.5]), 0.1, 0.9, 0.01
    grads = [np.array([0.3, -0.1, 0.2]), np.array([-0.4, 0.5, 0.0]), np.array([0.1, 0.1, -0.3])]
    p = _param(device, w0)
    opt = optim.SGD([p], lr=lr, momentum=mu, weight_decay=wd, nesterov=nesterov)
    w, v = w0.copy(), None
    for g in grads:
        _set_grad(p, device, g)
        opt.step()
        d = g + wd * w                                   # reference, written from the equations
        v = d.copy() if v is None else mu * v + d
        w = w - lr * (d + mu * v if nesterov else v)
        np.testing.assert_allclose(to_numpy(p.data), w, rtol=1e-14, atol=1e-15)


def test_sgd_without_momentum_is_plain_gradient_descent(device):
    p = _param(device, [1.0, 2.0])
    opt = optim.SGD([p], lr=0.5)
    _set_grad(p, device, [2.0, -2.0])
    opt.step()
    np.testing.assert_array_equal(to_numpy(p.data), [0.0, 3.0])


def test_adam_matches_its_update_rule(device):
    w0, lr, (b1, b2), eps = np.array([0.5, -1.0]), 0.01, (0.9, 0.999), 1e-8
    p = _param(device, w0)
    opt = optim.Adam([p], lr=lr)
    w, m, v = w0.copy(), np.zeros(2), np.zeros(2)
    for t, g in enumerate([np.array([0.2, -0.3]), np.array([0.1, 0.4])], start=1):
        _set_grad(p, device, g)
        opt.step()
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        w = w - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        np.testing.assert_allclose(to_numpy(p.data), w, rtol=1e-13)


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
                                  lambda ps: optim.Adam(ps, lr=0.1)], ids=["sgd", "adam"])
def test_optimizers_keep_masked_weights_zero(device, make):
    p = _param(device, [1.0, 2.0, 3.0])
    opt = make([p])
    _set_grad(p, device, [1.0, 1.0, 1.0])
    opt.step()                                            # momentum/moments built up before the mask
    p.set_mask(to_device(np.array([1.0, 0.0, 1.0]), device))
    for _ in range(3):
        _set_grad(p, device, [1.0, 1.0, 1.0])             # even a stray gradient does not revive it
        opt.step()
        assert to_numpy(p.data)[1] == 0.0


def test_sgd_state_dict_round_trip(device):
    p, q = _param(device, [1.0, 2.0]), _param(device, [1.0, 2.0])
    a, b = optim.SGD([p], lr=0.1, momentum=0.9), optim.SGD([q], lr=0.1, momentum=0.9)
    _set_grad(p, device, [1.0, -1.0])
    a.step()
    b.load_state_dict({k: to_numpy(v) for k, v in a.state_dict().items()})
    q.data = p.data.copy()
    for param in (p, q):
        _set_grad(param, device, [0.5, 0.5])
    a.step()
    b.step()
    np.testing.assert_array_equal(to_numpy(p.data), to_numpy(q.data))


def test_zero_grad_clears_and_backward_accumulates():
    p = Parameter(np.zeros(2))
    p.accumulate(np.array([1.0, 2.0]))
    p.accumulate(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(p.grad, [2.0, 4.0])
    p.zero_grad()
    assert p.grad is None
