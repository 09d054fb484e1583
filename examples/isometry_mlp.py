"""The core study on an MLP: pruning breaks dynamical isometry, a larger finetuning LR repairs it, OrthP restores it.

    python examples/isometry_mlp.py                       # MLP-7-Linear, 90 epochs (a few minutes on a laptop CPU)
    python examples/isometry_mlp.py --epochs 5            # shorter: all twelve arms still, 148 s on 2 CPU cores
    python examples/isometry_mlp.py --model mlp7-relu     # MLP-7-ReLU at PR 0.9
    python examples/isometry_mlp.py --model lenet5-relu   # LeNet-5 (conv1..conv3 pruned at 0.9)

Writes results/isometry-<model>/report.md and its figures. Needs MNIST (MINIDI_DATA or --data-dir).
"""
import click

from minidi.cli.tools import Command, friendly
from minidi.experiments import isometry


@click.command(cls=Command)
@click.option("--model", default="mlp7-linear", show_default=True, help="mlp7-linear, mlp7-relu, lenet300-100, lenet5-linear or lenet5-relu.")
@click.option("--epochs", default=90, show_default=True, type=click.IntRange(min=1), help="Pretraining and finetuning epochs (the LR tables are scaled to it).")
@click.option("--long", is_flag=True, help="900 finetuning epochs.")
@click.option("--seeds", default=1, show_default=True, type=click.IntRange(min=1), help="Independent replicates (3 or more to judge a claim).")
@click.option("--device", default=None, help="cpu or gpu (default: $MINIDI_DEVICE, else cpu).")
@click.option("--data-dir", default=None, help="Folder of the dataset files (default: $MINIDI_DATA, then ~/.cache/minidi).")
@click.option("--out", default=None, help="Results folder (default: results/<study>-<model>).")
@click.option("--resume", is_flag=True, help="Continue in --out: the finished cells are not computed again.")
@friendly
def main(model, epochs, long, seeds, device, data_dir, out, resume):
    """The core study on an MLP: pruning breaks dynamical isometry, a larger finetuning LR repairs it, OrthP
    restores it (the same as `minidi isometry`). Writes results/isometry-<model>/report.md and its figures."""
    out = out or f"results/isometry-{model}"
    summary = isometry.run(model, out, epochs=epochs, long=long, seeds=seeds, device=device, data_dir=data_dir,
                           resume=resume)
    click.echo(f"{out}/report.md ({summary['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
