"""Step 2: the input–output Jacobian, exactly: one backward pass per logit.

For logits f(x) of C classes, row c of J = ∂f/∂x is the gradient of f_c: seed the backward pass with the one-hot
e_c (batched: all samples at once, C passes in all). `minidi.measure.jacobian.input_jacobian` does it; here it is
checked against central differences of the forward pass, entry by entry.

Uses: minidi.models.mlp, minidi.measure.jacobian.input_jacobian. Read: docs/theory_to_code.md §1.

    python examples/tour/02_jacobian.py
"""
import click
import numpy as np

from minidi import models
from minidi.backend import resolve_device, to_device, xp_for
from minidi.measure.jacobian import input_jacobian
from tourkit import as_numpy, figure, step


@step("02_jacobian.png")
def main(device, data_dir, out):
    """A small ReLU MLP's Jacobian by backprop against finite differences."""
    device = resolve_device(device)
    net = to_device(models.mlp(3, 16, "relu", in_dim=8, n_classes=4, dtype=np.float64, seed=1), device)
    xp = xp_for(device)
    x = xp.asarray(np.random.default_rng(0).standard_normal((1, 8)))
    J = input_jacobian(net, x)[0]                                         # (4 classes, 8 inputs)
    eps, fd = 1e-6, np.zeros((4, 8))
    for i in range(8):
        step = xp.zeros_like(x)
        step[0, i] = eps
        fd[:, i] = as_numpy(net.forward(x + step) - net.forward(x - step))[0] / (2 * eps)
    click.echo(f"J is {J.shape[0]}×{J.shape[1]}; largest |backprop − finite difference| "
               f"{np.abs(as_numpy(J) - fd).max():.2e} (4 backward passes, one per logit)")
    figure(out, lambda ax: (ax.imshow(as_numpy(J), cmap="coolwarm"), ax.set(xlabel="input", ylabel="logit")),
           "the Jacobian ∂f/∂x of a ReLU MLP at one input")


if __name__ == "__main__":
    main()
