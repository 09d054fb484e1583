"""The core study's specification: defaults, validation, and the grid of cells (see the package docstring)."""
from ...lab import grid
from ...measure import convspectra, layerspectra
from ...errors import check_number
from ...limits import MAX_EPOCHS, MAX_SEEDS
from ...prune import parse_ratios, prune_neurons
from ..dense import pretrain
from ..studydata import check_curvature, model_and_dataset
from . import cells as kinds
from .arms import AI, ALL_ARMS, SCRATCH_SEED, flops, parse_arms, scratch_b_epochs, split, tpp_phase_epochs, tpp_step
from .protocol import BATCH, DATASETS, MODELS, RECIPES, build_preset, pretrain_epochs, steps_per_epoch, study_spec


DEFAULT_PR = {"mlp7-linear": 0.8}  # every other network (ReLU): 0.9
DEFAULT_PRS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9)
CIFAR_PRS = (0.0, 0.3, 0.5, 0.7, 0.9, 0.95)          # the authors' table's ratios
ARMS = ALL_ARMS                    # the default: every arm (arms.py says what each is)
LONG_EPOCHS = 900
SCRATCH_B_CAP = 2.0                # Liu et al.: at most twice the epochs when the budget asks for more
PRODUCTS = dict(steps=10, probes=4, samples=256)      # partial products: Lanczos steps, Hutchinson probes, at most
                                                     # this many probe images (each sample is its own Lanczos run)
DATA_DEFAULTS = dict(dataset="mnist", train_samples=None, test_samples=None, synthetic_samples=None)
FINETUNE_DEFAULTS = dict(batch_size=100, momentum=0.9, weight_decay=1e-4, augment=False, recipe="mnist", **DATA_DEFAULTS)


def configure(model_name="mlp7-linear", epochs=None, long=False, seeds=1, pr=None, prs=None, probe=1000,
              sweep_only=False, finetune_seeds=1, curvature=20, arms="all", scratch_b_cap=SCRATCH_B_CAP,
              tpp_epochs=None, dataset=None, pretrain_epochs=None, train_samples=None, test_samples=None,
              synthetic_samples=2400):
    """The study's resolved configuration, every value checked (a MinidiError names a bad one). epochs: the
    finetuning epochs (default the recipe's: 90 MNIST, 120 CIFAR); pretrain_epochs: None for the recipe's rule
    (`protocol.pretrain_epochs`)."""
    recipe, dataset = model_and_dataset("isometry", model_name, dataset, MODELS, DATASETS)
    r = RECIPES[recipe]
    pr = DEFAULT_PR.get(model_name, 0.9) if pr is None else check_number(pr, "pr", low=0, high=1, high_open=True)
    prs = (CIFAR_PRS if recipe == "cifar" else DEFAULT_PRS) if prs is None else prs
    prs = parse_ratios(prs if isinstance(prs, str) else ",".join(map(str, prs)), "prs")
    epochs = check_number(r["epochs"] if epochs is None else epochs, "epochs", low=1, high=MAX_EPOCHS, integer=True)
    finetune_epochs = 0 if sweep_only else (LONG_EPOCHS if long else epochs)
    subset = {k: None if v is None else check_number(v, k, low=1, integer=True)
              for k, v in (("train_samples", train_samples), ("test_samples", test_samples))}
    return dict(study="isometry", model=model_name, epochs=epochs, finetune_epochs=finetune_epochs,
                seeds=check_number(seeds, "seeds", low=1, high=MAX_SEEDS, integer=True),
                finetune_seeds=check_number(finetune_seeds, "finetune_seeds", low=1, high=MAX_SEEDS, integer=True),
                pr=pr, prs=prs, probe=check_number(probe, "probe", low=1, integer=True),
                batch_size=BATCH.get(model_name, r["batch_size"]), momentum=0.9, weight_decay=r["weight_decay"],
                curvature=check_curvature(curvature, model_name), arms=list(parse_arms(arms)),
                scratch_b_cap=check_number(scratch_b_cap, "scratch_b_cap", low=1, high=MAX_EPOCHS),
                tpp_epochs=None if tpp_epochs is None else     # None: the default rule, `arms.tpp_phase_epochs`
                check_number(tpp_epochs, "tpp_epochs", low=1, high=MAX_EPOCHS, integer=True),
                dataset=dataset, recipe=recipe, augment=r["augment"],
                pretrain_epochs=None if pretrain_epochs is None else      # None: the recipe's rule
                check_number(pretrain_epochs, "pretrain_epochs", low=1, high=MAX_EPOCHS, integer=True),
                synthetic_samples=check_number(synthetic_samples, "synthetic_samples", low=1, integer=True)
                if dataset == "synthetic" else None, **subset)


def point_name(config):
    data = "" if config.get("dataset", "mnist") in ("mnist", DATASETS["cifar"][0]) else f"-{config['dataset']}"
    return f"{config['model']}{data}-pr{config['pr']:g}-e{config['epochs']}"


def data_keys(c):
    """What every cell of the study reads its data by: the dataset and the subset (or the synthetic draw)."""
    return {k: c.get(k, DATA_DEFAULTS[k]) for k in DATA_DEFAULTS}


def pretraining_epochs(c):
    """--pretrain-epochs, else the recipe's rule for the finetuning length (`protocol.pretrain_epochs`)."""
    return c.get("pretrain_epochs") or pretrain_epochs(c.get("recipe", "mnist"), c["epochs"])


