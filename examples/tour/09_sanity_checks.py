"""Step 9: sanity checks of pruning at init — shuffle the mask, re-draw the kept weights.

Frankle et al. and Singh & Liu: if a method's mask carried information about *which* weights matter, shuffling it
inside each layer (same per-layer density) or re-drawing the kept weights would hurt. The papers report that they
barely do at moderate sparsity: the per-layer densities are what matters. This step trains each variant briefly,
one replicate, at 95 %: see what it shows, and `minidi pai --seeds 3` (docs/pruning_at_init.md) for the study,
where shuffling SNIP's mask at 96.8 % costs 1.4–1.8 points.

Uses: minidi.prune.prune_at_init, shuffle_masks, reinit_kept; minidi.train.fit. Read: docs/pruning_at_init.md.
Needs MNIST.

    python examples/tour/09_sanity_checks.py
"""
import copy

import click

from minidi import models, optim
from minidi.backend import resolve_device, to_device
from minidi.prune import per_class_batch, prune_at_init, reinit_kept, shuffle_masks
from minidi.schedules import Constant
from minidi.train import fit
from tourkit import figure, mnist, step


@step("09_sanity_checks.png")
@click.option("--sparsity", default=0.95, show_default=True, type=click.FloatRange(0, 1, max_open=True))
@click.option("--epochs", default=2, show_default=True, type=click.IntRange(min=1))
def main(device, data_dir, out, sparsity, epochs):
    """SNIP's mask on LeNet-300-100: original, shuffled within layers, and kept weights re-drawn."""
    data = mnist("lenet300-100", device, data_dir, train=20000)
    net = to_device(models.build("lenet300-100", seed=0), resolve_device(device))
    init = {k: v.copy() for k, v in net.state_dict().items()}
    prune_at_init(net, "snip", sparsity, x=per_class_batch(*data["train"], 10, 0)[0],
                  y=per_class_batch(*data["train"], 10, 0)[1])
    variants = {"original": net, "shuffle": shuffle_masks(copy.deepcopy(net), 1, init),
                "reinit": reinit_kept(copy.deepcopy(net), 10_000)}
    acc = {}
    for name, model in variants.items():
        h = fit(model, optim.SGD(model.parameters(), lr=0.1, momentum=0.0), Constant(0.1), data, epochs, batch_size=128)
        acc[name] = h[-1]["test_acc"]
        click.echo(f"{name:8s} test accuracy {acc[name]:.4f}")
    figure(out, lambda ax: (ax.bar(list(acc), list(acc.values())), ax.set(ylim=(min(acc.values()) - 0.05, 1),
                                                                       ylabel="test accuracy")),
           f"SNIP at sparsity {sparsity}: the mask's layout matters little (one replicate)")


if __name__ == "__main__":
    main()
