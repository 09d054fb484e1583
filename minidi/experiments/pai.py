"""The pruning-at-initialization study (Frankle et al. 2021; Singh & Liu 2021): SNIP, GraSP, SynFlow,
magnitude and random masks at init, and whether shuffling the mask inside each layer, re-drawing the kept
weights or inverting the scores hurts them. Specification: ../shared/research/pruning_at_init.md.

The study is a grid of cells (`minidi.grid`), per replicate s = 0 .. seeds−1:
    dense      the dense model trained with the recipe from init seed s (shared, in the cache): the dense
               reference and the trained weights of the lottery-ticket control;
    mask       one method at one sparsity (and invert or not): scores at init (SNIP/GraSP on 10 training
               examples per class drawn by s), the masks (masks.npz), layer collapse, statistics at init;
               method "lth" is the control: global magnitude of the *trained* dense weights;
    collapse   per method, the per-layer density and collapse over a fine sparsity sweep (cheap: no training);
    train      one (method, sparsity, variant): the init weights of seed s, the mask, the variant (original,
               shuffle, reinit, invert), then training with the recipe; the JSV statistics at init and after
               every epoch, layer statistics at init and after training, the trained weights (model.npz).
`pai_report.write_outputs` turns the results into the CSV, report.md (claims computed from the run), figures.

Seeds: s sets the init, the data order, the SNIP/GraSP batch, the random scores and the shuffle; reinit draws
from the builder with seed 10000 + s (a fresh draw of the same distribution).
"""
import itertools
import os
import time

from .. import grid, models, optim, prune
from ..checkpoint import load_npz, read_json, save_npz, save_weights
from ..data import CropFlip
from ..errors import MinidiError, check_number
from ..prune.at_init import apply_scores, collapse_report
from ..prune.scores import METHODS, per_class_batch
from ..schedules import parse_schedule
from ..spectrum import JSVMonitor
from ..train import fit, summarize
from .common import echo, model_and_dataset, run_study, study_data

VARIANTS = ("original", "shuffle", "reinit", "invert")
CONTROL = "lth"                                       # magnitude after training, rewound to init
CONTROL_VARIANTS = ("original", "shuffle", "reinit")
SPARSITIES = (0.75, 0.9, 0.968)
COLLAPSE_SWEEP = (0.5, 0.75, 0.9, 0.95, 0.968, 0.98, 0.99, 0.995, 0.998, 0.999)
REINIT_OFFSET = 10000
# The note's recipes. MNIST: SGD lr 0.1, batch 128, 16 epochs, no weight decay (no momentum: the note names
# none). CIFAR: momentum 0.9, lr 0.1 × 0.1 at 1/2 and 3/4 of the run (80 and 120 of 160), wd 1e-4, crop + flip.
RECIPES = {"mnist": dict(epochs=16, lr="0.1", momentum=0.0, weight_decay=0.0, batch_size=128, augment=False),
           "cifar": dict(epochs=160, lr="multistep:lr=0.1,at=0.5/0.75", momentum=0.9, weight_decay=1e-4,
                         batch_size=128, augment=True)}
MODELS = {"lenet300-100": "mnist", "conv4": "cifar", "resnet20": "cifar", "vgg16": "cifar"}
DATASETS = {"mnist": ("mnist", "synthetic"), "cifar": ("cifar10", "cifar100", "synthetic")}


def study_config(model_name="lenet300-100", dataset=None, epochs=None, seeds=1, sparsities=SPARSITIES,
                 methods=METHODS, variants=VARIANTS, scope="global", rounds=100, probe=None, control=True,
                 synthetic_samples=2400):
    """The study's resolved configuration, every value checked (a MinidiError names a bad one)."""
    family, dataset = model_and_dataset("pai", model_name, dataset, MODELS, DATASETS)
    for m in methods:
        if m not in METHODS:
            raise MinidiError(f"unknown pruning method {m!r}: choose from {', '.join(METHODS)}")
    for v in variants:
        if v not in VARIANTS:
            raise MinidiError(f"unknown variant {v!r}: choose from {', '.join(VARIANTS)}")
    if not methods or not variants or "original" not in variants:
        raise MinidiError("give at least one method, and variants that include 'original'")
    if scope not in ("global", "local"):
        raise MinidiError(f"--scope must be global or local, got {scope!r}")
    sparsities = sorted(check_number(s, "sparsity", low=0, high=1, high_open=True) for s in sparsities)
    if not sparsities or len(set(sparsities)) < len(sparsities):
        raise MinidiError("give each sparsity once, at least one")
    recipe = dict(RECIPES[family])
    recipe["epochs"] = check_number(epochs or recipe["epochs"], "epochs", low=1, integer=True)
    parse_schedule(recipe["lr"], recipe["epochs"])                      # a schedule that fits the run length
    return dict(study="pai", model=model_name, dataset=dataset, **recipe,
                seeds=check_number(seeds, "seeds", low=1, integer=True), sparsities=sparsities,
                methods=list(dict.fromkeys(methods)), variants=list(dict.fromkeys(variants)), scope=scope,
                rounds=check_number(rounds, "rounds", low=1, integer=True),
                probe=check_number(probe or (1000 if family == "mnist" else 200), "probe", low=1, integer=True),
                control=bool(control), synthetic_samples=synthetic_samples if dataset == "synthetic" else None)


