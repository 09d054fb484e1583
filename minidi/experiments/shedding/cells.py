"""The weight-shedding study's cells: the cascade after a small random prune, one point of the phase map, and
one pruning route."""
import copy


from ...lab import grid
from ... import prune
from ...measure import shedding
from ...prune import keep_top, kept_count, masked_priority, prunable
from ...schedules import parse_schedule
from ...schedules import Constant
from ...measure.spectrum import JSVMonitor
from ...train import evaluate
from ...train import train_sgd
from ..dense import load_dense
from ..studydata import study_data, subset
from .. import compat

ARM_NAMES = ("large+wd", "large", "small+wd", "small")
ROUTES = ("gmp", "gradual", "random-shed", "random-noshed")
FINAL_WD = 5e-4
MOMENTUM = 0.9            # SGD momentum of every fine-tuning run of the study (the decay law uses it too)


def arms(lr, wd):
    """{arm: (LR, weight decay)}: the shedding setting (lr, wd), the same LR without weight decay, and both at
    a hundredth of the LR (the study's default lr 0.1, wd 5e-4 gives LR 0.1/0.001 with wd 5e-4/0)."""
    small = float(f"{lr / 100:.6g}")
    return dict(zip(ARM_NAMES, ((lr, wd), (lr, 0.0), (small, wd), (small, 0.0))))


def _data(c, context):
    return subset(study_data(c, context), c.get("train_samples"), c.get("test_samples"))


def _dense(c, deps, context):
    return load_dense(deps["dense"], context)


def _random_prune(model, n_remove, seed):
    """Prune exactly `n_remove` more of the unpruned weights, uniformly at random (a global pool)."""
    priority = masked_priority(model, prune.scores(model, "random", seed=seed))
    total = sum(p.size for p in prunable(model).values())
    prune.apply_masks(model, keep_top(priority, (kept_count(model) - n_remove) / total))


def _fit(model, data, c, schedule, epochs, wd, seed, folder=None, callbacks=()):
    """SGD with MOMENTUM at the cell's batch size; checkpointed (and resumable) only when given a folder."""
    return train_sgd(model, schedule, data, epochs, c.get("batch_size", 128), MOMENTUM, wd, seed, folder,
                       callbacks=callbacks, resume=folder is not None, weights=None)


def _start(c, model):
    """Random global prune of c["fraction"]; returns the τs (with GMP's threshold at that fraction as "prune")
    and τ_γ for a BatchNorm network (None otherwise), both measured on the pruned model at t₀."""
    prune_threshold = prune.gmp(copy.deepcopy(model), c["fraction"])   # what GMP would cut at this fraction
    prune.random_masks(model, c["fraction"], seed=c["seed"], scope="global")
    return shedding.thresholds(model, prune_threshold=prune_threshold), shedding.bn_threshold(model)


