"""The `minidi` command line. Every error a user can cause is one line on stderr and a non-zero exit
(`minidi.clitools`); every value is checked before the first byte is written (`minidi.rundir`)."""
import json
import os
import platform

import click
import numpy as np

from . import __version__
from .clitools import Group, friendly, grid_options, runner_args, split_list
from .errors import MinidiError

DTYPES = {"float32": np.float32, "float64": np.float64}


device_option = click.option("--device", default=None, help="cpu or gpu (default: $MINIDI_DEVICE, else cpu).")
data_dir_option = click.option("--data-dir", default=None, type=click.Path(file_okay=False),
                               help="Folder with the dataset files, the only one searched when given (default: $MINIDI_DATA/<dataset>, then ~/.cache/minidi).")


@click.group(cls=Group)
@click.version_option(__version__, prog_name="minidi")
def main():
    """minidi: see how neural-network pruning works."""


@main.command()
@device_option
@data_dir_option
@friendly
def info(device, data_dir):
    """Versions, backend, device and where the data are."""
    from . import backend
    from .data import mnist
    device = backend.resolve_device(device)
    click.echo(f"minidi {__version__}, Python {platform.python_version()}, NumPy {np.__version__}")
    cupy = backend.cupy_or_none()
    name = "the strict stand-in for tests (MINIDI_GPU_STANDIN=1), CuPy API" if backend.STANDIN else "CuPy"
    click.echo(f"{name}: {cupy.__version__ if cupy else 'not installed'}; GPU available: {backend.gpu_available()}")
    click.echo(f"device: {device} (MINIDI_DEVICE={os.environ.get('MINIDI_DEVICE', '')!r})")
    dirs = mnist.candidate_dirs(data_dir)
    found = [d for d in dirs if all(os.path.isfile(os.path.join(d, f)) for f in mnist.FILES)]
    click.echo(f"MNIST: {found[0] if found else 'not found (would download to ' + dirs[-1] + ')'}")


def _load_data(dataset, model_name, data_dir, dtype, device, seed=0, synthetic_samples=2400):
    from .backend import to_device
    from .data import load_dataset
    from .models import INPUT
    data = load_dataset(dataset, data_dir, INPUT[model_name], dtype=dtype, seed=seed,
                        synthetic_samples=synthetic_samples)
    return {split: (to_device(x, device), to_device(y, device)) for split, (x, y) in data.items()}


def _check_dataset(dataset, model_name, augment):
    """The dataset name, and whether --augment fits the model, before anything is loaded or written."""
    from .data import DATASETS
    from .models import INPUT
    if dataset not in DATASETS:
        raise MinidiError(f"unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)}")
    if augment and INPUT[model_name][0] is None:
        raise MinidiError(f"--augment needs image input (N, C, H, W); {model_name} takes flat vectors")


@main.command()
@click.option("--model", "model_name", default="mlp7-linear", show_default=True, help="Model preset.")
@click.option("--dataset", default="mnist", show_default=True, help="mnist, cifar10, cifar100 or synthetic.")
@click.option("--epochs", default=90, show_default=True, type=click.IntRange(min=1))
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(min=1))
@click.option("--lr", "lr_text", default="0:0.01,30:0.001,60:0.0001", show_default=True,
              help='LR schedule: "0.01", "0:0.01,30:0.001", "multistep:lr=0.1,at=0.5/0.75", "cosine:lr=0.1", "onecycle:max=0.1".')
@click.option("--momentum", default=0.9, show_default=True, type=float, help="In [0, 1).")
@click.option("--nesterov", is_flag=True, help="Nesterov momentum.")
@click.option("--weight-decay", default=1e-4, show_default=True, type=float, help="≥ 0, on every parameter, biases too.")
@click.option("--init", default="default", show_default=True,
              help="default (the preset's: PyTorch's for MLPs, kaiming-normal for CNNs), kaiming-uniform, kaiming-normal, xavier-uniform, xavier-normal, orthogonal.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Initial weights and data order.")
