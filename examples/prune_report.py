"""Prune a model by L1 and see what changed: the per-layer report and the Jacobian spectrum before and after.

    python examples/prune_report.py --model lenet5-relu --spec "0-2:0.5"
    python examples/prune_report.py --model resnet20 --spec "layer*.conv1:0.5" --orthp
    python examples/prune_report.py --model mlp7-linear --weights runs/mlp7-linear/model.npz --spec "0-5:0.8"
    python examples/prune_report.py --model resnet20 --spec "layer*.conv1:0.5" --device gpu

The JSV is measured on `--probe` inputs: MNIST training images for the MNIST models when MINIDI_DATA (or
--data-dir) points at them, otherwise synthetic inputs of the model's shape.
"""
import click

from minidi import models
from minidi.backend import resolve_device, to_device
from minidi.train.checkpoint import load_weights
from minidi.cli.tools import Command, friendly
from minidi.data import load_dataset
from minidi.errors import MinidiError
from minidi.recover import gain_for, orthp
from minidi.prune import format_report, layer_report, prune_neurons
from minidi.measure.spectrum import jsv, jsv_stats


def probe_inputs(name, n, data_dir):
    channels, side = models.input_of(name)
    try:
        if channels in (None, 1):
            return load_dataset("mnist", data_dir, (channels, side), download_ok=False)["train"][0][:n]
    except MinidiError:
        pass
    return load_dataset("synthetic", None, (channels, side), synthetic_samples=n)["train"][0][:n]


@click.command(cls=Command)
@click.option("--model", "name", default="lenet5-relu", show_default=True, help="Any preset of minidi.models.")
@click.option("--spec", default="0-2:0.5", show_default=True, help='Pruning ratios, e.g. "0-5:0.8" or "layer*.conv1:0.5".')
@click.option("--weights", default=None, help="A weights .npz (e.g. a run's model.npz); default: the initial weights.")
@click.option("--orthp", "use_orthp", is_flag=True, help="Apply OrthP after pruning.")
@click.option("--probe", default=200, show_default=True, type=click.IntRange(min=1), help="Images for the Jacobian statistics.")
@click.option("--data-dir", default=None, help="Folder of the dataset files (default: $MINIDI_DATA, then ~/.cache/minidi).")
@click.option("--device", default=None, help="cpu or gpu (default: $MINIDI_DEVICE, else cpu).")
@friendly
def main(name, spec, weights, use_orthp, probe, data_dir, device):
    """A pruning report of one network: per-layer widths, parameters, FLOPs and the Jacobian's singular values
    before and after L1 pruning by --spec (and OrthP)."""
    if name not in models.PRESETS:
        raise MinidiError(f"unknown model {name!r}: choose one of {', '.join(sorted(models.PRESETS))}")
    device = resolve_device(device)
    model = models.build(name)
    if weights:
        load_weights(weights, model)
    model = to_device(model, device).eval()
    x = to_device(probe_inputs(name, probe, data_dir), device)
    shape = x.shape[1:] if x.ndim == 4 else None
    pruned = prune_neurons(model, spec).eval()
    if use_orthp:
        orthp(pruned, gain_for(pruned) if hasattr(pruned, "act") else 1.0)
    for title, m in (("before", model), ("after", pruned)):
        click.echo(f"\n## {title}\n\n{format_report(layer_report(m, shape))}\n")
        s = jsv_stats(jsv(m, x))
        click.echo("JSV: " + ", ".join(f"{k} {v:.4g}" for k, v in s.items()))


if __name__ == "__main__":
    main()
