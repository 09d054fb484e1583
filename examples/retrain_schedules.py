"""The five retraining schedules after pruning, side by side, then (with --train) the retraining study.

    python examples/retrain_schedules.py                         # E = 40, T = 20: the LR at key points + a figure
    python examples/retrain_schedules.py --epochs 160 --budget 40
    python examples/retrain_schedules.py --train --seeds 1       # minidi retrain on LeNet-300-100 (MNIST)

Needs MNIST only with --train (MINIDI_DATA or --data-dir); --dataset synthetic needs nothing.
"""
import click

from minidi.cli.tools import Command, friendly
from minidi.experiments import retrain
from minidi.experiments.plots import plot_schedules
from minidi.schedules import RETRAINING, retraining_schedule


@click.command(cls=Command)
@click.option("--epochs", default=40, show_default=True, type=click.IntRange(min=4), help="Dense epochs E.")
@click.option("--budget", default=20, show_default=True, type=click.IntRange(min=1), help="Retraining epochs T.")
@click.option("--plot", default="schedules.png", show_default=True, help="Where the schedules' figure is saved.")
@click.option("--train", is_flag=True, help="Then run the study (budgets E/4, E/2, E).")
@click.option("--seeds", default=1, show_default=True, type=click.IntRange(min=1), help="Independent replicates (3 or more to judge a claim).")
@click.option("--dataset", default=None, help="mnist, cifar10, cifar100 or synthetic (default: the model's).")
@click.option("--data-dir", default=None, help="Folder of the dataset files (default: $MINIDI_DATA, then ~/.cache/minidi).")
@click.option("--out", default="results/retrain-example", show_default=True, help="Results folder.")
@click.option("--cache", default=None, help="Shared cells (default: $MINIDI_CACHE, else ~/.cache/minidi).")
@friendly
def main(epochs, budget, plot, train, seeds, dataset, data_dir, out, cache):
    """The five retraining schedules at E and T, drawn, and (with --train) the retraining study at those values."""
    for kind in RETRAINING:
        s = retraining_schedule(kind, epochs, budget)
        t = [i * budget / 10 for i in range(10)]
        click.echo(f"{kind.upper():4s} " + " ".join(f"{s(x if s.per_iteration else int(x)):7.2g}" for x in t))
    click.echo(plot_schedules(plot, RETRAINING, epochs, budget))
    if train:
        summary = retrain.run(out, data_dir=data_dir, cache=cache, model_name="lenet300-100", dataset=dataset, epochs=epochs,
                              seeds=seeds)
        click.echo("\n".join(summary["claims"]))


if __name__ == "__main__":
    main()