@click.option("--augment/--no-augment", default=None,
              help="Random crop (padding 4) and flip of training images (default: on for CIFAR).")
@click.option("--synthetic-samples", default=2400, show_default=True, type=click.IntRange(min=6),
              help="Training images of --dataset synthetic (50000 matches CIFAR's size).")
@click.option("--dtype", default="float32", type=click.Choice(list(DTYPES)), show_default=True)
@click.option("--out", "out_dir", default=None, help="Output folder (default: runs/<model>-<dataset>-s<seed>).")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its checkpoint.")
@click.option("--quiet", is_flag=True, help="No progress bar or per-epoch lines.")
@device_option
@data_dir_option
@friendly
def train(model_name, dataset, epochs, batch_size, lr_text, momentum, nesterov, weight_decay, init, seed, augment,
          synthetic_samples, dtype, out_dir, resume, quiet, device, data_dir):
    """Train a model; writes config.json, log.jsonl, checkpoint.npz, model.npz and results.json to --out."""
    from . import models, optim, train as training
    from .backend import resolve_device, to_device
    from .checkpoint import checkpoint_epoch, save_weights
    from .data import CropFlip
    from .rundir import check_run_dir, write_config
    from .schedules import parse_schedule
    # 1. every value, before anything is read from disk or written
    device = resolve_device(device)
    schedule = parse_schedule(lr_text, epochs)
    build_args = dict(seed=seed, dtype=DTYPES[dtype]) if init == "default" else dict(seed=seed, init=init, dtype=DTYPES[dtype])
    model = to_device(models.build(model_name, **build_args), device)
    augment = dataset.startswith("cifar") if augment is None else augment
    _check_dataset(dataset, model_name, augment)
    opt = optim.SGD(model.parameters(), lr=schedule(0), momentum=momentum, weight_decay=weight_decay, nesterov=nesterov)
    out_dir = out_dir or os.path.join("runs", f"{model_name}-{dataset}-s{seed}")
    config = dict(model=model_name, dataset=dataset, epochs=epochs, batch_size=batch_size, lr=str(lr_text),
                  momentum=momentum, nesterov=nesterov, weight_decay=weight_decay, init=init, seed=seed,
                  augment=augment, dtype=dtype)
    if dataset == "synthetic":
        config["synthetic_samples"] = synthetic_samples
    # 2. the folder, and the data
    check_run_dir(out_dir, config, resume, may_change=("epochs",), resume_from="checkpoint.npz")
    done = checkpoint_epoch(os.path.join(out_dir, "checkpoint.npz")) if resume else 0
    if done > epochs:
        raise MinidiError(f"--epochs {epochs} is fewer than the {done} epochs the checkpoint in {out_dir} holds")
    data = _load_data(dataset, model_name, data_dir, DTYPES[dtype], device, seed, synthetic_samples)
    if batch_size > len(data["train"][1]):
        raise MinidiError(f"--batch-size {batch_size} is larger than the training set ({len(data['train'][1])} samples)")
    # 3. the run
    write_config(out_dir, {**config, "device": device, "minidi": __version__})
    history = training.fit(model, opt, schedule, data, epochs, batch_size, seed=seed, out_dir=out_dir,
                           resume=resume, quiet=quiet, meta={"config": config},
                           augment=CropFlip() if augment else None)
    save_weights(os.path.join(out_dir, "model.npz"), model)
    results = {**training.summarize(history), "final_test_acc": history[-1]["test_acc"],
               "seconds": sum(r["seconds"] for r in history), "epochs": len(history)}
    training.write_json(os.path.join(out_dir, "results.json"), results)
    click.echo(json.dumps(results))


