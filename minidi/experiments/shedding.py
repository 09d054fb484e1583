"""The weight-shedding study (Azarian & Porikli 2021): after a small random prune, does fine-tuning shed a
large share of the remaining weights, and can random pruning with shedding approach global magnitude pruning?
Specification: ../shared/research/weight_shedding.md; our operational definitions: minidi/shedding.py.

The grid (`minidi.grid`), per replicate s:
    dense    the dense model (the pai study's dense cell and recipe: SGD lr 0.1, batch 128, 16 epochs; shared);
    cascade  random global prune of `fraction` of the weights, then F epochs of fine-tuning at a large (0.1) or
             small (0.001) constant LR, SGD momentum 0.9, weight decay 5e-4 or 0: σ(t) for every τ (ten times per
             epoch in the first two epochs, then every epoch), dead units, JSV, the implicit-sparsity check;
    route    one pruning route to a final sparsity: one-shot GMP; gradual GMP (cubic, `steps` prune steps, one
             epoch at LR 0.1 after each but the last); iterative random pruning with shedding (prune 20% of the
             remaining weights at random, one epoch at LR 0.1, hard-prune the shed weights, repeat until the target,
             never past it), with weight decay 5e-4 (shedding) or 0 (suppressed). Every route ends with the same
             F epochs of fine-tuning, cosine from 0.1 to 0, weight decay 5e-4.
"""
import copy
import os
import time

import numpy as np

from .. import grid, optim, prune, shedding
from ..backend import to_numpy
from ..backend import rng as backend_rng
from ..checkpoint import load_npz
from ..errors import MinidiError, check_number
from ..prune.at_init import keep_top, masked_priority
from ..prune.unstructured import prunable
from ..schedules import Constant, parse_schedule
from ..spectrum import JSVMonitor
from ..train import evaluate, fit
from .common import echo, run_study
from .common import study_data as _data
from .pai import RECIPES, TRAIN_KEYS, _init

MODELS = ("lenet300-100", "mlp7-relu", "lenet5-relu")
ARMS = {"large+wd": (0.1, 5e-4), "large": (0.1, 0.0), "small+wd": (0.001, 5e-4), "small": (0.001, 0.0)}
ROUTES = ("gmp", "gradual", "random-shed", "random-noshed")
SPARSITIES = (0.8, 0.9, 0.95)
ROUND_FRACTION, ROUND_EPOCHS, WD = 0.2, 1, 5e-4


def study_config(model_name="lenet300-100", dataset="mnist", fraction=0.2, epochs=10, sparsities=SPARSITIES,
                 steps=5, seeds=1, probe=1000, synthetic_samples=2400):
    if model_name not in MODELS:
        raise MinidiError(f"the shedding study runs on {', '.join(MODELS)}, not {model_name!r}")
    if dataset not in ("mnist", "synthetic"):
        raise MinidiError(f"the shedding study runs on --dataset mnist or synthetic, not {dataset!r}")
    sparsities = sorted(check_number(s, "sparsity", low=0, high=1, low_open=True, high_open=True) for s in sparsities)
    if not sparsities or len(set(sparsities)) < len(sparsities):
        raise MinidiError("give each sparsity once, at least one")
    return dict(study="shedding", model=model_name, dataset=dataset,
                fraction=check_number(fraction, "fraction", low=0, high=0.5, low_open=True),
                epochs=check_number(epochs, "epochs", low=1, integer=True), sparsities=sparsities,
                steps=check_number(steps, "steps", low=1, integer=True),
                seeds=check_number(seeds, "seeds", low=1, integer=True),
                probe=check_number(probe, "probe", low=1, integer=True),
                synthetic_samples=synthetic_samples if dataset == "synthetic" else None)


def cells(config):
    c = config
    base = dict(model=c["model"], dataset=c["dataset"], synthetic_samples=c["synthetic_samples"], probe=c["probe"])
    recipe = dict(RECIPES["mnist"], model=c["model"], dataset=c["dataset"], synthetic_samples=c["synthetic_samples"])
    out = {"dense": [], "cascade": {}, "route": {}}
    for s in range(c["seeds"]):
        dense = grid.Cell("minidi.experiments.pai:dense_cell", dict({k: recipe[k] for k in TRAIN_KEYS}, seed=s,
                                                                    probe=c["probe"]),
                          shared=True, label=f"dense {c['model']} s{s}", work=recipe["epochs"])
        out["dense"].append(dense)
        for arm, (lr, wd) in ARMS.items():
            out["cascade"][(arm, s)] = grid.Cell(
                "minidi.experiments.shedding:cascade_cell",
                dict(base, seed=s, arm=arm, lr=lr, weight_decay=wd, fraction=c["fraction"], epochs=c["epochs"]),
                deps={"dense": dense}, label=f"cascade {arm} s{s}", work=c["epochs"])
        for route in ROUTES:
            for sp in c["sparsities"]:
                out["route"][(route, sp, s)] = grid.Cell(
                    "minidi.experiments.shedding:route_cell",
                    dict(base, seed=s, route=route, sparsity=sp, epochs=c["epochs"], steps=c["steps"]),
                    deps={"dense": dense}, label=f"route {route} {sp:g} s{s}", work=c["epochs"])
    return out


