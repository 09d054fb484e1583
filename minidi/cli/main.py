"""The `minidi` command line. Every error a user can cause is one line on stderr and a non-zero exit
(`minidi.cli.tools`); every value is checked before the first byte is written (`minidi.lab.rundir`)."""
import json
import os
import platform

import click
import numpy as np

from .. import __version__
from .studies import register
from .tools import Group, data_dir_option, device_option, friendly
from ..errors import MinidiError

DTYPES = {"float32": np.float32, "float64": np.float64}


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
    from .. import backend
    from ..data import mnist
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
    from ..backend import to_device
    from ..data import load_dataset
    from ..models import input_of
    data = load_dataset(dataset, data_dir, input_of(model_name), dtype=dtype, seed=seed,
                        synthetic_samples=synthetic_samples)
    return {split: (to_device(x, device), to_device(y, device)) for split, (x, y) in data.items()}


def _check_dataset(dataset, model_name, augment):
    """The dataset name, and whether --augment fits the model, before anything is loaded or written."""
    from ..data import DATASETS
    from ..models import input_of
    if dataset not in DATASETS:
        raise MinidiError(f"unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)}")
    if augment and input_of(model_name)[0] is None:
        raise MinidiError(f"--augment needs image input (N, C, H, W); {model_name} takes flat vectors")


@main.command()
@click.option("--model", "model_name", default="mlp7-linear", show_default=True, help="Model preset.")
@click.option("--dataset", default="mnist", show_default=True, help="mnist, cifar10, cifar100 or synthetic.")
@click.option("--epochs", default=90, show_default=True, type=click.IntRange(min=1, max=100_000))
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
    """Train a model; writes config.json, log.jsonl, checkpoint.npz, model.npz, results.json and provenance.json to
    --out."""
    from .. import models
    from ..train import loop as training
    from ..backend import resolve_device, to_device
    from ..train.checkpoint import checkpoint_epoch
    from ..train import train_sgd
    from ..files import write_json
    from ..lab import provenance
    from ..lab.rundir import check_run_dir, write_config
    from ..schedules import parse_schedule
    # 1. every value, before anything is read from disk or written
    device = resolve_device(device)
    schedule = parse_schedule(lr_text, epochs)
    build_args = dict(seed=seed, dtype=DTYPES[dtype]) if init == "default" else dict(seed=seed, init=init, dtype=DTYPES[dtype])
    model = to_device(models.build(model_name, **build_args), device)
    augment = dataset.startswith("cifar") if augment is None else augment
    _check_dataset(dataset, model_name, augment)
    from ..optim import SGD
    SGD([], lr=schedule(0), momentum=momentum, weight_decay=weight_decay, nesterov=nesterov)   # checks the values
    if out_dir == "":
        raise MinidiError("--out is empty: give a folder (or leave --out out for the default)")
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
    with provenance.recorded(out_dir, device):
        write_config(out_dir, {**config, "device": device, "minidi": __version__})
        history = train_sgd(model, schedule, data, epochs, batch_size, momentum, weight_decay, seed, out_dir, augment,
                            nesterov, resume=resume, quiet=quiet, meta={"config": config})
    results = {**training.summarize(history), "final_test_acc": history[-1]["test_acc"],
               "seconds": sum(r["seconds"] for r in history), "epochs": len(history)}
    write_json(os.path.join(out_dir, "results.json"), results)
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
    from .. import models
    from ..backend import resolve_device, to_device
    from ..train.checkpoint import load_weights
    from ..files import read_json
    from ..train import evaluate
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


@main.command()
@click.option("--epochs", "dense_epochs", default=160, show_default=True, type=click.IntRange(min=1), help="Dense epochs E.")
@click.option("--budget", default=40, show_default=True, type=click.IntRange(min=1), help="Retraining budget T ≤ E.")
@click.option("--plot", "plot_path", default=None, help="Draw LR and momentum against the epoch into this PNG.")
@friendly
def schedules(dense_epochs, budget, plot_path):
    """The five retraining schedules (ft, lrw, wr, slr, clr) at E and T: LR at key points, and a figure."""
    from ..schedules import RETRAINING, retraining_schedule
    rows = {k: retraining_schedule(k, dense_epochs, budget) for k in RETRAINING}
    if plot_path is not None:
        from ..lab.rundir import check_folder_path
        if not plot_path.strip():
            raise MinidiError("--plot is empty: give a file name such as schedules.png")
        if os.path.isdir(plot_path):
            raise MinidiError(f"--plot {plot_path} is a folder: give a file name such as schedules.png")
        if not plot_path.lower().endswith(".png"):
            raise MinidiError(f"--plot {plot_path}: the figure is a PNG, give a name ending in .png")
        if os.path.exists(plot_path):
            raise MinidiError(f"--plot {plot_path} exists: nothing is overwritten, give another name")
        check_folder_path(os.path.dirname(os.path.abspath(plot_path)), "--plot")   # before anything is printed
    points = sorted({0, 0.1 * budget, budget / 2, 0.775 * budget, budget - 1e-9})
    click.echo("t (epochs)  " + "  ".join(f"{t:>8.3g}" for t in points))
    for k, s in rows.items():
        click.echo(f"{k.upper():<11} " + "  ".join(f"{s(t if s.per_iteration else int(t)):8.2g}" for t in points))
    if plot_path:
        from ..experiments.plots import plot_schedules
        click.echo(plot_schedules(plot_path, RETRAINING, dense_epochs, budget))


register(main)


