"""Dense training, written once: `train_sgd` is what `minidi train` runs and what every study's dense cell
runs (SGD with momentum and weight decay over a schedule, checkpointed every epoch, model.npz at the end).

The cells (shared: they live in the cache, so every study that needs the same dense model reuses it):
    pretrain_cell   the core study's pretraining: the paper's recipe, its epoch table scaled to `epochs`
    recipe_cell     a recipe given in full (text LR schedule, optional augmentation, optionally the first
                    `train_samples`/`test_samples` images only), JSV at init and every epoch: the
                    pruning-at-init and weight-shedding studies
    stepped_cell    LR 0.1 ×0.1 at E/2 and 3E/4 (`schedules.dense_step`), JSV every epoch, and the weights of the
                    epochs that weight rewinding needs (rewind-<k>.npz): the retraining study
Each keeps the kind its results were first stored under (`compat.KINDS`), so old result folders are found.
"""
import os

from ..files import read_json
from ..lab import grid
from ..measure.spectrum import JSVMonitor
from ..schedules import EpochTable, dense_step, parse_schedule
from ..train import load_weights, save_weights, summarize, train_sgd
from . import compat
from .studydata import build_model, study_data, subset

PAPER_TABLE = "0:0.01,30:0.001,60:0.0001"     # the dense recipe and the LR-0.01 finetuning arm, over 90 epochs
PRETRAIN_DEFAULTS = dict(dataset="mnist", batch_size=100, momentum=0.9, weight_decay=1e-4, augment=False,
                         train_samples=None, test_samples=None, synthetic_samples=None)
# The recipes of `recipe_cell` (the pruning-at-init note's; the shedding study reuses the MNIST one).
# MNIST: SGD lr 0.1, batch 128, 16 epochs, no weight decay (no momentum: the note names none). CIFAR: momentum 0.9, lr 0.1 × 0.1 at 1/2 and 3/4 of the run (80 and 120 of 160), wd 1e-4, crop + flip.
RECIPES = {"mnist": dict(epochs=16, lr="0.1", momentum=0.0, weight_decay=0.0, batch_size=128, augment=False),
           "cifar": dict(epochs=160, lr="multistep:lr=0.1,at=0.5/0.75", momentum=0.9, weight_decay=1e-4,
                         batch_size=128, augment=True)}
RECIPE_KEYS = ("model", "dataset", "epochs", "lr", "momentum", "weight_decay", "batch_size", "augment",
               "synthetic_samples")


def scale_table(table, epochs, base=90):
    """An epoch table written for `base` epochs, its milestones scaled to `epochs` (e.g. 90 → 5 for a quick run).

    Milestones that collapse onto one epoch keep the later LR; those that land at or past the run's end are
    dropped (they would never be used)."""
    dedup = {}
    for item in table.split(","):          # milestones that collapse onto one epoch: the later LR wins
        e, lr = item.split(":")
        dedup[round(int(e) * epochs / base)] = lr
    return ",".join(f"{e}:{lr}" for e, lr in sorted(dedup.items()) if e < epochs or e == 0)


def pretrain(model_name, epochs=90, seed=0, dataset="mnist", table=PAPER_TABLE, base=90, batch_size=100,
             weight_decay=1e-4, augment=False, **data):
    """The cell "pretrain `model_name` with the core study's recipe, seed `seed`" (shared: it lives in the cache).

    The seed sets the dense initialization and the pretraining data order. The LR table (the paper's MNIST one
    by default, written for `base` epochs) is scaled to `epochs`; data: train_samples / test_samples (a subset)
    or synthetic_samples."""
    config = dict(model=model_name, dataset=dataset, epochs=epochs, seed=seed, batch_size=batch_size,
                  lr=scale_table(table, epochs, base), momentum=0.9, weight_decay=weight_decay, augment=augment, **data)
    return grid.Cell(pretrain_cell, config, defaults=PRETRAIN_DEFAULTS, shared=True,
                     label=f"pretrain {model_name} s{seed}", work=epochs)


