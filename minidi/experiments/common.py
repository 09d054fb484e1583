"""What every study needs: data on the device, the shared pretraining cell, scaled schedules, result files."""
import os

import click

from .. import models, optim, train
from ..backend import to_device
from ..checkpoint import load_weights, read_json, save_weights
from ..data import load_dataset
from ..grid import Cell
from ..schedules import parse_schedule

PAPER_TABLE = "0:0.01,30:0.001,60:0.0001"     # the dense recipe and the LR-0.01 finetuning arm, over 90 epochs


def scale_table(table, epochs, base=90):
    """An epoch table written for `base` epochs, its milestones scaled to `epochs` (e.g. 90 → 5 for a quick run).

    Milestones that collapse onto one epoch keep the later LR; those that land at or past the run's end are
    dropped (they would never be used)."""
    out = []
    for item in table.split(","):
        e, lr = item.split(":")
        out.append(f"{round(int(e) * epochs / base)}:{lr}")
    dedup = {}
    for item in out:                       # milestones that collapse onto one epoch: the later LR wins
        e, lr = item.split(":")
        dedup[int(e)] = lr
    return ",".join(f"{e}:{lr}" for e, lr in sorted(dedup.items()) if e < epochs or e == 0)


_DATA = {}


def load_data(model_name, device, data_dir=None, dataset="mnist"):
    """The dataset shaped for the model, on the device; kept per process, so the cells one process runs load it
    once (a pool or Dask worker loads it when it runs its first cell)."""
    key = (models.INPUT[model_name], device, data_dir, dataset)
    if key not in _DATA:
        data = load_dataset(dataset, data_dir, models.INPUT[model_name])
        _DATA.clear()                                       # one dataset at a time: MNIST is 250 MB as float32
        _DATA[key] = {k: (to_device(x, device), to_device(y, device)) for k, (x, y) in data.items()}
    return _DATA[key]


def cache_root(cache=None):
    """--cache, else $MINIDI_CACHE, else ~/.cache/minidi: where the cells that many studies share live."""
    return cache or os.environ.get("MINIDI_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "minidi")


PRETRAIN_DEFAULTS = dict(dataset="mnist", batch_size=100, momentum=0.9, weight_decay=1e-4)


def pretrain(model_name, epochs=90, seed=0, dataset="mnist"):
    """The cell "pretrain `model_name` with the paper's recipe, seed `seed`" (shared: it lives in the cache).

    The seed sets the dense initialization and the pretraining data order. The LR table is the paper's,
    scaled to `epochs`."""
    config = dict(model=model_name, dataset=dataset, epochs=epochs, seed=seed, batch_size=100,
                  lr=scale_table(PAPER_TABLE, epochs), momentum=0.9, weight_decay=1e-4)
    return Cell("minidi.experiments.common:pretrain_cell", config, defaults=PRETRAIN_DEFAULTS, shared=True,
                label=f"pretrain {model_name} s{seed}", work=epochs)


def pretrain_cell(config, folder, deps, context):
    """Train the dense model into `folder` (an ordinary `fit` run folder: it checkpoints every epoch and
    resumes); writes model.npz and returns the summary of its test accuracy."""
    c = config
    data = load_data(c["model"], context.get("device", "cpu"), context.get("data_dir"), c["dataset"])
    model = to_device(models.build(c["model"], seed=c["seed"]), context.get("device", "cpu"))
    schedule = parse_schedule(c["lr"], c["epochs"])
    opt = optim.SGD(model.parameters(), lr=schedule(0), momentum=c["momentum"], weight_decay=c["weight_decay"])
    history = train.fit(model, opt, schedule, data, c["epochs"], c["batch_size"], seed=c["seed"], out_dir=folder,
                        resume=True, quiet=True)
    save_weights(os.path.join(folder, "model.npz"), model)
    return {**train.summarize(history), "final_test_acc": history[-1]["test_acc"],
            "seconds": sum(r["seconds"] for r in history)}


def load_pretrained(dep, device):
    """The dense model of a finished pretraining cell (`deps["pretrain"]` of a cell that needs one)."""
    c = read_json(os.path.join(dep["folder"], "result.json"))["config"]
    model = to_device(models.build(c["model"], seed=c["seed"]), device)
    load_weights(os.path.join(dep["folder"], "model.npz"), model)
    return model


def echo(quiet):
    return (lambda msg: None) if quiet else (lambda msg: click.echo(msg, err=True))
