"""The retraining study's cells: prune the dense model once, then retrain it under one schedule and budget."""

from ...lab import grid
from ... import prune
from ...schedules import retraining_schedule
from ...measure.spectrum import JSVMonitor, jsv, jsv_stats
from ...train import evaluate, summarize
from ...train import train_sgd
from ..dense import load_dense
from ..studydata import study_data
from .. import compat


def prune_spec(model, ratio):
    """{layer index: ratio} for every layer the model's pruning plan marks prunable: every weight layer but the
    output one (on ResNets, only the first conv of each residual block)."""
    return {i: ratio for i, e in enumerate(model.pruning_plan()) if e.prunable}


def pruned_start(final, start, structure, arm, ratio, seed):
    """The network retraining starts from: units or weights chosen on the *final* dense weights (L1 / magnitude,
    or random with the same counts), taken from `start` (the final weights, or for WR the rewound ones)."""
    if structure == "structured":
        spec = prune_spec(final, ratio)
        keep = prune.l1_keep(final, spec) if arm == "l1" else prune.random_keep(final, spec, seed)
        return prune.remove_units(start, keep)
    scores = prune.scores(final, "magnitude" if arm == "magnitude" else "random", seed=[seed, 7])
    return prune.apply_masks(start, prune.keep_top(scores, 1 - ratio, "global"))


@grid.returns(epoch0=grid.DICT, history=grid.LIST, final_test_acc=grid.NUMBER)
def retrain_cell(config, folder, deps, context):
    c = config
    data = study_data(c, context)
    final = load_dense(deps["dense"], context)
    start = final
    if c["schedule"] == "wr":
        start = load_dense(deps["dense"], context, f"rewind-{c['epochs'] - c['budget']}.npz")
    model = pruned_start(final, start, c["structure"], c["arm"], c["ratio"], c["seed"])
    x_probe = data["train"][0][:c["probe"]]
    epoch0 = {"test_acc": evaluate(model, *data["test"])[1], "jsv": jsv_stats(jsv(model, x_probe))}
    schedule = retraining_schedule(c["schedule"], c["epochs"], c["budget"], c["eta_max"], c["eta_min"])
    history = train_sgd(model, schedule, data, c["budget"], c["batch_size"], c["momentum"], c["weight_decay"],
                          c["seed"] + 1000, folder, c["augment"], callbacks=[JSVMonitor(x_probe, at_start=False)],
                          weights=None)
    return {"arm": c["arm"], "schedule": c["schedule"], "budget": c["budget"], "seed": c["seed"], "epoch0": epoch0,
            "history": history, "final_test_acc": history[-1]["test_acc"], **summarize(history)}


compat.keep_kinds(retrain_cell)       # the names old result folders were stored under
