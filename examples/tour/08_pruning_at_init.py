"""Step 8: pruning at initialization — SNIP, GraSP (with the exact Hessian product), SynFlow, magnitude — and
layer collapse.

Each method scores the weights of an untrained LeNet-300-100 and keeps the top fraction globally. At high
sparsity global magnitude at init empties the 784-input first layer (its weights are the smallest: U(±1/√784)):
the net is cut in two ("layer collapse"); SynFlow's iterative, data-free conservation avoids it.

Uses: minidi.prune.prune_at_init, per_class_batch, collapse_report. Read: docs/pruning_at_init.md. Needs MNIST.

    python examples/tour/08_pruning_at_init.py
"""
import copy

import click
import numpy as np

from minidi import models
from minidi.backend import resolve_device, to_device
from minidi.prune import per_class_batch, prune_at_init
from tourkit import figure, mnist, step


@step("08_pruning_at_init.png")
@click.option("--sparsity", default=0.99, show_default=True, type=click.FloatRange(0, 1, max_open=True))
def main(device, data_dir, out, sparsity):
    """Per-layer density of each method's mask at init, and which layers collapse."""
    data = mnist("lenet300-100", device, data_dir)
    x, y = per_class_batch(*data["train"], per_class=10, seed=0)
    net = to_device(models.build("lenet300-100", seed=0), resolve_device(device))
    density = {}
    for method in ("magnitude", "snip", "grasp", "synflow"):
        report = prune_at_init(copy.deepcopy(net), method, sparsity, x=x, y=y, rounds=20)
        density[method] = [r["density"] for r in report]
        collapsed = [r["name"] for r in report if r["collapsed"]]
        click.echo(f"{method:9s} per-layer density {', '.join(f'{d:.4f}' for d in density[method])}; "
                   f"collapsed: {', '.join(collapsed) or 'none'}")
    figure(out, lambda ax: ([ax.bar(np.arange(3) + 0.2 * k, np.maximum(d, 1e-6), 0.2, label=m)
                             for k, (m, d) in enumerate(density.items())],
                            ax.set(yscale="log", xticks=np.arange(3) + 0.3, xticklabels=["fc1", "fc2", "fc3"],
                                   ylabel="density kept"), ax.legend(fontsize=8)),
           f"LeNet-300-100 at init, sparsity {sparsity}")


if __name__ == "__main__":
    main()
