"""The core study's cells: the JSV-against-PR sweep of one pretrained model, and one finetuning arm."""
import copy
import os

from ...measure import convspectra, curvature, partialproducts
from ...lab import grid
from ...backend import to_numpy
from ...train.checkpoint import load_checkpoint
from ...files import read_json, save_npz, write_json
from ...measure.hessian import Hessian
from ...recover import gain_for, orthp
from ...measure.layerspectra import LayerMonitor, layer_spectra, linear_closed_form, supports
from ...prune import prune_neurons
from ...schedules import parse_schedule
from ...measure.spectrum import JSVMonitor, jsv, jsv_stats
from ...train import evaluate, summarize
from ...train import train_sgd
from ..dense import load_dense, scale_table
from ..studydata import study_data, subset
from . import arms
from .protocol import RECIPES, study_spec
from .. import compat


def cell_data(c, context):
    """The data a cell reads: the dataset on the context's device, cut to the configuration's subset."""
    return subset(study_data(c, context), c.get("train_samples"), c.get("test_samples"))


@grid.returns(sweep=grid.LIST, dense_jsv=grid.DICT, widths=grid.LIST)
def sweep_cell(config, folder, deps, context):
    """(a): for each PR, widths, test accuracy right after pruning, JSV stats after pruning and after OrthP;
    and the singular values of the dense, the pruned (at `pr`) and the OrthP'd network (singular_values.npz)."""
    data = cell_data(config, context)
    dense = load_dense(deps["pretrain"], context)
    x_probe = data["train"][0][:config["probe"]]
    gain = gain_for(dense)
    rows = jsv_vs_pr(dense, x_probe, data["test"], config["prs"], gain)
    pruned = prune_neurons(dense, study_spec(dense, config["pr"]))
    spectra = {"dense": to_numpy(jsv(dense, x_probe)), f"L1 pruned (PR {config['pr']})": to_numpy(jsv(pruned, x_probe)),
               "L1 pruned + OrthP": to_numpy(jsv(orthp(copy.deepcopy(pruned), gain), x_probe))}
    save_npz(os.path.join(folder, "singular_values.npz"), spectra)
    return {"sweep": rows, "dense_jsv": jsv_stats(spectra["dense"]), "dense_jsv_mean": float(spectra["dense"].mean()),
            "linear": bool(getattr(dense, "is_linear", False)), "widths": pruned.widths}


def jsv_vs_pr(dense, x_probe, test, prs, gain):
    """For each PR: widths, test accuracy right after pruning, JSV stats after pruning and after OrthP."""
    rows = []
    for p in prs:
        pruned = prune_neurons(dense, study_spec(dense, p))
        s_orth = jsv(orthp(copy.deepcopy(pruned), gain), x_probe)
        rows.append({"pr": float(p), "widths": pruned.widths, "test_acc": evaluate(pruned, *test)[1],
                     "pruned": jsv_stats(jsv(pruned, x_probe)), "orthp": jsv_stats(s_orth),
                     "orthp_max_abs_dev": float(abs(to_numpy(s_orth) - 1).max())})
    return rows


@grid.returns(epoch0=grid.DICT, history=grid.LIST, final_jsv_mean=grid.NUMBER, last5_mean=grid.NUMBER, best_test_acc=grid.NUMBER,
              schedule=grid.TEXT)
def finetune_cell(config, folder, deps, context):
    """(b), one arm and one replicate: the arm's starting network (`arms.starting_network`: L1 pruning, + OrthP,
    + AI, the TPP route, or a fresh draw of the pruned widths), its "epoch 0", then finetuning with the JSV (and,
    for MLPs, the per-layer spectra) every epoch."""
    c = config
    data = cell_data(c, context)
    dense = load_dense(deps["pretrain"], context)
    x_probe = data["train"][0][:c["probe"]]
    spec = study_spec(dense, c["pr"])

    def train(model, schedule, epochs, run_folder, callbacks):
        return train_sgd(model, schedule, data, epochs, c["batch_size"], c["momentum"], c["weight_decay"],
                         c["seed"], run_folder, c.get("augment", False), callbacks=callbacks, weights=None)
    model, facts = arms.starting_network(c, dense, spec, data, folder, train)
    layers = layer_monitor(model, x_probe)             # per-layer spectra: MLPs and CNNs
    monitors = [JSVMonitor(x_probe, at_start=False)] + ([layers] if layers else [])
    start = os.path.join(folder, "jsv_epoch0.json")
    if not os.path.isfile(start):                      # the state the finetuning starts from (kept for resume)
        write_json(start, {"jsv": jsv_stats(jsv(model, x_probe)), "test_acc": evaluate(model, *data["test"])[1],
                           **({"layers": layers.measure(model)} if layers else {}), **facts})
    epoch0 = read_json(start)
    recipe = RECIPES[c.get("recipe", "mnist")]
    table = scale_table(recipe["tables"][arms.split(c["arm"])[0]], c["epochs"], recipe["base"])
    history = train(model, parse_schedule(table, c["epochs"]), c["epochs"], folder, monitors)
    return {"arm": c["arm"], "seed": c["seed"], "schedule": table, "epoch0": epoch0, "history": history,
            "final_jsv_mean": history[-1]["jsv_mean"], **summarize(history)}