def dense_cell(c, s):
    """The pretraining of replicate s with the configuration's recipe (shared through the cache)."""
    r = RECIPES[c.get("recipe", "mnist")]
    data = data_keys(c)
    return pretrain(c["model"], pretraining_epochs(c), s, data.pop("dataset"), r["pretrain_table"], r["pretrain_base"],
                    c["batch_size"], c["weight_decay"], c.get("augment", False), **data)


def arm_config(c, arm, s, f, steps_per_epoch, scratch_b):
    """The configuration of one finetuning cell: the four original arms keep their old keys (so their old
    folders are found); the new routes add theirs."""
    lr, route = split(arm)
    out = dict(model=c["model"], arm=arm, pr=c["pr"], epochs=c["finetune_epochs"], seed=s + 1000 * f,
               probe=c["probe"], batch_size=c["batch_size"], momentum=0.9, weight_decay=c["weight_decay"],
               augment=c.get("augment", False), recipe=c.get("recipe", "mnist"), **data_keys(c))
    if route == "ai":
        out.update(AI)
    elif route == "tpp":
        phase = c.get("tpp_epochs") or tpp_phase_epochs(c["finetune_epochs"])
        out.update(tpp_epochs=phase, tpp_lr=float(lr[2:]), tpp_step=tpp_step(phase, steps_per_epoch))
    elif route.startswith("scratch"):
        out.update(scratch_seed=SCRATCH_SEED + s + 1000 * f)
        if route == "scratch-b":
            out.update(epochs=scratch_b, pretrain_epochs=c["epochs"])
    return out


def layers_measured(model):
    """Per-layer spectra are measured for MLPs (`minidi.measure.layerspectra`) and CNNs (`.convspectra`), as they ask
    the model."""
    return layerspectra.supports(model) or convspectra.supports(model)


def products_measured(model):
    """Partial products by Lanczos are measured for CNNs (models that name their cut points)."""
    return callable(getattr(model, "cut_points", None))


def scratch_b_of(c, dense):
    """Scratch-B's epochs for this configuration (the FLOPs of the dense preset and of its pruned widths)."""
    pruned = prune_neurons(dense, study_spec(dense, c["pr"]))
    return scratch_b_epochs(flops(dense), flops(pruned), pretraining_epochs(c), c["finetune_epochs"], c["scratch_b_cap"])


def grid_of(config):
    """({"pretrain": [cell per seed], "sweep": [...], "finetune": {(arm, s, f): cell}, "curvature": [cell per
    seed], "layers": [cell per seed], "products": [cell per seed, CNNs]}, every cell)."""
    c = config
    out = {"pretrain": [], "sweep": [], "finetune": {}, "curvature": [], "layers": [], "products": []}
    arms_run = c["arms"] if c["finetune_epochs"] else ()
    preset = build_preset(c)                      # asked once: what the grid measures and Scratch-B's budget
    scratch_b = scratch_b_of(c, preset) if any(a.endswith("scratch-b") for a in arms_run) else None
    layers, products = layers_measured(preset), products_measured(preset)
    steps = steps_per_epoch(c)                    # TPP's λ schedule is scaled to the iterations
    data = data_keys(c)
    for s in range(c["seeds"]):
        pre = dense_cell(c, s)
        out["pretrain"].append(pre)
        out["sweep"].append(grid.Cell(kinds.sweep_cell, dict(model=c["model"], prs=c["prs"], pr=c["pr"], probe=c["probe"],
                                                             **data), deps={"pretrain": pre}, defaults=DATA_DEFAULTS,
                                      label=f"sweep {c['model']} s{s}"))
        if arms_run and layers:
            out["layers"].append(grid.Cell(kinds.layers_cell, dict(model=c["model"], pr=c["pr"], probe=c["probe"], **data),
                                           deps={"pretrain": pre}, defaults=DATA_DEFAULTS,
                                           label=f"layers {c['model']} s{s}"))
        for arm in arms_run:
            for f in range(c["finetune_seeds"]):
                config_ft = arm_config(c, arm, s, f, steps, scratch_b)
                out["finetune"][(arm, s, f)] = grid.Cell(
                    kinds.finetune_cell, config_ft, deps={"pretrain": pre}, defaults=FINETUNE_DEFAULTS,
                    label=f"finetune {c['model']} {arm} s{s}" + (f" f{f}" if f else ""),
                    work=config_ft["epochs"] + config_ft.get("tpp_epochs", 0) * 3)
        arms = {arm: out["finetune"][(arm, s, 0)] for arm in arms_run if (arm, s, 0) in out["finetune"]}
        if arms_run and products:
            out["products"].append(grid.Cell(
                kinds.products_cell, dict(model=c["model"], pr=c["pr"], steps=PRODUCTS["steps"], probes=PRODUCTS["probes"],
                                          samples=min(c["probe"], PRODUCTS["samples"]), **data),
                deps={"pretrain": pre, **{a: arms[a] for a in ("lr0.01", "lr0.001") if a in arms}},
                defaults=DATA_DEFAULTS, label=f"products {c['model']} s{s}"))
        if c["curvature"]:                               # the lens: Lanczos steps = Hutchinson probes = curvature
            out["curvature"].append(grid.Cell(
                kinds.curvature_cell, dict(model=c["model"], pr=c["pr"], probe=c["probe"], lanczos_steps=c["curvature"],
                                           trace_probes=c["curvature"], **data),
                deps={"pretrain": pre, **arms}, defaults=DATA_DEFAULTS, label=f"curvature {c['model']} s{s}"))
    every = (out["pretrain"] + out["sweep"] + out["layers"] + list(out["finetune"].values()) + out["curvature"]
             + out["products"])
    return out, every