@main.command(name="eval")
@click.argument("run", type=click.Path(exists=True))
@click.option("--model", "model_name", default=None, help="Model preset (default: from the run's config.json).")
@click.option("--dataset", default=None, help="Dataset (default: from config.json, else mnist).")
@click.option("--dtype", default=None, type=click.Choice(list(DTYPES)), help="Default: the run's, else float32.")
@device_option
@data_dir_option
@friendly
def evaluate_cmd(run, model_name, dataset, dtype, device, data_dir):
    """Test loss and accuracy of RUN: a run folder (its model.npz) or a weights .npz file.

    The test set is rebuilt exactly as the run had it: its dataset, and for synthetic data its seed and size."""
    from . import models
    from .backend import resolve_device, to_device
    from .checkpoint import load_weights, read_json
    from .train import evaluate
    device = resolve_device(device)
    folder, weights = (run, os.path.join(run, "model.npz")) if os.path.isdir(run) else (os.path.dirname(run), run)
    config_path = os.path.join(folder, "config.json")
    config = read_json(config_path) if os.path.isfile(config_path) else {}
    model_name = model_name or config.get("model")
    if not model_name:
        raise MinidiError(f"which model is {weights}? pass --model (no config.json beside it)")
    dataset = dataset or config.get("dataset", "mnist")
    dtype = dtype or config.get("dtype", "float32")
    if dtype not in DTYPES:
        raise MinidiError(f"{config_path}: unknown dtype {dtype!r}")
    same = dataset == config.get("dataset")              # the run's own data: its seed and size too
    seed = config.get("seed", 0) if same else 0
    samples = config.get("synthetic_samples", 2400) if same else 2400
    model = to_device(models.build(model_name, dtype=DTYPES[dtype]), device)
    if not os.path.isfile(weights):
        raise MinidiError(f"{run} has no model.npz (the run has not finished): nothing to evaluate")
    load_weights(weights, model)
    data = _load_data(dataset, model_name, data_dir, DTYPES[dtype], device, seed, samples)
    loss, acc = evaluate(model, *data["test"])
    click.echo(json.dumps({"model": model_name, "dataset": dataset, "test_loss": loss, "test_acc": acc}))


def study_options(fn):
    """The options every isometry command shares (the study's own, the data, the device, the runner)."""
    options = [
        click.option("--long", is_flag=True, help="Finetune 900 epochs with the long schedules."),
        click.option("--seeds", default=1, show_default=True, type=click.IntRange(min=1),
                     help="Independent replicates: seed s sets the dense init, pretraining and finetuning order."),
        click.option("--finetune-seeds", default=1, show_default=True, type=click.IntRange(min=1),
                     help="Finetuning data orders per pretrained model (varies only the finetuning order)."),
        click.option("--prs", default="0,0.1,0.3,0.5,0.7,0.9", show_default=True, help="Ratios of the JSV-vs-PR sweep."),
        click.option("--probe", default=1000, show_default=True, type=click.IntRange(min=1),
                     help="Training images for the JSV."),
        click.option("--cache", default=None,
                     help="Folder of the shared cells, e.g. pretrained models (default: $MINIDI_CACHE, else ~/.cache/minidi)."),
        click.option("--sweep-only", is_flag=True, help="Only pretrain and measure mean JSV against PR (no finetuning arms)."),
        click.option("--resume", is_flag=True, help="Continue in --out: the cells that are done are not computed again."),
        click.option("--quiet", is_flag=True),
        device_option, data_dir_option]
    for option in reversed(options):
        fn = option(fn)
    return grid_options(fn)


@main.command()
@click.option("--model", "model_name", default="mlp7-linear", show_default=True,
              help="mlp7-linear, mlp7-relu, lenet300-100, lenet5-linear or lenet5-relu.")
@click.option("--epochs", default=90, show_default=True, type=click.IntRange(min=1),
              help="Pretraining and finetuning epochs (the LR tables are scaled to it).")
@study_options
@click.option("--pr", default=None, type=click.FloatRange(0, 1, max_open=True),
              help="Pruning ratio of the finetuning arms, in [0, 1) (default 0.8 linear, 0.9 ReLU).")