def layer_monitor(model, x):
    """The per-layer spectra a model gets: the local Jacobians and partial products of an MLP
    (`measure.layerspectra`), each conv's FFT spectrum on a CNN (`measure.convspectra`); None otherwise."""
    if supports(model):
        return LayerMonitor(x)
    return convspectra.ConvLayerMonitor(x) if convspectra.supports(model) else None


@grid.returns(layers=grid.DICT)
def layers_cell(config, folder, deps, context):
    """The per-layer spectra of the dense network and right after L1 pruning at `pr` (the arms record their own
    starts and epochs); for linear networks also the closed form's check: the largest gap between the measured
    local singular values and those of the (pruned) weight matrices."""
    c = config
    data = cell_data(c, context)
    dense = load_dense(deps["pretrain"], context)
    x = data["train"][0][:c["probe"]]
    pruned = prune_neurons(dense, study_spec(dense, c["pr"]))
    monitor = layer_monitor(dense, x)
    out = {"dense": monitor.measure(dense), "pruned": monitor.measure(pruned),
           "kind": "conv" if isinstance(monitor, convspectra.ConvLayerMonitor) else "mlp"}
    if getattr(dense, "is_linear", False):
        gaps = []
        for state in (dense, pruned):
            for row, (_, s) in zip(layer_spectra(state, x), linear_closed_form(state)):
                s = to_numpy(s)
                gaps += [abs(row["local"][k] - v) for k, v in (("mean", s.mean()), ("min", s.min()), ("max", s.max()))]
        out["closed_form_max_gap"] = float(max(gaps))
    return {"layers": out}


@grid.returns(curvature=grid.DICT)
def curvature_cell(config, folder, deps, context):
    """The curvature lens beside the Jacobian's: top Hessian eigenvalue (Lanczos), trace (Hutchinson) and mean
    JSV on the probe set, for the dense network, after L1 pruning at `pr`, after OrthP, and at the end of each
    finetuning arm (its last checkpoint)."""
    c = config
    data = cell_data(c, context)
    x, y = data["train"][0][:c["probe"]], data["train"][1][:c["probe"]]
    dense = load_dense(deps["pretrain"], context)
    pruned = prune_neurons(dense, study_spec(dense, c["pr"]))
    states = {"dense": dense, "pruned": pruned, "orthp": orthp(copy.deepcopy(pruned), gain_for(dense)),
              **arm_ends(deps, pruned)}
    out = {}
    for name, model in states.items():
        lens = curvature.summary(Hessian(model, x, y, training=False), c["lanczos_steps"], c["trace_probes"])
        out[name] = {**lens, "jsv_mean": float(to_numpy(jsv(model, x)).mean())}
    return {"curvature": out}


def arm_ends(deps, pruned):
    """{"<arm> end": the last checkpoint of each finetuning arm among `deps`}, loaded into copies of `pruned`."""
    states = {}
    for arm, dep in deps.items():
        if arm != "pretrain":
            model = copy.deepcopy(pruned)
            load_checkpoint(os.path.join(dep["folder"], "checkpoint.npz"), model,
                            remedy=f"delete the finished cell {dep['folder']} (it is computed again), then run again")
            states[f"{arm} end"] = model
    return states


@grid.returns(products=grid.DICT)
def products_cell(config, folder, deps, context):
    """CNNs: the partial products from the input to each cut point (`minidi.measure.partialproducts`: top singular
    value by Lanczos, mean s² by Hutchinson) on the first `samples` probe images, for the dense network, after L1
    pruning at `pr`, after OrthP, and at the end of the plain L1 arms."""
    c = config
    x = cell_data(c, context)["train"][0][:c["samples"]]
    dense = load_dense(deps["pretrain"], context)
    pruned = prune_neurons(dense, study_spec(dense, c["pr"]))
    states = {"dense": dense, "pruned": pruned, "orthp": orthp(copy.deepcopy(pruned), gain_for(dense)),
              **arm_ends(deps, pruned)}
    return {"products": {name: partialproducts.partial_products(model, x, c["steps"], c["probes"])
                         for name, model in states.items()}}


compat.keep_kinds(sweep_cell, finetune_cell, layers_cell, curvature_cell)       # the names old result folders were stored under
