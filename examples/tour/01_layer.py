"""Step 1: a layer is its forward and its backward, side by side — and a checker proves the backward right.

A Linear layer computes y = x Wᵀ + b; its backward gets dL/dy and returns dL/dx = dL/dy · W, while storing
dL/dW = dL/dyᵀ x and dL/db = Σ_n dL/dy. Nothing is derived automatically: read `minidi/nn/linear.py`.
`minidi.testing.gradcheck.check_gradients` compares every entry with a central difference of
L = Σ forward(x) ⊙ R (R a fixed random array), in float64.

Uses: minidi.nn.Linear, ReLU, Sequential; minidi.testing.gradcheck. Read: docs/theory_to_code.md §0.

    python examples/tour/01_layer.py
"""
import click
import numpy as np

from minidi.backend import resolve_device, to_device, xp_for
from minidi.nn import Linear, ReLU, Sequential
from minidi.testing import gradcheck
from tourkit import as_numpy, figure, step


@step("01_layer.png")
def main(device, data_dir, out):
    """A Linear → ReLU → Linear block: its hand-written gradients against finite differences."""
    device = resolve_device(device)
    gen = np.random.default_rng(0)
    net = to_device(Sequential(Linear(gen.standard_normal((5, 4))), ReLU(), Linear(gen.standard_normal((3, 5)))), device)
    x = xp_for(device).asarray(gen.standard_normal((6, 4)) + 0.3)
    worst = gradcheck.check_gradients(net, x)
    click.echo(f"worst relative error of dL/dx, dL/dW, dL/db against central differences: {worst:.2e}")
    r = xp_for(device).asarray(gen.standard_normal((6, 3)))
    net.forward(x)
    net.zero_grad()
    net.backward(r)
    w = net.layers[0].weight
    numeric = gradcheck.numerical_grad(lambda: (net.forward(x) * r).sum(), w.data)
    figure(out, lambda ax: (ax.plot(as_numpy(numeric).ravel(), as_numpy(w.grad).ravel(), "o"),
                            ax.set(xlabel="finite difference", ylabel="backward")),
           "dL/dW of the first layer: backward = finite difference")


if __name__ == "__main__":
    main()
