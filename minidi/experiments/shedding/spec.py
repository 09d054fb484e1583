"""The weight-shedding study's specification: arms, routes, defaults, validation and the grid of cells."""
from ... import grid
from ...errors import MinidiError, check_number
from ..limits import MAX_EPOCHS, MAX_SEEDS, MAX_STEPS
from ..dense import RECIPE_KEYS, RECIPES, recipe_cell
from . import cells as kinds
from .cells import ARMS, ROUTES

MODELS = ("lenet300-100", "mlp7-relu", "lenet5-relu")
SPARSITIES = (0.8, 0.9, 0.95)


def configure(model_name="lenet300-100", dataset="mnist", fraction=0.2, epochs=10, sparsities=SPARSITIES,
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
                epochs=check_number(epochs, "epochs", low=1, high=MAX_EPOCHS, integer=True), sparsities=sparsities,
                steps=check_number(steps, "steps", low=1, high=MAX_STEPS, integer=True),
                seeds=check_number(seeds, "seeds", low=1, high=MAX_SEEDS, integer=True),
                probe=check_number(probe, "probe", low=1, integer=True),
                synthetic_samples=synthetic_samples if dataset == "synthetic" else None)


def grid_of(config):
    """({"dense": [cell per seed], "cascade": {(arm, s)}, "route": {(route, sparsity, s)}}, every cell)."""
    c = config
    base = dict(model=c["model"], dataset=c["dataset"], synthetic_samples=c["synthetic_samples"], probe=c["probe"])
    recipe = dict(RECIPES["mnist"], model=c["model"], dataset=c["dataset"], synthetic_samples=c["synthetic_samples"])
    out = {"dense": [], "cascade": {}, "route": {}}
    for s in range(c["seeds"]):
        dense = grid.Cell(recipe_cell, dict({k: recipe[k] for k in RECIPE_KEYS}, seed=s, probe=c["probe"]),
                          shared=True, label=f"dense {c['model']} s{s}", work=recipe["epochs"])
        out["dense"].append(dense)
        for arm, (lr, wd) in ARMS.items():
            out["cascade"][(arm, s)] = grid.Cell(
                kinds.cascade_cell,
                dict(base, seed=s, arm=arm, lr=lr, weight_decay=wd, fraction=c["fraction"], epochs=c["epochs"]),
                deps={"dense": dense}, label=f"cascade {arm} s{s}", work=c["epochs"])
        for route in ROUTES:
            for sp in c["sparsities"]:
                out["route"][(route, sp, s)] = grid.Cell(
                    kinds.route_cell,
                    dict(base, seed=s, route=route, sparsity=sp, epochs=c["epochs"], steps=c["steps"]),
                    deps={"dense": dense}, label=f"route {route} {sp:g} s{s}", work=c["epochs"])
    return out, out["dense"] + list(out["cascade"].values()) + list(out["route"].values())


def point_name(config):
    return f"{config['model']}-f{config['fraction']:g}-e{config['epochs']}-k{config['steps']}"
