"""Step 7: the value of pruning — inherited weights against the same widths trained from scratch.

Liu et al. asked whether the weights a pruned net inherits are worth anything: train the pruned widths from a
fresh init for the same epochs (Scratch-E). Wang et al.'s answer: it depends on the finetuning LR — at a small LR
the inherited net, its isometry broken, recovers slowly. Compare both arms at both LRs.

Uses: minidi.models.fresh; minidi.prune.prune_neurons; minidi.train.fit (tourkit.sgd). Read: docs/theory_to_code.md §6.
Needs MNIST.

    python examples/tour/07_value_of_pruning.py
"""
import copy

import click

from minidi import models
from minidi.prune import prune_neurons, uniform_spec
from tourkit import figure, mnist, sgd, step, trained


@step("07_value_of_pruning.png")
@click.option("--epochs", default=2, show_default=True, type=click.IntRange(min=1), help="Finetuning epochs.")
def main(device, data_dir, out, epochs):
    """Inherited (L1-pruned) against Scratch-E (fresh init, the same widths) at LR 0.01 and 0.001."""
    data = mnist("mlp7-linear", device, data_dir)
    pruned = prune_neurons(trained("mlp7-linear", data, device, 2), uniform_spec(0.8, 7))
    acc = {}
    for lr in (0.01, 0.001):
        for arm, start in (("inherited", copy.deepcopy(pruned)), ("scratch", models.fresh(pruned, 10_000))):
            h = sgd(start, lr, data, epochs)
            acc[(arm, lr)] = h[-1]["test_acc"]
        click.echo(f"LR {lr}: inherited {acc[('inherited', lr)]:.4f}, scratch {acc[('scratch', lr)]:.4f} "
                   f"(inheriting's lead {100 * (acc[('inherited', lr)] - acc[('scratch', lr)]):+.2f} points)")
    figure(out, lambda ax: ([ax.bar([i + 0.4 * k for i in range(2)], [acc[(arm, lr)] for lr in (0.01, 0.001)], 0.4,
                                    label=arm) for k, arm in enumerate(("inherited", "scratch"))],
                            ax.set(xticks=[0.2, 1.2], xticklabels=["LR 0.01", "LR 0.001"], ylabel="test accuracy",
                                   ylim=(0.5, 1)), ax.legend()),
           "one replicate: run `minidi isometry --seeds 3` for intervals")


if __name__ == "__main__":
    main()
