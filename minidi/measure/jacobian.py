"""The exact input–output Jacobian J_n = ∂ logits(x_n) / ∂ x_n, shape (C, D) per sample.

By backprop, not finite differences: one forward pass of the batch in eval mode, then C backward passes;
pass k starts from the upstream gradient one-hot(k) for every sample and returns row k of every sample's
Jacobian at once (samples do not interact in eval mode). Parameter gradients are switched off meanwhile.

For a purely linear network f(x) = W_L ⋯ W_1 x + const, so J = W_L ⋯ W_1 for every input (biases drop out):
`input_jacobian` uses that closed form automatically when `model.is_linear` is true.
"""
from contextlib import contextmanager

from ..backend import get_array_module


@contextmanager
def inference_backward(model):
    """Eval mode and no parameter gradients inside the block; the model's state is restored afterwards."""
    was_training = model.training
    params = model.parameters()
    flags = [p.requires_grad for p in params]
    model.eval()
    for p in params:
        p.requires_grad = False
    try:
        yield model
    finally:
        for p, flag in zip(params, flags):
            p.requires_grad = flag
        model.train(was_training)


def linear_jacobian(model):
    """J = W_L ⋯ W_2 W_1, shape (C, D), for a model whose layers are all linear (masks already in the weights)."""
    weights = [layer.weight.data for layer in model.linear_layers()]
    J = weights[0]
    for W in weights[1:]:
        J = W @ J
    return J


def backprop_jacobian(model, x):
    """J (N, C, D) by one forward pass and C one-hot backward passes (x: (N, ...) on the model's device)."""
    xp = get_array_module(x)
    n = x.shape[0]
    with inference_backward(model):
        out = model.forward(x)
        C = out.shape[1]
        J = xp.empty((n, C, x[0].size), dtype=out.dtype)
        onehot = xp.zeros_like(out)
        for k in range(C):                       # C passes over the whole batch, never a loop over samples
            onehot.fill(0)
            onehot[:, k] = 1
            J[:, k, :] = model.backward(onehot).reshape(n, -1)
    return J


def input_jacobian(model, x, chunk=1000, exact_linear=True):
    """J of the logits w.r.t. the flattened input, shape (N, C, D), computed `chunk` samples at a time.

    For linear models (and exact_linear=True) the closed form W_L ⋯ W_1 is broadcast to (N, C, D) (a view,
    no copy). Works for NumPy and CuPy models alike.
    """
    if exact_linear and getattr(model, "is_linear", False):
        J = linear_jacobian(model)
        xp = get_array_module(J)
        return xp.broadcast_to(J, (x.shape[0],) + J.shape)
    xp = get_array_module(x)
    if x.shape[0] <= chunk:
        return backprop_jacobian(model, x)
    return xp.concatenate([backprop_jacobian(model, x[i:i + chunk]) for i in range(0, x.shape[0], chunk)])
