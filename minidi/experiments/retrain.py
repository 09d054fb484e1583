"""The retraining study (Le & Hua, ICLR 2021): after pruning, is it the schedule's large learning rate that
makes learning-rate rewinding beat fine-tuning? Specification: ../shared/research/retraining.md.

The grid (`minidi.grid`), per replicate s = 0 .. seeds−1:
    dense    the dense model, E epochs (SGD momentum 0.9, wd 1e-4, LR 0.1 ×0.1 at E/2 and 3E/4), seed s; it keeps
             model.npz and the weights of every epoch E − T that a requested budget T needs for WR
             (rewind-<k>.npz), and no other epoch (shared: in the cache);
    retrain  one arm (L1 or random structured; magnitude or random unstructured) × schedule (ft, lrw, wr, slr,
             clr) × budget T: prune the final dense weights once, (WR: reset the surviving weights to their values
             at epoch E − T), retrain T epochs; test accuracy and JSV statistics right after pruning and every epoch.
`retrain_report.write_outputs` turns the results into the CSV, report.md (claims computed) and the figures.

Seeds: s sets the dense init and data order, the random arm's choice and the retraining data order.
"""
import os
import time

from .. import grid, models, optim, prune
from ..checkpoint import load_npz, save_weights
from ..data import CropFlip
from ..errors import MinidiError, check_number
from ..prune.at_init import keep_top
from ..prune.unstructured import prunable
from ..schedules import RETRAINING, dense_step, retraining_schedule, EpochTable
from ..spectrum import JSVMonitor, jsv, jsv_stats
from ..train import evaluate, fit, summarize
from .common import echo, model_and_dataset, run_study
from .common import study_data as _data

MODELS = {"lenet300-100": "mnist", "lenet5-relu": "mnist", "resnet20": "cifar", "resnet56": "cifar", "vgg16": "cifar"}
DATASETS = {"mnist": ("mnist", "synthetic"), "cifar": ("cifar10", "cifar100", "synthetic")}
DEFAULT_EPOCHS = {"mnist": 40, "cifar": 160}           # MNIST: reduced from the paper's CIFAR E = 160 (CPU)
ARMS = {"structured": ("l1", "random"), "unstructured": ("magnitude", "random")}
RECIPE = dict(batch_size=128, momentum=0.9, weight_decay=1e-4, eta_max=0.1, eta_min=0.001)


