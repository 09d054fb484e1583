"""What every study needs: data on the device, a cached pretrained model, scaled schedules, result files."""
import hashlib
import json
import os

import click
import numpy as np

from .. import models, optim, train
from ..backend import to_device
from ..checkpoint import load_weights, read_json
from ..data import load_dataset
from ..rundir import write_config
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


def load_data(model_name, device, data_dir=None, dataset="mnist"):
    data = load_dataset(dataset, data_dir, models.INPUT[model_name])
    return {k: (to_device(x, device), to_device(y, device)) for k, (x, y) in data.items()}


def cache_root():
    return os.environ.get("MINIDI_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "minidi")


def pretrained(model_name, data, device, epochs=90, seed=0, batch_size=100, dataset="mnist", cache=None, quiet=True,
               log=print):
    """The dense model trained with the paper's recipe, reused from the cache when the configuration matches.

    The cache folder is named by a hash of the configuration; it is an ordinary `fit` run folder, so an
    interrupted pretraining resumes.
    """
    config = dict(model=model_name, dataset=dataset, epochs=epochs, seed=seed, batch_size=batch_size,
                  lr=scale_table(PAPER_TABLE, epochs), momentum=0.9, weight_decay=1e-4, init="preset")
    key = hashlib.sha1(json.dumps(config, sort_keys=True).encode()).hexdigest()[:10]
    folder = os.path.join(cache or os.path.join(cache_root(), "pretrained"), f"{model_name}-e{epochs}-s{seed}-{key}")
    model = to_device(models.build(model_name, seed=seed), device)
    weights = os.path.join(folder, "model.npz")
    if os.path.isfile(weights):
        log(f"pretrained {model_name}: reusing {weights}")
        load_weights(weights, model)
        return model, {**read_json(os.path.join(folder, "results.json")), "folder": folder, "cached": True}
    log(f"pretraining {model_name} for {epochs} epochs into {folder}")
    schedule = parse_schedule(config["lr"], epochs)
    opt = optim.SGD(model.parameters(), lr=schedule(0), momentum=0.9, weight_decay=1e-4)
    write_config(folder, config)
    history = train.fit(model, opt, schedule, data, epochs, batch_size, seed=seed, out_dir=folder, resume=True,
                        quiet=quiet)
    from ..checkpoint import save_weights
    results = {**train.summarize(history), "final_test_acc": history[-1]["test_acc"],
               "seconds": sum(r["seconds"] for r in history)}
    train.write_json(os.path.join(folder, "results.json"), results)
    save_weights(weights, model)
    return model, {**results, "folder": folder, "cached": False}


def echo(quiet):
    return (lambda msg: None) if quiet else (lambda msg: click.echo(msg, err=True))


def write_csv(path, rows):
    """rows: list of flat dicts (same keys) → CSV, atomically."""
    from ..data.download import atomic_write_bytes
    if not rows:
        return
    keys = list(rows[0])
    lines = [",".join(keys)] + [",".join(_csv_value(r.get(k)) for k in keys) for r in rows]
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())


def _csv_value(v):
    if isinstance(v, float):
        return repr(v) if np.isfinite(v) else str(v)
    return "" if v is None else str(v)
