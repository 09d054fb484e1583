"""Pruning at initialization, looked at before any training: what each method keeps per layer, and what the
sanity checks (shuffle, reinit) change and keep. Then, with --train, the whole study.

    python examples/pai_masks.py                                  # LeNet-300-100 at 96.8%, MNIST
    python examples/pai_masks.py --sparsity 0.99 --scope local
    python examples/pai_masks.py --model resnet20 --dataset synthetic --sparsity 0.9
    python examples/pai_masks.py --train --epochs 2               # the pai study (minidi pai) on top

Needs MNIST for SNIP/GraSP's batch on LeNet-300-100 (MINIDI_DATA or --data-dir); --dataset synthetic needs nothing.
"""
import copy

import click

from minidi import models, prune
from minidi.cli.tools import Command, friendly
from minidi.data import load_dataset
from minidi.errors import MinidiError
from minidi.experiments import pai


@click.command(cls=Command)
@click.option("--model", default="lenet300-100", show_default=True, help="lenet300-100, conv4, resnet20 or vgg16.")
@click.option("--dataset", default=None, help="mnist / cifar10 / synthetic (default: the model's).")
@click.option("--sparsity", default=0.968, show_default=True, type=click.FloatRange(0, 1, max_open=True), help="Fraction of the prunable weights removed.")
@click.option("--scope", default="global", show_default=True, type=click.Choice(["global", "local"]), help="Keep the top scores over the whole net (global) or per layer (local).")
@click.option("--rounds", default=100, show_default=True, type=click.IntRange(min=1), help="SynFlow's rounds.")
@click.option("--data-dir", default=None, help="Folder of the dataset files (default: $MINIDI_DATA, then ~/.cache/minidi).")
@click.option("--train", is_flag=True, help="Then run the pai study at this sparsity (minidi pai).")
@click.option("--epochs", default=None, type=click.IntRange(min=1), help="Training epochs (default: the recipe's).")
@click.option("--out", default=None, help="Results folder (default: results/<study>-<model>).")
@click.option("--cache", default=None, help="Shared cells (default: $MINIDI_CACHE, else ~/.cache/minidi).")
@friendly
def main(model, dataset, sparsity, scope, rounds, data_dir, train, epochs, out, cache):
    """Masks at init from every pruning-at-init method at one sparsity, their per-layer densities and collapse,
    and (with --train) the trained accuracy of each."""
    if model not in pai.spec.MODELS:
        raise MinidiError(f"the pai study runs on {', '.join(pai.spec.MODELS)}, not {model!r}")
    dataset = dataset or pai.spec.DATASETS[pai.spec.MODELS[model]][0]
    data = load_dataset(dataset, data_dir, models.input_of(model), synthetic_samples=600)
    x, y = prune.per_class_batch(*data["train"], per_class=10, seed=0)
    dense = models.build(model, seed=0)
    init = dense.state_dict()
    click.echo(f"{model}, sparsity {sparsity:g}, {scope} masks: kept weights per layer (density; C = collapsed)")
    rows = {}
    for method in prune.METHODS:
        net = copy.deepcopy(dense)
        report = prune.prune_at_init(net, method, sparsity, scope, x, y, rounds=rounds)
        rows[method] = report
        shuffled = prune.shuffle_masks(copy.deepcopy(net), seed=1, init=init)
        same = [r["kept"] for r in prune.collapse_report(shuffled)] == [r["kept"] for r in report]
        click.echo(f"  {method:9s} " + "  ".join(f"{r['kept']:7d} ({r['density']:.3f}){' C' if r['collapsed'] else '  '}"
                                              for r in report) + f"   shuffle keeps the counts: {same}")
    click.echo("layers: " + ", ".join(r["name"] for r in rows["random"]))
    if train:
        out = out or f"results/pai-{model}"
        summary = pai.run(out, model_name=model, dataset=dataset, epochs=epochs, sparsities=[sparsity], scope=scope,
                          rounds=rounds, data_dir=data_dir, cache=cache)
        click.echo("\n".join(summary["claims"]))
        click.echo(f"{out}/report.md")


if __name__ == "__main__":
    main()
