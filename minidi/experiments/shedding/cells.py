"""The weight-shedding study's cells: the cascade after a small random prune, and one pruning route."""
import copy
import os

import numpy as np

from ... import grid, prune, shedding
from ...files import load_npz
from ...prune import keep_top, kept_count, masked_priority, prunable
from ...schedule_text import parse_schedule
from ...schedules import Constant
from ...spectrum import JSVMonitor
from ...train import evaluate
from ..dense import train_dense
from ..studydata import build_model, study_data

ARMS = {"large+wd": (0.1, 5e-4), "large": (0.1, 0.0), "small+wd": (0.001, 5e-4), "small": (0.001, 0.0)}
ROUTES = ("gmp", "gradual", "random-shed", "random-noshed")
ROUND_FRACTION, ROUND_EPOCHS, WD = 0.2, 1, 5e-4


def _dense(c, deps, context):
    model = build_model(c, context)
    model.load_state_dict(load_npz(os.path.join(deps["dense"]["folder"], "model.npz")))
    return model


def _random_prune(model, n_remove, seed):
    """Prune exactly `n_remove` more of the unpruned weights, uniformly at random (a global pool)."""
    priority = masked_priority(model, prune.scores(model, "random", seed=seed))
    total = sum(p.size for p in prunable(model).values())
    prune.apply_masks(model, keep_top(priority, (kept_count(model) - n_remove) / total))


def _fit(model, data, schedule, epochs, wd, seed, folder=None, callbacks=()):
    """SGD momentum 0.9, batch 128; checkpointed (and resumable) only when given a folder."""
    return train_dense(model, schedule, data, epochs, 128, 0.9, wd, seed, folder, callbacks=callbacks,
                       resume=folder is not None, weights=None)


@grid.stored_as("minidi.experiments.shedding:cascade_cell")
@grid.returns(taus=grid.DICT, trace=grid.LIST, history=grid.LIST, jsv_init=grid.OPTIONAL_NUMBER, implicit=grid.DICT, disconnected=grid.DICT, dead_units=grid.DICT, final_test_acc=grid.NUMBER)
def cascade_cell(config, folder, deps, context):
    c = config
    data = study_data(c, context)
    model = _dense(c, deps, context)
    prune_threshold = prune.gmp(copy.deepcopy(model), c["fraction"])   # what GMP would cut at this fraction
    prune.random_masks(model, c["fraction"], seed=c["seed"], scope="global")
    taus = shedding.thresholds(model, prune_threshold=prune_threshold)
    x_probe = data["train"][0][:c["probe"]]
    steps = -(-len(data["train"][1]) // 128)
    monitor = shedding.ShedMonitor(taus, x_probe, every=max(1, steps // 10), early_epochs=2, steps_per_epoch=steps)
    jsv = JSVMonitor(x_probe)
    # no checkpoint folder: σ's early trace lives in memory, so an interrupted cascade cell starts again (short)
    history = _fit(model, data, Constant(c["lr"]), c["epochs"], c["weight_decay"], c["seed"], None, [monitor, jsv])
    checks = {k: shedding.implicit_sparsity(model, t, *data["test"]) for k, t in taus.items()}
    return {"arm": c["arm"], "taus": taus, "trace": monitor.trace, "history": history,
            "jsv_init": jsv.initial["mean"] if jsv.initial else None,
            "implicit": {k: {"acc": a, "acc_shed_removed": b, "removed": n} for k, (a, b, n) in checks.items()},
            "disconnected": {k: shedding.disconnected(model, t) for k, t in taus.items()},
            "dead_units": {k: len(v) for k, v in shedding.dead_units(model, x_probe, taus["kappa=0.01"]).items()},
            "final_test_acc": history[-1]["test_acc"]}


@grid.stored_as("minidi.experiments.shedding:route_cell")
@grid.returns(log=grid.LIST, acc_after_pruning=grid.NUMBER, history=grid.LIST, collapsed=grid.LIST, final_test_acc=grid.NUMBER, epochs_before_final=grid.NUMBER)
def route_cell(config, folder, deps, context):
    c = config
    data = study_data(c, context)
    model = _dense(c, deps, context)
    total = sum(p.size for p in prunable(model).values())
    target = int(round((1 - c["sparsity"]) * total))
    tau = shedding.thresholds(model)["kappa=0.01"]
    log, epochs = [], 0
    if c["route"] == "gmp":
        prune.gmp(model, c["sparsity"])
    elif c["route"] == "gradual":
        for k, s in enumerate(prune.gradual_sparsities(c["sparsity"], c["steps"])):
            prune.gmp(model, s)
            log.append({"step": k + 1, "sparsity": 1 - kept_count(model) / total})
            if k + 1 < c["steps"]:
                _fit(model, data, Constant(0.1), ROUND_EPOCHS, WD, c["seed"] + 100 * k)
                epochs += ROUND_EPOCHS
    else:
        wd = WD if c["route"] == "random-shed" else 0.0
        k = 0
        while kept_count(model) > target:
            kept = kept_count(model)
            _random_prune(model, min(int(np.ceil(ROUND_FRACTION * kept)), kept - target), [c["seed"], k])
            _fit(model, data, Constant(0.1), ROUND_EPOCHS, wd, c["seed"] + 100 * k)
            epochs += ROUND_EPOCHS
            removed = shedding.remove_shed(model, tau, limit=kept_count(model) - target)
            log.append({"round": k + 1, "sparsity": 1 - kept_count(model) / total, "shed_removed": removed})
            k += 1
    assert kept_count(model) == target
    x_probe = data["train"][0][:c["probe"]]
    acc_pruned = evaluate(model, *data["test"])[1]
    history = _fit(model, data, parse_schedule("cosine:lr=0.1", c["epochs"]), c["epochs"], WD, c["seed"], folder,
                   [JSVMonitor(x_probe, at_start=False)])
    return {"route": c["route"], "sparsity": c["sparsity"], "kept": kept_count(model), "log": log,
            "epochs_before_final": epochs, "acc_after_pruning": acc_pruned, "history": history,
            "collapsed": prune.layer_collapse(model), "final_test_acc": history[-1]["test_acc"]}