TRAIN_KEYS = ("model", "dataset", "epochs", "lr", "momentum", "weight_decay", "batch_size", "augment",
              "synthetic_samples")
MASK_DEFAULTS = dict(scope="global", rounds=100, invert=False)


def cells(config):
    """{"dense": [cell per seed], "collapse": {(method, s)}, "mask": {(method, sparsity, invert, s)},
    "train": {(method, sparsity, variant, s)}}: the grid of one configuration."""
    c = config
    recipe = {k: c[k] for k in TRAIN_KEYS}
    out = {"dense": [], "collapse": {}, "mask": {}, "train": {}}
    methods = c["methods"] + ([CONTROL] if c["control"] else [])
    for s in range(c["seeds"]):
        dense = grid.Cell("minidi.experiments.pai:dense_cell", dict(recipe, seed=s, probe=c["probe"]), shared=True,
                          label=f"dense {c['model']} s{s}", work=c["epochs"])
        out["dense"].append(dense)
        for m in c["methods"]:
            out["collapse"][(m, s)] = grid.Cell(
                "minidi.experiments.pai:collapse_cell", dict(model=c["model"], dataset=c["dataset"], method=m,
                                                             seed=s, scope=c["scope"], rounds=c["rounds"],
                                                             sparsities=list(COLLAPSE_SWEEP),
                                                             synthetic_samples=c["synthetic_samples"]),
                defaults=MASK_DEFAULTS, label=f"collapse {m} s{s}")
        for m, sp in itertools.product(methods, c["sparsities"]):
            variants = CONTROL_VARIANTS if m == CONTROL else c["variants"]
            for invert in sorted({v == "invert" for v in variants}):
                mask = grid.Cell("minidi.experiments.pai:mask_cell",
                                 dict(model=c["model"], dataset=c["dataset"], method=m, sparsity=sp, seed=s,
                                      scope=c["scope"], rounds=c["rounds"], invert=invert,
                                      synthetic_samples=c["synthetic_samples"]),
                                 deps={"dense": dense} if m == CONTROL else {}, defaults=MASK_DEFAULTS,
                                 label=f"mask {m} {sp:g}{' inv' if invert else ''} s{s}")
                out["mask"][(m, sp, invert, s)] = mask
            for v in variants:
                out["train"][(m, sp, v, s)] = grid.Cell(
                    "minidi.experiments.pai:train_cell", dict(recipe, method=m, sparsity=sp, variant=v, seed=s,
                                                              probe=c["probe"]),
                    deps={"mask": out["mask"][(m, sp, v == "invert", s)]},
                    label=f"train {m} {sp:g} {v} s{s}", work=c["epochs"])
    return out


def all_cells(groups):
    return groups["dense"] + list(groups["collapse"].values()) + list(groups["mask"].values()) + \
        list(groups["train"].values())


def run(out_dir="results/pai", device=None, data_dir=None, resume=False, quiet=False, cache=None, workers=None,
        scheduler=None, worker_threads=1, rerun=False, **study):
    """Run the study into `out_dir`; `study`: the arguments of `study_config`. Returns the report's summary."""
    from .pai_report import write_outputs
    groups_and_cells = lambda config: (lambda g: (g, all_cells(g)))(cells(config))  # noqa: E731
    summary, t0 = run_study(out_dir, study_config(**study), groups_and_cells, write_outputs, device, data_dir, resume,
                            quiet, cache, workers, scheduler, worker_threads, rerun)
    for warning in summary["collapse_warnings"]:
        echo(quiet)(f"Warning: {warning}")
    echo(quiet)(f"done in {time.perf_counter() - t0:.1f} s: {out_dir}")
    return summary


# --- the cells -----------------------------------------------------------------------------------------
_data = study_data


def _init(c, seed, context):
    from ..backend import to_device
    return to_device(models.build(c["model"], seed=seed), context.get("device", "cpu"))


def _train(model, c, data, folder, monitor):
    schedule = parse_schedule(c["lr"], c["epochs"])
    opt = optim.SGD(model.parameters(), lr=schedule(0), momentum=c["momentum"], weight_decay=c["weight_decay"])
    return fit(model, opt, schedule, data, c["epochs"], c["batch_size"], seed=c["seed"], out_dir=folder,
               resume=True, quiet=True, callbacks=[monitor], augment=CropFlip() if c["augment"] else None)