@grid.returns(taus=grid.DICT, trace=grid.LIST, history=grid.LIST, jsv_init=grid.OPTIONAL_NUMBER, implicit=grid.DICT, disconnected=grid.DICT, dead_units=grid.DICT, final_test_acc=grid.NUMBER)
def cascade_cell(config, folder, deps, context):
    c = config
    data = _data(c, context)
    model = _dense(c, deps, context)
    taus, bn_tau = _start(c, model)
    x_probe = data["train"][0][:c["probe"]]
    steps = -(-len(data["train"][1]) // c.get("batch_size", 128))
    monitor = shedding.ShedMonitor(taus, x_probe, every=max(1, steps // 10), early_epochs=2, steps_per_epoch=steps,
                                   bn_tau=bn_tau)
    jsv = JSVMonitor(x_probe)
    # no checkpoint folder: σ's early trace lives in memory, so an interrupted cascade cell starts again (short)
    history = _fit(model, data, c, Constant(c["lr"]), c["epochs"], c["weight_decay"], c["seed"], None, [monitor, jsv])
    checks = {k: shedding.implicit_sparsity(model, t, *data["test"]) for k, t in taus.items()}
    return {"arm": c["arm"], "taus": taus, "bn_tau": bn_tau, "trace": monitor.trace, "history": history,
            "jsv_init": jsv.initial["mean"] if jsv.initial else None,
            "implicit": {k: {"acc": a, "acc_shed_removed": b, "removed": n} for k, (a, b, n) in checks.items()},
            "disconnected": {k: shedding.disconnected(model, t) for k, t in taus.items()},
            "dead_units": {k: len(v) for k, v in shedding.dead_units(model, x_probe, taus["kappa=0.01"]).items()},
            "final_test_acc": history[-1]["test_acc"]}


@grid.returns(taus=grid.DICT, history=grid.LIST, steps_per_epoch=grid.NUMBER, final_test_acc=grid.NUMBER)
def map_cell(config, folder, deps, context):
    """One point of the phase map: the random prune of `fraction`, then `epochs` of fine-tuning at constant
    (lr, weight_decay), σ per layer for every τ, relative σ, dead units and BN-dead channels after every epoch
    (checkpointed every epoch: a long point resumes)."""
    c = config
    data = _data(c, context)
    model = _dense(c, deps, context)
    taus, bn_tau = _start(c, model)
    monitor = shedding.ShedMonitor(taus, data["train"][0][:c["probe"]], early_epochs=0, bn_tau=bn_tau)
    history = _fit(model, data, c, Constant(c["lr"]), c["epochs"], c["weight_decay"], c["seed"], folder, [monitor])
    return {"taus": taus, "bn_tau": bn_tau, "history": history, "final_test_acc": history[-1]["test_acc"],
            "steps_per_epoch": -(-len(data["train"][1]) // c.get("batch_size", 128))}


def gmp_step(model, sparsity, tau):
    """gmp to `sparsity`; returns (removed now, of them already shed, shed among the kept before the step)."""
    shed, kept = shedding.shed_masks(model, tau), shedding.unpruned_masks(model)
    prune.gmp(model, sparsity)
    after = shedding.unpruned_masks(model)
    removed = sum(int((kept[k] & ~after[k]).sum()) for k in kept)
    picked = sum(int((kept[k] & ~after[k] & shed[k]).sum()) for k in kept)
    return removed, picked, sum(int(v.sum()) for v in shed.values())


@grid.returns(log=grid.LIST, acc_after_pruning=grid.NUMBER, history=grid.LIST, collapsed=grid.LIST, final_test_acc=grid.NUMBER, epochs_before_final=grid.NUMBER)
def route_cell(config, folder, deps, context):
    """One pruning route to `sparsity` in `steps` prune steps on the cubic schedule (`prune.gradual_sparsities`),
    `round_epochs` at constant (lr, weight_decay) after each step but the last, then `epochs` of cosine
    fine-tuning from 0.1 (weight decay 5e-4) for every route: equal epochs and equal final sparsity.
        gmp            one-shot: the whole prune at step 1, the same rounds of training after it
        gradual        gmp to each step's sparsity; logs the share of each step's removed weights already shed
        random-shed    at each step hard-prune the shed weights (smallest first, never past the step's target),
                       then random weights up to the target
        random-noshed  the same with weight decay 0 in the rounds (shedding suppressed)"""
    c = config
    data = _data(c, context)
    model = _dense(c, deps, context)
    total = sum(p.size for p in prunable(model).values())
    tau = shedding.thresholds(model)["kappa=0.01"]
    wd = 0.0 if c["route"] == "random-noshed" else c["weight_decay"]
    log, epochs = [], 0
    for k, s in enumerate(prune.gradual_sparsities(c["sparsity"], c["steps"])):
        target = int(round((1 - s) * total))
        row = {"step": k + 1}
        if c["route"] == "gmp":
            if k == 0:
                prune.gmp(model, c["sparsity"])
        elif c["route"] == "gradual":
            removed, picked, shed_before = gmp_step(model, s, tau)
            row.update(removed=removed, already_shed=picked, shed_before=shed_before,
                       kept_before=kept_count(model) + removed)
        else:
            row["shed_removed"] = shedding.remove_shed(model, tau, limit=max(kept_count(model) - target, 0))
            if kept_count(model) > target:
                _random_prune(model, kept_count(model) - target, [c["seed"], k])
        row["sparsity"] = 1 - kept_count(model) / total
        log.append(row)
        if k + 1 < c["steps"]:
            _fit(model, data, c, Constant(c["lr"]), c["round_epochs"], wd, c["seed"] + 100 * k)
            epochs += c["round_epochs"]
    assert kept_count(model) == int(round((1 - c["sparsity"]) * total))
    x_probe = data["train"][0][:c["probe"]]
    acc_pruned = evaluate(model, *data["test"])[1]
    history = _fit(model, data, c, parse_schedule("cosine:lr=0.1", c["epochs"]), c["epochs"], FINAL_WD, c["seed"],
                   folder, [JSVMonitor(x_probe, at_start=False)])
    return {"route": c["route"], "sparsity": c["sparsity"], "kept": kept_count(model), "log": log,
            "epochs_before_final": epochs, "acc_after_pruning": acc_pruned, "history": history,
            "collapsed": prune.layer_collapse(model), "final_test_acc": history[-1]["test_acc"]}


compat.keep_kinds(cascade_cell, map_cell, route_cell)       # the names old result folders were stored under
