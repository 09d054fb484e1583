"""Step 6: the finetuning LR decides how fast isometry comes back.

Finetune the same L1-pruned MLP-7-Linear at LR 0.01 and at LR 0.001 and follow its mean JSV after every epoch:
the larger LR restores the Jacobian's scale far faster (Wang et al.: why a larger finetuning LR "helps" pruning).

Uses: minidi.train.fit (tourkit.sgd) with minidi.measure.spectrum.JSVMonitor. Read: docs/theory_to_code.md §5. Needs MNIST.

    python examples/tour/06_finetune_lr.py
"""
import copy

import click

from minidi.measure.spectrum import JSVMonitor
from minidi.models.plan import weight_layers
from minidi.prune import prune_neurons, uniform_spec
from tourkit import figure, mnist, sgd, step, trained


@step("06_finetune_lr.png")
@click.option("--epochs", default=3, show_default=True, type=click.IntRange(min=1), help="Finetuning epochs.")
def main(device, data_dir, out, epochs):
    """Mean JSV during finetuning of a pruned MLP-7-Linear at two learning rates."""
    data = mnist("mlp7-linear", device, data_dir)
    pruned = prune_neurons(trained("mlp7-linear", data, device, 2), uniform_spec(0.8, 7))
    curves = {}
    for lr in (0.01, 0.001):
        model, monitor = copy.deepcopy(pruned), JSVMonitor(data["train"][0][:200])
        history = sgd(model, lr, data, epochs, callbacks=[monitor])
        curves[lr] = [monitor.initial["mean"]] + [h["jsv_mean"] for h in history]
        click.echo(f"LR {lr}: mean JSV " + " → ".join(f"{v:.3g}" for v in curves[lr])
                   + f"; test accuracy {history[-1]['test_acc']:.4f}")
    figure(out, lambda ax: ([ax.semilogy(range(len(c)), c, "o-", label=f"LR {lr}") for lr, c in curves.items()],
                            ax.set(xlabel="finetuning epoch (0: right after pruning)", ylabel="mean JSV"), ax.legend()),
           f"MLP-7-Linear pruned at 0.8 (widths {weight_layers(pruned)[0].out_features})")


if __name__ == "__main__":
    main()
