"""The pruning-at-initialization study's cells: the masks of one method, the collapse sweep, one training run."""
import os
import time

from ...measure import curvature
from ...lab import grid
from ... import prune
from ...files import load_npz, save_npz
from ...measure.hessian import Hessian
from ...prune.at_init import apply_scores, collapse_report
from ...prune.scores import per_class_batch
from ...schedules import parse_schedule
from ...measure.spectrum import JSVMonitor
from ...train import summarize
from ...train import train_sgd
from ..dense import load_dense
from ..studydata import build_model, study_data
from .. import compat

VARIANTS = ("original", "shuffle", "reinit", "invert")
CONTROL = "lth"                                       # magnitude after training, rewound to init
CONTROL_VARIANTS = ("original", "shuffle", "reinit")
REINIT_OFFSET = 10000


def _scoring_batch(c, data):
    """SNIP's and GraSP's batch: 10 training examples per class drawn by the seed (None, None for the others)."""
    return per_class_batch(*data["train"], per_class=10, seed=c["seed"]) if c["method"] in ("snip", "grasp") else (None, None)


def _masks(c, model, data, deps, context):
    """Set the masks of (method, sparsity, invert) on `model`; returns the per-layer report."""
    x, y = _scoring_batch(c, data)
    if c["method"] == CONTROL:                          # magnitude of the trained weights, then rewound to init
        trained = load_dense(deps["dense"], context)
        apply_scores(model, "magnitude", prune.scores(trained, "magnitude"), 1 - c["sparsity"], c["scope"])
        return collapse_report(model)
    return prune.prune_at_init(model, c["method"], c["sparsity"], c["scope"], x, y, c["rounds"], c["invert"],
                               seed=c["seed"])


@grid.returns(layers=grid.LIST, collapsed=grid.LIST, stats_init=grid.DICT)
def mask_cell(config, folder, deps, context):
    """masks.npz of one method, sparsity and seed, with the collapse report and the layer statistics at init."""
    data = study_data(config, context)
    model = build_model(config, context)
    t0 = time.perf_counter()
    report = _masks(config, model, data, deps, context)
    seconds = time.perf_counter() - t0
    save_npz(os.path.join(folder, "masks.npz"), model.masks())
    return {"layers": report, "collapsed": [r["name"] for r in report if r["collapsed"]],
            "stats_init": prune.layer_stats(model), "score_seconds": seconds}


@grid.returns(sweep=grid.LIST, first_collapse=grid.OPTIONAL_NUMBER)
def collapse_cell(config, folder, deps, context):
    """Per sparsity of a fine sweep: the per-layer densities and the collapsed layers of one method. One-shot
    methods are scored once and cut at every sparsity; SynFlow's rounds depend on the target, so it reruns."""
    c = config
    data = study_data(c, context)
    once = None
    if c["method"] != "synflow":
        x, y = _scoring_batch(c, data)
        once = prune.scores(build_model(c, context), c["method"], x, y, seed=c["seed"])
    rows = []
    for sp in c["sparsities"]:
        model = build_model(c, context)
        if once is None:
            report = _masks(dict(c, sparsity=sp, invert=False), model, data, deps, context)
        else:
            apply_scores(model, c["method"], once, 1 - sp, c["scope"])
            report = collapse_report(model)
        rows.append({"sparsity": sp, "density": {r["name"]: r["density"] for r in report},
                     "collapsed": [r["name"] for r in report if r["collapsed"]]})
    first = next((r["sparsity"] for r in rows if r["collapsed"]), None)
    return {"sweep": rows, "first_collapse": first}


@grid.returns(init=grid.DICT, stats_trained=grid.DICT, jsv_init=grid.DICT, history=grid.LIST, final_test_acc=grid.NUMBER, best_test_acc=grid.NUMBER)
def train_cell(config, folder, deps, context):
    """Init (seed s), the mask, the variant, then training; JSV at init and every epoch; model.npz at the end."""
    c = config
    data = study_data(c, context)
    model = build_model(c, context)
    dense_init = {k: v.copy() for k, v in model.state_dict().items()}
    prune.apply_masks(model, load_npz(os.path.join(deps["mask"]["folder"], "masks.npz")))
    if c["variant"] == "shuffle":
        prune.shuffle_masks(model, c["seed"], init=dense_init)
    elif c["variant"] == "reinit":
        prune.reinit_kept(model, REINIT_OFFSET + c["seed"])
    at_init = {"layers": collapse_report(model), "stats": prune.layer_stats(model)}
    monitor = JSVMonitor(data["train"][0][:c["probe"]])
    history = train_sgd(model, parse_schedule(c["lr"], c["epochs"]), data, c["epochs"], c["batch_size"],
                          c["momentum"], c["weight_decay"], c["seed"], folder, c["augment"], callbacks=[monitor])
    return {"method": c["method"], "sparsity": c["sparsity"], "variant": c["variant"], "seed": c["seed"],
            "init": at_init, "stats_trained": prune.layer_stats(model), "jsv_init": monitor.initial,
            "history": history, "final_test_acc": history[-1]["test_acc"], **summarize(history)}


@grid.returns(top_eigenvalue=grid.NUMBER, trace=grid.NUMBER)
def curvature_cell(config, folder, deps, context):
    """The curvature lens at init: top Hessian eigenvalue (Lanczos) and trace (Hutchinson) of the masked init
    network (the dense one without a mask) on the scoring batch of its seed, BatchNorm in train mode."""
    c = config
    data = study_data(c, context)
    model = build_model(c, context)
    if "mask" in deps:
        prune.apply_masks(model, load_npz(os.path.join(deps["mask"]["folder"], "masks.npz")))
    x, y = per_class_batch(*data["train"], per_class=10, seed=c["seed"])
    lens = curvature.summary(Hessian(model, x, y, training=True), c["lanczos_steps"], c["trace_probes"], seed=c["seed"])
    return {"method": c["method"], "sparsity": c["sparsity"], "seed": c["seed"], **lens}


compat.keep_kinds(mask_cell, collapse_cell, train_cell, curvature_cell)       # the names old result folders were stored under
