"""Step 10: the retraining schedules, and why a large LR matters after pruning.

After pruning a trained net, retrain it for T epochs: FT (the small final LR), LR rewinding (the dense schedule's
last T epochs), scaled restarts (a large LR again) and 1-cycle (up to a large LR and down). Le & Hua: a large LR
after pruning is what matters, more than which weights were kept. Draw them, then retrain FT against 1-cycle.

Uses: minidi.schedules.retraining_schedule; minidi.train.fit. Read: docs/retraining.md. Needs MNIST.

    python examples/tour/10_retraining_schedules.py
"""
import copy

import click
import numpy as np

from minidi import optim
from minidi.prune import prune_neurons, uniform_spec
from minidi.schedules import RETRAINING, retraining_schedule
from minidi.train import fit
from tourkit import figure, mnist, step, trained


@step("10_retraining_schedules.png")
@click.option("--budget", default=2, show_default=True, type=click.IntRange(min=1), help="Retraining epochs T.")
def main(device, data_dir, out, budget, dense=8):
    """FT against 1-cycle on LeNet-300-100 pruned at 0.9, and the five schedules drawn."""
    data = mnist("lenet300-100", device, data_dir, train=20000)
    pruned = prune_neurons(trained("lenet300-100", data, device, 2, lr=0.05), uniform_spec(0.9, 3))
    for kind in ("ft", "clr"):
        model, s = copy.deepcopy(pruned), retraining_schedule(kind, dense, budget)
        h = fit(model, optim.SGD(model.parameters(), lr=s(0), momentum=0.9), s, data, budget, batch_size=100)
        click.echo(f"{kind.upper():4s} after {budget} epochs: test accuracy {h[-1]['test_acc']:.4f}")
    t = np.linspace(0, budget, 200, endpoint=False)

    def draw(ax):
        for kind in RETRAINING:
            s = retraining_schedule(kind, dense, budget)
            ax.plot(t, [s(x if s.per_iteration else int(x)) for x in t], label=kind.upper())
        ax.set(yscale="log", xlabel="retraining epoch", ylabel="learning rate")
        ax.legend(fontsize=8)
    figure(out, draw, f"the five schedules, E = {dense}, T = {budget}")


if __name__ == "__main__":
    main()