@grid.returns(final_test_acc=grid.NUMBER, seconds=grid.NUMBER, best_test_acc=grid.NUMBER, last5_mean=grid.NUMBER)
def pretrain_cell(config, folder, deps, context):
    """Train the dense model into `folder`; returns the summary of its test accuracy."""
    c = config
    data = subset(study_data(c, context), c.get("train_samples"), c.get("test_samples"))
    history = train_sgd(build_model(c, context), parse_schedule(c["lr"], c["epochs"]), data, c["epochs"],
                        c["batch_size"], c["momentum"], c["weight_decay"], c["seed"], folder, c.get("augment", False))
    return {**summarize(history), "final_test_acc": history[-1]["test_acc"],
            "seconds": sum(r["seconds"] for r in history)}


def load_dense(dep, context, weights="model.npz"):
    """The trained model of a finished dense cell (`deps[name]` of a cell that needs one), on the context's device:
    the cell's own model, with its `weights` file (model.npz, or the weights of an earlier epoch it kept)."""
    c = read_json(os.path.join(dep["folder"], grid.RESULT))["config"]
    model = build_model(c, context)
    load_weights(os.path.join(dep["folder"], weights), model)
    return model


@grid.returns(jsv_init=grid.DICT, history=grid.LIST, final_test_acc=grid.NUMBER)
def recipe_cell(config, folder, deps, context):
    """The dense model trained with the recipe from init seed s, the JSV at init and after every epoch."""
    c = config
    data = subset(study_data(c, context), c.get("train_samples"), c.get("test_samples"))
    monitor = JSVMonitor(data["train"][0][:c["probe"]])
    history = train_sgd(build_model(c, context), parse_schedule(c["lr"], c["epochs"]), data, c["epochs"],
                          c["batch_size"], c["momentum"], c["weight_decay"], c["seed"], folder, c["augment"],
                          callbacks=[monitor])
    return {"jsv_init": monitor.initial, "history": history, "final_test_acc": history[-1]["test_acc"],
            **summarize(history)}


class SaveAt:
    """A `fit` callback: the model's state_dict after epochs `epochs` (0 = before training) as rewind-<k>.npz."""

    def __init__(self, folder, epochs):
        self.folder, self.epochs = folder, set(epochs)

    def on_start(self, model, history):
        if 0 in self.epochs:
            save_weights(os.path.join(self.folder, "rewind-0.npz"), model)

    def on_epoch_end(self, model, row):
        if row["epoch"] + 1 in self.epochs:
            save_weights(os.path.join(self.folder, f"rewind-{row['epoch'] + 1}.npz"), model)


def stepped_schedule(epochs, eta_max):
    """LR eta_max, ×0.1 at E/2 and ×0.01 at 3E/4 (the retraining paper's dense recipe)."""
    return EpochTable({e: dense_step(e, epochs, eta_max) for e in sorted({0, round(epochs / 2), round(3 * epochs / 4)})})


@grid.returns(history=grid.LIST, final_test_acc=grid.NUMBER)
def stepped_cell(config, folder, deps, context):
    """The dense model, E epochs of the stepped schedule, keeping the rewind points weight rewinding needs."""
    c = config
    data = study_data(c, context)
    monitor = JSVMonitor(data["train"][0][:c["probe"]], at_start=False)
    history = train_sgd(build_model(c, context), stepped_schedule(c["epochs"], c["eta_max"]), data, c["epochs"],
                          c["batch_size"], c["momentum"], c["weight_decay"], c["seed"], folder, c["augment"],
                          callbacks=[SaveAt(folder, c["rewind"]), monitor])
    return {"history": history, "final_test_acc": history[-1]["test_acc"], **summarize(history)}


compat.keep_kinds(pretrain_cell, recipe_cell, stepped_cell)       # the names old result folders were stored under