@click.option("--out", "out_dir", default=None, help="Results folder (default: results/isometry-<model>).")
@friendly
def isometry(model_name, epochs, pr, out_dir, long, seeds, finetune_seeds, prs, probe, cache, sweep_only, resume,
             quiet, device, data_dir, workers, worker_threads, scheduler, rerun):
    """The core study: pruning breaks dynamical isometry, a larger LR repairs it, OrthP restores it."""
    from .experiments import isometry as study
    from .prune import parse_ratios
    ratios = parse_ratios(prs, "--prs")
    out_dir = out_dir or os.path.join("results", f"isometry-{model_name}")
    study.run(model_name, out_dir, epochs, long, seeds, pr, ratios, device, data_dir, probe, resume, quiet, cache,
              sweep_only, finetune_seeds, **runner_args(workers, worker_threads, scheduler, rerun))
    click.echo(os.path.join(out_dir, "report.md"))


@main.group(cls=Group)
def sweep():
    """Run a study's grid with comma-separated lists in place of single values, e.g.
    minidi sweep isometry --model mlp7-linear,mlp7-relu --pr 0.5,0.8,0.9 --seeds 3 --workers 2"""


@sweep.command(name="isometry")
@click.option("--model", "model_name", default="mlp7-linear", show_default=True,
              help="Comma-separated presets of the isometry study.")
@click.option("--epochs", default="90", show_default=True, help="Comma-separated epoch counts.")
@click.option("--pr", default=None, help="Comma-separated pruning ratios of the arms (default: each model's).")
@click.option("--out", "out_dir", default=os.path.join("results", "sweep-isometry"), show_default=True)
@study_options
@friendly
def sweep_isometry(model_name, epochs, pr, out_dir, long, seeds, finetune_seeds, prs, probe, cache, sweep_only,
                   resume, quiet, device, data_dir, workers, worker_threads, scheduler, rerun):
    """The isometry study over every combination of --model, --pr and --epochs: one merged cells.csv and a
    report.md at the top of --out, each point's own report in its folder."""
    from .experiments import isometry as study
    from .prune import parse_ratios
    lists = {"model_name": split_list(model_name, str, "--model"),
             "pr": [None] if pr is None else split_list(pr, float, "--pr"),
             "epochs": split_list(epochs, int, "--epochs")}
    study.sweep(lists, out_dir, device, data_dir, resume, quiet, cache, long=long, seeds=seeds,
                finetune_seeds=finetune_seeds, prs=parse_ratios(prs, "--prs"), probe=probe, sweep_only=sweep_only,
                **runner_args(workers, worker_threads, scheduler, rerun))
    click.echo(os.path.join(out_dir, "report.md"))


def study_run_options(name):
    """--out, --cache, --resume, --quiet, --device, --data-dir and the runner's options of a study command."""
    def decorate(fn):
        options = [
            click.option("--out", "out_dir", default=None, help=f"Results folder (default: results/{name}-<model>)."),
            click.option("--cache", default=None,
                         help="Folder of the shared cells (default: $MINIDI_CACHE, else ~/.cache/minidi)."),
            click.option("--resume", is_flag=True, help="Continue in --out: the cells that are done are not computed again."),
            click.option("--quiet", is_flag=True), device_option, data_dir_option]
        for option in reversed(options):
            fn = option(fn)
        return grid_options(fn)
    return decorate


@main.command()
@click.option("--model", "model_name", default="lenet300-100", show_default=True,
              help="lenet300-100 (MNIST), or conv4, resnet20, vgg16 (CIFAR recipe).")