def _jsv_start(monitor, folder):
    """The JSV at init, kept on disk so that a resumed cell still reports it."""
    from ..checkpoint import write_json
    path = os.path.join(folder, "jsv_init.json")
    if monitor.initial is not None:
        write_json(path, monitor.initial)
    return read_json(path) if os.path.isfile(path) else None


def dense_cell(config, folder, deps, context):
    """The dense model trained with the recipe from init seed s; model.npz holds the trained weights."""
    data = _data(config, context)
    model = _init(config, config["seed"], context)
    monitor = JSVMonitor(data["train"][0][:config["probe"]])
    history = _train(model, config, data, folder, monitor)
    save_weights(os.path.join(folder, "model.npz"), model)
    return {"jsv_init": _jsv_start(monitor, folder), "history": history, "final_test_acc": history[-1]["test_acc"],
            **summarize(history)}


def _scoring_batch(c, data):
    """SNIP's and GraSP's batch: 10 training examples per class drawn by the seed (None, None for the others)."""
    return per_class_batch(*data["train"], per_class=10, seed=c["seed"]) if c["method"] in ("snip", "grasp") else (None, None)


def _masks(c, model, data, deps, context):
    """Set the masks of (method, sparsity, invert) on `model`; returns the per-layer report."""
    x, y = _scoring_batch(c, data)
    if c["method"] == CONTROL:                          # magnitude of the trained weights, then rewound to init
        trained = _init(c, c["seed"], context)
        trained.load_state_dict(load_npz(os.path.join(deps["dense"]["folder"], "model.npz")))
        priority = {k: abs(p.data) for k, p in prune.unstructured.prunable(trained).items()}
        prune.apply_masks(model, prune.keep_top(priority, 1 - c["sparsity"], c["scope"]))
        return collapse_report(model)
    return prune.prune_at_init(model, c["method"], c["sparsity"], c["scope"], x, y, c["rounds"], c["invert"],
                               seed=c["seed"])


def mask_cell(config, folder, deps, context):
    """masks.npz of one method, sparsity and seed, with the collapse report and the layer statistics at init."""
    data = _data(config, context)
    model = _init(config, config["seed"], context)
    t0 = time.perf_counter()
    report = _masks(config, model, data, deps, context)
    seconds = time.perf_counter() - t0
    save_npz(os.path.join(folder, "masks.npz"), model.masks())
    return {"layers": report, "collapsed": [r["name"] for r in report if r["collapsed"]],
            "stats_init": prune.layer_stats(model), "score_seconds": seconds}


def collapse_cell(config, folder, deps, context):
    """Per sparsity of a fine sweep: the per-layer densities and the collapsed layers of one method. One-shot
    methods are scored once and cut at every sparsity; SynFlow's rounds depend on the target, so it reruns."""
    c = config
    data = _data(c, context)
    once = None
    if c["method"] != "synflow":
        x, y = _scoring_batch(c, data)
        once = prune.scores(_init(c, c["seed"], context), c["method"], x, y, seed=c["seed"])
    rows = []
    for sp in c["sparsities"]:
        model = _init(c, c["seed"], context)
        if once is None:
            report = _masks(dict(c, sparsity=sp, invert=False), model, data, deps, context)
        else:
            apply_scores(model, c["method"], once, 1 - sp, c["scope"])
            report = collapse_report(model)
        rows.append({"sparsity": sp, "density": {r["name"]: r["density"] for r in report},
                     "collapsed": [r["name"] for r in report if r["collapsed"]]})
    first = next((r["sparsity"] for r in rows if r["collapsed"]), None)
    return {"sweep": rows, "first_collapse": first}


def train_cell(config, folder, deps, context):
    """Init (seed s), the mask, the variant, then training; JSV at init and every epoch; model.npz at the end."""
    c = config
    data = _data(c, context)
    model = _init(c, c["seed"], context)
    dense_init = {k: v.copy() for k, v in model.state_dict().items()}
    prune.apply_masks(model, load_npz(os.path.join(deps["mask"]["folder"], "masks.npz")))
    if c["variant"] == "shuffle":
        prune.shuffle_masks(model, c["seed"], init=dense_init)
    elif c["variant"] == "reinit":
        prune.reinit_kept(model, REINIT_OFFSET + c["seed"])
    at_init = {"layers": collapse_report(model), "stats": prune.layer_stats(model)}
    monitor = JSVMonitor(data["train"][0][:c["probe"]])
    history = _train(model, c, data, folder, monitor)
    save_weights(os.path.join(folder, "model.npz"), model)
    return {"method": c["method"], "sparsity": c["sparsity"], "variant": c["variant"], "seed": c["seed"],
            "init": at_init, "stats_trained": prune.layer_stats(model), "jsv_init": _jsv_start(monitor, folder),
            "history": history, "final_test_acc": history[-1]["test_acc"], **summarize(history)}
