"""The decay law of a weight with zero loss gradient, against the optimizer itself (to 1e-12) and against a
step-by-step search for the first step below a threshold."""
import numpy as np
import pytest

from minidi.theory import decay
from minidi import optim
from minidi.backend import to_device, to_numpy
from minidi.nn import Parameter


@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True), (0.5, True)])
def test_the_trajectory_is_the_optimizers(momentum, nesterov, device):
    w0 = np.array([0.7, -1.3, 2.0])
    p = Parameter(to_device(w0.copy(), device))
    opt = optim.SGD([p], lr=0.1, momentum=momentum, weight_decay=5e-3, nesterov=nesterov)
    law = decay.trajectory(1.0, 0.1, momentum, 5e-3, 200, nesterov)
    for t in range(1, 201):
        p.grad = to_device(np.zeros(3), device)                     # the loss gradient is 0
        opt.step()
        np.testing.assert_allclose(to_numpy(p.data), w0 * law[t], rtol=1e-12, atol=1e-15)


def test_without_momentum_it_is_the_geometric_law():
    np.testing.assert_allclose(decay.trajectory(1.0, 0.1, 0.0, 5e-4, 50), (1 - 0.1 * 5e-4) ** np.arange(51), rtol=1e-13)


@pytest.mark.parametrize("lr, momentum, wd, ratio", [(0.1, 0.9, 5e-4, 1e-2), (0.1, 0.0, 5e-4, 1e-3),
                                                     (0.5, 0.9, 1e-2, 0.3), (0.05, 0.5, 1e-3, 0.05)])
def test_steps_to_fall_is_the_first_step_below(lr, momentum, wd, ratio):
    t = decay.steps_to_fall(ratio, lr, momentum, wd)
    w = np.abs(decay.trajectory(1.0, lr, momentum, wd, t))
    assert w[t] < ratio <= w[t - 1]
    estimate = decay.log_rate_epochs(ratio, lr, momentum, wd, 1)
    assert abs(estimate - t) <= 0.02 * t + 30                       # the limit rate's rule of thumb


def test_no_weight_decay_never_sheds():
    assert decay.epochs_to_fall(1e-2, 0.1, 0.9, 0.0, 469) is None
    assert decay.steps_to_fall(0.5, 0.1, 0.9, 0.0) is None


def test_the_studys_settings_need_many_epochs():
    """LR 0.1, momentum 0.9, weight decay 5e-4, 469 steps an epoch (MNIST, batch 128): ρ ≈ 1 − ηλ/(1 − μ), about
    0.79 an epoch, so a weight falls below 1 % of its size only after about 20 epochs."""
    assert abs(decay.rate(0.1, 0.9, 5e-4) ** 469 - 0.79) < 0.01
    epochs = decay.epochs_to_fall(1e-2, 0.1, 0.9, 5e-4, 469)
    assert 19 < epochs < 21