@click.option("--dataset", default=None, help="mnist for lenet300-100; cifar10 or cifar100 for the CNNs; or synthetic.")
@click.option("--epochs", default=None, type=click.IntRange(min=1), help="Training epochs (default: 16 MNIST, 160 CIFAR).")
@click.option("--sparsities", default="0.75,0.9,0.968", show_default=True, help="Comma-separated, each in [0, 1).")
@click.option("--methods", default="random,magnitude,snip,grasp,synflow", show_default=True)
@click.option("--variants", default="original,shuffle,reinit,invert", show_default=True)
@click.option("--no-control", is_flag=True, help="Leave out the lottery-ticket control (magnitude after training).")
@click.option("--scope", default="global", show_default=True, type=click.Choice(["global", "local"]))
@click.option("--rounds", default=100, show_default=True, type=click.IntRange(min=1), help="SynFlow's pruning rounds.")
@click.option("--seeds", default=1, show_default=True, type=click.IntRange(min=1),
              help="Independent replicates: seed s sets the init, data order, scoring batch, random scores, shuffle.")
@click.option("--probe", default=None, type=click.IntRange(min=1),
              help="Training images for the JSV (default 1000 MNIST, 200 CIFAR).")
@click.option("--synthetic-samples", default=2400, show_default=True, type=click.IntRange(min=60))
@study_run_options("pai")
@friendly
def pai(model_name, dataset, epochs, sparsities, methods, variants, no_control, scope, rounds, seeds, probe,
        synthetic_samples, out_dir, cache, resume, quiet, device, data_dir, workers, worker_threads, scheduler, rerun):
    """Pruning at init (SNIP, GraSP, SynFlow, magnitude, random) and its sanity checks (shuffle, reinit, invert)."""
    from .experiments import pai as study
    out_dir = out_dir or os.path.join("results", f"pai-{model_name}")
    study.run(out_dir, device, data_dir, resume, quiet, cache, model_name=model_name, dataset=dataset, epochs=epochs,
              seeds=seeds, sparsities=split_list(sparsities, float, "--sparsities"),
              methods=split_list(methods, str, "--methods"), variants=split_list(variants, str, "--variants"),
              scope=scope, rounds=rounds, probe=probe, control=not no_control, synthetic_samples=synthetic_samples,
              **runner_args(workers, worker_threads, scheduler, rerun))
    click.echo(os.path.join(out_dir, "report.md"))


@main.command()
@click.option("--model", "model_name", default="lenet300-100", show_default=True,
              help="lenet300-100, lenet5-relu (MNIST), or resnet20, resnet56, vgg16 (CIFAR recipe).")
@click.option("--dataset", default=None, help="mnist for the LeNets; cifar10 or cifar100 for the CNNs; or synthetic.")
@click.option("--epochs", default=None, type=click.IntRange(min=4), help="Dense epochs E (default: 40 MNIST, 160 CIFAR).")
@click.option("--budgets", default=None, help="Comma-separated retraining budgets T ≤ E (default: E/4, E/2, E).")
@click.option("--structure", default="structured", show_default=True, type=click.Choice(["structured", "unstructured"]),
              help="structured: L1 vs random neurons/filters; unstructured: global magnitude vs random weights.")
