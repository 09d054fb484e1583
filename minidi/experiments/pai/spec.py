"""The pruning-at-initialization study's specification: the recipes, defaults, validation, the grid of cells."""
import itertools

from ...lab import grid
from ...errors import MinidiError, check_choices, check_number
from ...limits import MAX_EPOCHS, MAX_ROUNDS, MAX_SEEDS
from ...prune import check_scope, check_sparsity
from ...prune.scores import METHODS
from ...schedules import parse_schedule
from ..dense import RECIPE_KEYS, RECIPES, recipe_cell
from ..studydata import check_curvature, model_and_dataset
from .. import compat
from . import cells as kinds
from .cells import CONTROL, CONTROL_VARIANTS, VARIANTS

SPARSITIES = (0.75, 0.9, 0.968)
COLLAPSE_SWEEP = (0.5, 0.75, 0.9, 0.95, 0.968, 0.98, 0.99, 0.995, 0.998, 0.999)
MODELS = {"lenet300-100": "mnist", "conv4": "cifar", "resnet20": "cifar", "vgg16": "cifar"}
DATASETS = {"mnist": ("mnist", "synthetic"), "cifar": ("cifar10", "cifar100", "synthetic")}


def configure(model_name="lenet300-100", dataset=None, epochs=None, seeds=1, sparsities=SPARSITIES,
                 methods=METHODS, variants=VARIANTS, scope="global", rounds=100, probe=None, control=True,
                 synthetic_samples=2400, curvature=20):
    """The study's resolved configuration, every value checked (a MinidiError names a bad one)."""
    family, dataset = model_and_dataset("pai", model_name, dataset, MODELS, DATASETS)
    check_choices(methods, METHODS, "pruning method")
    check_choices(variants, VARIANTS, "variant")
    if not methods or not variants or "original" not in variants:
        raise MinidiError("give at least one method, and variants that include 'original'")
    check_scope(scope, "--scope")
    sparsities = sorted(check_sparsity(s) for s in sparsities)
    if not sparsities or len(set(sparsities)) < len(sparsities):
        raise MinidiError("give each sparsity once, at least one")
    recipe = dict(RECIPES[family])
    recipe["epochs"] = check_number(epochs or recipe["epochs"], "epochs", low=1, high=MAX_EPOCHS, integer=True)
    parse_schedule(recipe["lr"], recipe["epochs"])                      # a schedule that fits the run length
    return dict(study="pai", model=model_name, dataset=dataset, **recipe,
                seeds=check_number(seeds, "seeds", low=1, high=MAX_SEEDS, integer=True), sparsities=sparsities,
                methods=list(dict.fromkeys(methods)), variants=list(dict.fromkeys(variants)), scope=scope,
                rounds=check_number(rounds, "rounds", low=1, high=MAX_ROUNDS, integer=True),
                probe=check_number(probe or (1000 if family == "mnist" else 200), "probe", low=1, integer=True),
                control=bool(control), synthetic_samples=synthetic_samples if dataset == "synthetic" else None,
                curvature=check_curvature(curvature, model_name))


MASK_DEFAULTS = dict(scope="global", rounds=100, invert=False)


def grid_of(config):
    """({"dense": [cell per seed], "collapse": {(method, s)}, "mask": {(method, sparsity, invert, s)},
    "train": {(method, sparsity, variant, s)}, "curvature": {(method, sparsity, s)}, with ("dense", 0.0, s) for the
    unpruned init}, every cell): the grid of one configuration."""
    c = config
    recipe = {k: c[k] for k in RECIPE_KEYS}
    out = {"dense": [], "collapse": {}, "mask": {}, "train": {}}
    methods = c["methods"] + ([CONTROL] if c["control"] else [])
    for s in range(c["seeds"]):
        dense = grid.Cell(recipe_cell, dict(recipe, seed=s, probe=c["probe"]), shared=True,
                          label=f"dense {c['model']} s{s}", work=c["epochs"])
        out["dense"].append(dense)
        for m in c["methods"]:
            out["collapse"][(m, s)] = grid.Cell(
                kinds.collapse_cell, dict(model=c["model"], dataset=c["dataset"], method=m,
                                                             seed=s, scope=c["scope"], rounds=c["rounds"],
                                                             sparsities=list(COLLAPSE_SWEEP),
                                                             synthetic_samples=c["synthetic_samples"], **compat.cell_extras(m)),
                defaults=MASK_DEFAULTS, label=f"collapse {m} s{s}")
        for m, sp in itertools.product(methods, c["sparsities"]):
            variants = CONTROL_VARIANTS if m == CONTROL else c["variants"]
            for invert in sorted({v == "invert" for v in variants}):
                mask = grid.Cell(kinds.mask_cell,
                                 dict(model=c["model"], dataset=c["dataset"], method=m, sparsity=sp, seed=s,
                                      scope=c["scope"], rounds=c["rounds"], invert=invert,
                                      synthetic_samples=c["synthetic_samples"], **compat.cell_extras(m)),
                                 deps={"dense": dense} if m == CONTROL else {}, defaults=MASK_DEFAULTS,
                                 label=f"mask {m} {sp:g}{' inv' if invert else ''} s{s}")
                out["mask"][(m, sp, invert, s)] = mask
            for v in variants:
                out["train"][(m, sp, v, s)] = grid.Cell(
                    kinds.train_cell, dict(recipe, method=m, sparsity=sp, variant=v, seed=s,
                                                              probe=c["probe"]),
                    deps={"mask": out["mask"][(m, sp, v == "invert", s)]},
                    label=f"train {m} {sp:g} {v} s{s}", work=c["epochs"])
    out["curvature"] = {}
    for s in range(c["seeds"]) if c["curvature"] else ():
        lens = dict(model=c["model"], dataset=c["dataset"], seed=s, synthetic_samples=c["synthetic_samples"],
                    lanczos_steps=c["curvature"], trace_probes=c["curvature"])
        out["curvature"][("dense", 0.0, s)] = grid.Cell(kinds.curvature_cell, dict(lens, method="dense", sparsity=0.0),
                                                        label=f"curvature dense init s{s}")
        for (m, sp, invert, seed), mask in out["mask"].items():
            if seed == s and not invert and m != CONTROL:
                out["curvature"][(m, sp, s)] = grid.Cell(kinds.curvature_cell, dict(lens, method=m, sparsity=sp),
                                                         deps={"mask": mask}, label=f"curvature {m} {sp:g} s{s}")
    return out, (out["dense"] + list(out["collapse"].values()) + list(out["mask"].values()) + list(out["train"].values())
                 + list(out["curvature"].values()))


def point_name(config):
    return f"{config['model']}-e{config['epochs']}-{config['scope']}-r{config['rounds']}"