def run(out_dir="results/shedding", device=None, data_dir=None, resume=False, quiet=False, cache=None, workers=None,
        scheduler=None, worker_threads=1, rerun=False, **study):
    """Run the study into `out_dir`; `study`: the arguments of `study_config`. Returns the report's summary."""
    from .shedding_report import write_outputs

    def make_cells(config):
        groups = cells(config)
        return groups, groups["dense"] + list(groups["cascade"].values()) + list(groups["route"].values())
    summary, t0 = run_study(out_dir, study_config(**study), make_cells, write_outputs, device, data_dir, resume, quiet,
                            cache, workers, scheduler, worker_threads, rerun)
    for line in summary["disconnections"]:
        echo(quiet)(f"Warning: {line}")
    echo(quiet)(f"done in {time.perf_counter() - t0:.1f} s: {out_dir}")
    return summary


# --- the cells -----------------------------------------------------------------------------------------
def _dense(c, deps, context):
    model = _init(c, c["seed"], context)
    model.load_state_dict(load_npz(os.path.join(deps["dense"]["folder"], "model.npz")))
    return model


def _random_prune(model, n_remove, seed):
    """Prune exactly `n_remove` more of the unpruned weights, uniformly at random (a global pool)."""
    gen = backend_rng(seed)
    weights = prunable(model)
    priority = masked_priority(model, {k: gen.random(p.shape) for k, p in weights.items()})
    total = sum(p.size for p in weights.values())
    prune.apply_masks(model, keep_top(priority, (_kept(model) - n_remove) / total))


def _kept(model):
    return sum(int(p.size if p.mask is None else to_numpy(p.mask).sum()) for p in prunable(model).values())


def _fit(model, data, schedule, epochs, wd, seed, folder=None, callbacks=()):
    opt = optim.SGD(model.parameters(), lr=schedule(0), momentum=0.9, weight_decay=wd)
    return fit(model, opt, schedule, data, epochs, 128, seed=seed, out_dir=folder, resume=folder is not None,
               quiet=True, callbacks=list(callbacks))


def cascade_cell(config, folder, deps, context):
    c = config
    data = _data(c, context)
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


def route_cell(config, folder, deps, context):
    c = config
    data = _data(c, context)
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
            log.append({"step": k + 1, "sparsity": 1 - _kept(model) / total})
            if k + 1 < c["steps"]:
                _fit(model, data, Constant(0.1), ROUND_EPOCHS, WD, c["seed"] + 100 * k)
                epochs += ROUND_EPOCHS
    else:
        wd = WD if c["route"] == "random-shed" else 0.0
        k = 0
        while _kept(model) > target:
            kept = _kept(model)
            _random_prune(model, min(int(np.ceil(ROUND_FRACTION * kept)), kept - target), [c["seed"], k])
            _fit(model, data, Constant(0.1), ROUND_EPOCHS, wd, c["seed"] + 100 * k)
            epochs += ROUND_EPOCHS
            removed = shedding.remove_shed(model, tau, limit=_kept(model) - target)
            log.append({"round": k + 1, "sparsity": 1 - _kept(model) / total, "shed_removed": removed})
            k += 1
    assert _kept(model) == target
    x_probe = data["train"][0][:c["probe"]]
    acc_pruned = evaluate(model, *data["test"])[1]
    history = _fit(model, data, parse_schedule("cosine:lr=0.1", c["epochs"]), c["epochs"], WD, c["seed"], folder,
                   [JSVMonitor(x_probe, at_start=False)])
    return {"route": c["route"], "sparsity": c["sparsity"], "kept": _kept(model), "log": log,
            "epochs_before_final": epochs, "acc_after_pruning": acc_pruned, "history": history,
            "collapsed": prune.layer_collapse(model), "final_test_acc": history[-1]["test_acc"]}
