"""Approximate isometry (Lee et al., ICLR 2020): make each weight matrix orthogonal by gradient descent on
‖W Wᵀ − I‖²_F, respecting its pruning mask (OrthP's exact QR would fill the pruned entries).
"""
from ..models.plan import weight_layers
from ..backend import get_array_module
from ..errors import check_number
from .orthogonal import as_matrix


def isometry_loss(w):
    """‖W Wᵀ − I‖²_F for a wide (or square) W, ‖Wᵀ W − I‖²_F for a tall one; returns (loss, dloss/dW).

    d/dW ‖W Wᵀ − I‖² = 4 (W Wᵀ − I) W;   d/dW ‖Wᵀ W − I‖² = 4 W (Wᵀ W − I).
    The loss is a 0-d array on W's device (reading it with float() waits for the GPU).
    """
    xp = get_array_module(w)
    if w.shape[0] <= w.shape[1]:
        e = w @ w.T - xp.eye(w.shape[0], dtype=w.dtype)
        return (e * e).sum(), 4 * e @ w
    e = w.T @ w - xp.eye(w.shape[1], dtype=w.dtype)
    return (e * e).sum(), 4 * w @ e


def approximate_isometry(model, steps=10000, lr=1e-3, tol=1e-6, check_every=100, gain=1.0):
    """Lee et al. (ICLR 2020): per layer, minimise ‖W Wᵀ − I‖²_F with Adam, re-applying the mask each step;
    then W ← gain · W (gain √2 for ReLU networks, as OrthP's: the rows end orthogonal with norm gain).

    Stops a layer early when its loss falls below tol, read every `check_every` steps (the only times the
    device is waited for). Returns {layer index: (initial loss, final loss, steps)}, the losses before the gain.
    """
    from ..nn import Parameter
    from ..optim import Adam
    steps, check_every = (check_number(steps, "steps", low=1, integer=True),
                          check_number(check_every, "check_every", low=1, integer=True))
    lr, tol = check_number(lr, "lr", low=0, low_open=True), check_number(tol, "tol", low=0)
    gain = check_number(gain, "gain", low=0, low_open=True)
    out = {}
    for i, layer in enumerate(weight_layers(model)):
        w = layer.weight
        shadow = Parameter(as_matrix(w.data))              # a (out, fan-in) view of the same data
        if w.mask is not None:
            shadow.mask = w.mask.reshape(shadow.shape)
        opt = Adam([shadow], lr=lr)
        first = float(isometry_loss(shadow.data)[0])
        step = 0
        for step in range(1, steps + 1):
            loss, grad = isometry_loss(shadow.data)
            shadow.grad = shadow.mask * grad if shadow.mask is not None else grad
            opt.step()                              # Adam re-applies the mask after the update
            if step % check_every == 0 and float(loss) < tol:
                break
        out[i] = (first, float(isometry_loss(shadow.data)[0]), step)
        w.data = (gain * shadow.data if gain != 1.0 else shadow.data).reshape(w.shape)
    return out