@click.option("--ratio", default=0.9, show_default=True, type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="Pruning ratio (structured: of each pruned layer's units; unstructured: global sparsity).")
@click.option("--schedules", "kinds", default="ft,lrw,wr,slr,clr", show_default=True)
@click.option("--seeds", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--probe", default=None, type=click.IntRange(min=1), help="Training images for the JSV.")
@click.option("--synthetic-samples", default=2400, show_default=True, type=click.IntRange(min=60))
@study_run_options("retrain")
@friendly
def retrain(model_name, dataset, epochs, budgets, structure, ratio, kinds, seeds, probe, synthetic_samples, out_dir,
            cache, resume, quiet, device, data_dir, workers, worker_threads, scheduler, rerun):
    """Retraining after pruning: FT, LR rewinding, weight rewinding, scaled restarts, 1-cycle; L1 vs random."""
    from .experiments import retrain as study
    out_dir = out_dir or os.path.join("results", f"retrain-{model_name}")
    study.run(out_dir, device, data_dir, resume, quiet, cache, model_name=model_name, dataset=dataset, epochs=epochs,
              budgets=None if budgets is None else split_list(budgets, int, "--budgets"), structure=structure,
              ratio=ratio, schedules=split_list(kinds, str, "--schedules"), seeds=seeds, probe=probe,
              synthetic_samples=synthetic_samples, **runner_args(workers, worker_threads, scheduler, rerun))
    click.echo(os.path.join(out_dir, "report.md"))


@main.command()
@click.option("--epochs", "dense_epochs", default=160, show_default=True, type=click.IntRange(min=1), help="Dense epochs E.")
@click.option("--budget", default=40, show_default=True, type=click.IntRange(min=1), help="Retraining budget T ≤ E.")
@click.option("--plot", "plot_path", default=None, help="Draw LR and momentum against the epoch into this PNG.")
@friendly
def schedules(dense_epochs, budget, plot_path):
    """The five retraining schedules (ft, lrw, wr, slr, clr) at E and T: LR at key points, and a figure."""
    from .schedules import RETRAINING, retraining_schedule
    rows = {k: retraining_schedule(k, dense_epochs, budget) for k in RETRAINING}
    if plot_path:
        from .rundir import check_folder_path
        if os.path.isdir(plot_path):
            raise MinidiError(f"--plot {plot_path} is a folder: give a file name such as schedules.png")
        check_folder_path(os.path.dirname(os.path.abspath(plot_path)), "--plot")   # before anything is printed
    points = sorted({0, 0.1 * budget, budget / 2, 0.775 * budget, budget - 1e-9})
    click.echo("t (epochs)  " + "  ".join(f"{t:>8.3g}" for t in points))
    for k, s in rows.items():
        click.echo(f"{k.upper():<11} " + "  ".join(f"{s(t if s.per_iteration else int(t)):8.2g}" for t in points))
    if plot_path:
        from .experiments.retrain_report import plot_schedules
        click.echo(plot_schedules(plot_path, RETRAINING, dense_epochs, budget))


@main.command(name="shedding")
@click.option("--model", "model_name", default="lenet300-100", show_default=True, help="lenet300-100, mlp7-relu or lenet5-relu.")
@click.option("--dataset", default="mnist", show_default=True, help="mnist or synthetic.")
@click.option("--fraction", default=0.2, show_default=True, type=float, help="The small random prune of the cascade, in (0, 0.5].")
@click.option("--epochs", default=10, show_default=True, type=click.IntRange(min=1), help="Fine-tuning epochs.")
@click.option("--sparsities", default="0.8,0.9,0.95", show_default=True, help="Final sparsities of the pruning routes.")
@click.option("--steps", default=5, show_default=True, type=click.IntRange(min=1), help="Prune steps of gradual GMP.")
@click.option("--seeds", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--probe", default=1000, show_default=True, type=click.IntRange(min=1), help="Images for JSV and dead units.")
@click.option("--synthetic-samples", default=2400, show_default=True, type=click.IntRange(min=200))
@study_run_options("shedding")
@friendly
def shedding_cmd(model_name, dataset, fraction, epochs, sparsities, steps, seeds, probe, synthetic_samples, out_dir,
                 cache, resume, quiet, device, data_dir, workers, worker_threads, scheduler, rerun):
    """Cascade weight shedding: σ(t), dead units, implicit sparsity; random+shedding vs GMP vs gradual GMP."""
    from .experiments import shedding as study
    out_dir = out_dir or os.path.join("results", f"shedding-{model_name}")
    study.run(out_dir, device, data_dir, resume, quiet, cache, model_name=model_name, dataset=dataset,
              fraction=fraction, epochs=epochs, sparsities=split_list(sparsities, float, "--sparsities"), steps=steps,
              seeds=seeds, probe=probe, synthetic_samples=synthetic_samples,
              **runner_args(workers, worker_threads, scheduler, rerun))
    click.echo(os.path.join(out_dir, "report.md"))


if __name__ == "__main__":
    main()