def study_config(model_name="lenet300-100", dataset=None, epochs=None, budgets=None, structure="structured",
                 ratio=0.9, schedules=RETRAINING, seeds=1, probe=None, synthetic_samples=2400):
    """The study's resolved configuration, every value checked (a MinidiError names a bad one)."""
    family, dataset = model_and_dataset("retrain", model_name, dataset, MODELS, DATASETS)
    if structure not in ARMS:
        raise MinidiError(f"--structure must be structured or unstructured, got {structure!r}")
    E = check_number(epochs or DEFAULT_EPOCHS[family], "epochs", low=4, integer=True)
    budgets = sorted({max(1, E // 4), max(1, E // 2), E} if budgets is None else
                     [check_number(b, "budget", low=1, integer=True) for b in budgets])
    if budgets[-1] > E:
        raise MinidiError(f"budget {budgets[-1]} is longer than the dense run ({E} epochs): T must be at most E")
    for kind in schedules:
        if kind not in RETRAINING:
            raise MinidiError(f"unknown retraining schedule {kind!r}: choose from {', '.join(RETRAINING)}")
    if "ft" not in schedules:
        raise MinidiError("give schedules that include ft, the baseline every claim compares with")
    return dict(study="retrain", model=model_name, dataset=dataset, epochs=E, budgets=budgets, structure=structure,
                ratio=check_number(ratio, "ratio", low=0, high=1, low_open=True, high_open=True),
                schedules=list(dict.fromkeys(schedules)), arms=list(ARMS[structure]),
                seeds=check_number(seeds, "seeds", low=1, integer=True),
                probe=check_number(probe or (1000 if family == "mnist" else 200), "probe", low=1, integer=True),
                augment=family == "cifar", synthetic_samples=synthetic_samples if dataset == "synthetic" else None,
                **RECIPE)


BASE_KEYS = ("model", "dataset", "epochs", "batch_size", "momentum", "weight_decay", "eta_max", "augment",
             "synthetic_samples", "probe")


def cells(config):
    """{"dense": [cell per seed], "retrain": {(arm, schedule, budget, s): cell}}."""
    c = config
    base = {k: c[k] for k in BASE_KEYS}
    out = {"dense": [], "retrain": {}}
    rewind = sorted({c["epochs"] - T for T in c["budgets"]}) if "wr" in c["schedules"] else []
    for s in range(c["seeds"]):
        dense = grid.Cell("minidi.experiments.retrain:dense_cell", dict(base, seed=s, rewind=rewind), shared=True,
                          label=f"dense {c['model']} E{c['epochs']} s{s}", work=c["epochs"])
        out["dense"].append(dense)
        for arm in c["arms"]:
            for kind in c["schedules"]:
                for T in c["budgets"]:
                    out["retrain"][(arm, kind, T, s)] = grid.Cell(
                        "minidi.experiments.retrain:retrain_cell",
                        dict(base, seed=s, arm=arm, schedule=kind, budget=T, structure=c["structure"],
                             ratio=c["ratio"], eta_min=c["eta_min"]),
                        deps={"dense": dense}, label=f"retrain {arm} {kind} T{T} s{s}", work=T)
    return out


def run(out_dir="results/retrain", device=None, data_dir=None, resume=False, quiet=False, cache=None, workers=None,
        scheduler=None, worker_threads=1, rerun=False, **study):
    """Run the study into `out_dir`; `study`: the arguments of `study_config`. Returns the report's summary."""
    from .retrain_report import write_outputs

    def make_cells(config):
        groups = cells(config)
        return groups, groups["dense"] + list(groups["retrain"].values())
    summary, t0 = run_study(out_dir, study_config(**study), make_cells, write_outputs, device, data_dir, resume, quiet,
                            cache, workers, scheduler, worker_threads, rerun)
    echo(quiet)(f"done in {time.perf_counter() - t0:.1f} s: {out_dir}")
    return summary


# --- pruning and the cells ---------------------------------------------------------------------------------
def prune_spec(model):
    """Every weight layer but the output one; on ResNets only the first conv of each residual block."""
    n = len(model.pruning_plan())
    return "layer*.conv1:{r}" if type(model).__name__ == "ResNet" else "0-%d:{r},%d:0" % (n - 2, n - 1)


def pruned_start(final, start, structure, arm, ratio, seed):
    """The network retraining starts from: units or weights chosen on the *final* dense weights (L1 / magnitude,
    or random with the same counts), taken from `start` (the final weights, or for WR the rewound ones)."""
    if structure == "structured":
        spec = prune_spec(final).format(r=ratio)
        keep = prune.l1_keep(final, spec) if arm == "l1" else prune.random_keep(final, spec, seed)
        return prune.remove_units(start, keep)
    from ..backend import rng as backend_rng
    gen = backend_rng([seed, 7])
    weights = prunable(final)
    priority = {k: abs(p.data) for k, p in weights.items()} if arm == "magnitude" else \
        {k: gen.random(p.shape) for k, p in weights.items()}
    masks = keep_top(priority, 1 - ratio, "global")
    return prune.apply_masks(start, masks)


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


def _build(c, context):
    from ..backend import to_device
    return to_device(models.build(c["model"], seed=c["seed"]), context.get("device", "cpu"))


def dense_cell(config, folder, deps, context):
    c = config
    data = _data(c, context)
    model = _build(c, context)
    E = c["epochs"]
    schedule = EpochTable({e: dense_step(e, E, c["eta_max"]) for e in sorted({0, round(E / 2), round(3 * E / 4)})})
    opt = optim.SGD(model.parameters(), lr=schedule(0), momentum=c["momentum"], weight_decay=c["weight_decay"])
    monitor = JSVMonitor(data["train"][0][:c["probe"]], at_start=False)
    history = fit(model, opt, schedule, data, E, c["batch_size"], seed=c["seed"], out_dir=folder, resume=True,
                  quiet=True, callbacks=[SaveAt(folder, c["rewind"]), monitor],
                  augment=CropFlip() if c["augment"] else None)
    save_weights(os.path.join(folder, "model.npz"), model)
    return {"history": history, "final_test_acc": history[-1]["test_acc"], **summarize(history)}


def retrain_cell(config, folder, deps, context):
    c = config
    data = _data(c, context)
    final = _build(c, context)
    final.load_state_dict(load_npz(os.path.join(deps["dense"]["folder"], "model.npz")))
    start = final
    if c["schedule"] == "wr":
        start = _build(c, context)
        start.load_state_dict(load_npz(os.path.join(deps["dense"]["folder"], f"rewind-{c['epochs'] - c['budget']}.npz")))
    model = pruned_start(final, start, c["structure"], c["arm"], c["ratio"], c["seed"])
    x_probe = data["train"][0][:c["probe"]]
    epoch0 = {"test_acc": evaluate(model, *data["test"])[1], "jsv": jsv_stats(jsv(model, x_probe))}
    schedule = retraining_schedule(c["schedule"], c["epochs"], c["budget"], c["eta_max"], c["eta_min"])
    opt = optim.SGD(model.parameters(), lr=schedule(0), momentum=c["momentum"], weight_decay=c["weight_decay"])
    history = fit(model, opt, schedule, data, c["budget"], c["batch_size"], seed=c["seed"] + 1000, out_dir=folder,
                  resume=True, quiet=True, callbacks=[JSVMonitor(x_probe, at_start=False)],
                  augment=CropFlip() if c["augment"] else None)
    return {"arm": c["arm"], "schedule": c["schedule"], "budget": c["budget"], "seed": c["seed"], "epoch0": epoch0,
            "history": history, "final_test_acc": history[-1]["test_acc"], **summarize(history)}
