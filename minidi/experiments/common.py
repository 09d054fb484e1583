"""What every study needs: data on the device, the shared pretraining cell, scaled schedules, result files."""
import os
import time

import click

from .. import models, optim, train
from ..backend import to_device
from ..checkpoint import load_weights, read_json, save_weights
from ..data import load_dataset
from .. import grid
from ..backend import resolve_device
from ..errors import MinidiError
from ..grid import Cell
from ..rundir import check_folder_path, check_run_dir, write_config
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


def study_data(c, context):
    """The data of a study configuration `c` on the context's device: the shared per-process copy for real
    datasets, a fresh draw for --dataset synthetic (seed 0, `synthetic_samples` training images)."""
    from ..data import load_dataset as load
    if c["dataset"] != "synthetic":
        return load_data(c["model"], context.get("device", "cpu"), context.get("data_dir"), c["dataset"])
    raw = load("synthetic", None, models.INPUT[c["model"]], synthetic_samples=c["synthetic_samples"])
    return {k: (to_device(x, context.get("device", "cpu")), to_device(y, context.get("device", "cpu")))
            for k, (x, y) in raw.items()}


def run_study(out_dir, config, make_cells, write_outputs, device=None, data_dir=None, resume=False, quiet=False,
              cache=None, workers=None, scheduler=None, worker_threads=1, rerun=False):
    """What every study's `run` does: check the folder, the cache and the data (probe and batch fit the training
    set) before anything is written, start the runner (a Dask scheduler that does not answer fails here), write
    config.json, run the grid of `make_cells(config)` = (groups, every cell), then `write_outputs(out_dir, config,
    groups, folders, seconds)` and the merged cells.csv; seconds = {"wall": this invocation, "compute": the sum of
    every cell's own time, from its result.json, whichever run computed it}. Returns (summary, start time)."""
    device = resolve_device(device)
    if cache is not None:
        check_folder_path(cache, "--cache")
    check_run_dir(out_dir, config, resume)
    n_train = len(study_data(config, {"device": device, "data_dir": data_dir})["train"][1])
    for what, n in (("--probe", config["probe"]), ("batch size", config.get("batch_size", 1))):
        if n > n_train:
            raise MinidiError(f"{what} {n} is larger than the training set ({n_train} images)")
    runner = grid.Runner(workers, scheduler, worker_threads)
    try:
        write_config(out_dir, config)
        t0 = time.perf_counter()
        groups, every = make_cells(config)
        folders = grid.run(every, out_dir, cache_root(cache), {"device": device, "data_dir": data_dir},
                           quiet=quiet, rerun=rerun, runner=runner)
    finally:
        runner.close(abort=True)
    seconds = time.perf_counter() - t0
    compute = sum(read_json(os.path.join(folders[c.key], grid.RESULT))["seconds"] for c in every)
    summary = write_outputs(out_dir, config, groups, folders, {"wall": seconds, "compute": compute})
    grid.write_cells_csv(os.path.join(out_dir, "cells.csv"), every, folders, out_dir, cache_root(cache))
    return summary, t0


def model_and_dataset(study, model_name, dataset, families, datasets):
    """(family, dataset) of a study's model preset: `families` {model: family}, `datasets` {family: names, the
    default first}; a MinidiError names a model outside the study or a dataset that does not fit it."""
    if model_name not in families:
        raise MinidiError(f"the {study} study runs on {', '.join(families)}, not {model_name!r}")
    family = families[model_name]
    dataset = dataset or datasets[family][0]
    if dataset not in datasets[family]:
        raise MinidiError(f"{model_name} takes --dataset {' or '.join(datasets[family])}, not {dataset!r}")
    return family, dataset
