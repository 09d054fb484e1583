"""The weight-shedding study's specification: arms, routes, defaults, validation and the grid of cells.

Two grids, one study: the default grid (dense, the four cascade arms, the pruning routes) and, with `map=True`,
the phase map (dense, one fine-tuning run per LR × weight decay × pruned fraction, σ recorded after every epoch,
so the map's epoch axis comes from each run's own history: a constant-LR run's first E epochs *are* the E-epoch
run, the data order being seeded per epoch). In the map, replicate 0 runs at every point and replicates 1 … S−1
at its corners only (the extreme LR, weight decay and fraction)."""
from ...lab import grid
from ...errors import MinidiError, check_number
from ...limits import MAX_EPOCHS, MAX_SEEDS, MAX_STEPS
from ..dense import RECIPE_KEYS, RECIPES, recipe_cell
from . import cells as kinds
from .cells import ARM_NAMES, ROUTES, arms

MODELS = ("lenet300-100", "mlp7-relu", "lenet5-relu", "conv4-mnist")
SPARSITIES = (0.8, 0.9, 0.95)
# What a model's cells train on, and its dense recipe's epochs: conv4 (BatchNorm after every conv) costs ~0.3 s a
# step of 32 images on one core, so it runs on the first 6400 training and 2000 test images at batch 32.
DATA = {"conv4-mnist": dict(train_samples=6400, test_samples=2000, batch_size=32, dense_epochs=4)}
DATA_DEFAULT = dict(train_samples=None, test_samples=None, batch_size=RECIPES["mnist"]["batch_size"],
                    dense_epochs=RECIPES["mnist"]["epochs"])
# The phase map's axes, per model (each overridable): fine-tuning epochs long enough for the decay law to shed.
MAP = {"conv4-mnist": dict(lrs=(0.01, 0.1), wds=(0.0, 5e-3, 2e-2), fractions=(0.05, 0.2), epochs=3)}
MAP_DEFAULT = dict(lrs=(0.01, 0.03, 0.1), wds=(0.0, 5e-4, 2e-3, 5e-3), fractions=(0.05, 0.1, 0.2), epochs=40)

SHED_DEFAULTS = dict(shed_lr=0.1, shed_wd=5e-4, round_epochs=1)    # the paper's fine-tuning of the shedding arms
GRID_DEFAULTS = dict(fraction=0.2, epochs=10, sparsities=SPARSITIES, steps=5, **SHED_DEFAULTS)  # the default grid's


def _values(given, default, what, low, high, low_open=False):
    values = sorted(check_number(v, what, low=low, high=high, low_open=low_open) for v in (given or default))
    if not values or len(set(values)) < len(values):
        raise MinidiError(f"give each {what} once, at least one")
    return values


def configure(model_name="lenet300-100", dataset="mnist", fraction=GRID_DEFAULTS["fraction"],
              epochs=GRID_DEFAULTS["epochs"], sparsities=SPARSITIES, steps=GRID_DEFAULTS["steps"], seeds=1,
              probe=1000, synthetic_samples=2400, shed_lr=SHED_DEFAULTS["shed_lr"], shed_wd=SHED_DEFAULTS["shed_wd"],
              round_epochs=SHED_DEFAULTS["round_epochs"], map=False, map_lrs=None, map_wds=None, map_fractions=None,
              map_epochs=None):
    if model_name not in MODELS:
        raise MinidiError(f"the shedding study runs on {', '.join(MODELS)}, not {model_name!r}")
    if dataset not in ("mnist", "synthetic"):
        raise MinidiError(f"the shedding study runs on --dataset mnist or synthetic, not {dataset!r}")
    sparsities = sorted(check_number(s, "sparsity", low=0, high=1, low_open=True, high_open=True) for s in sparsities)
    if not sparsities or len(set(sparsities)) < len(sparsities):
        raise MinidiError("give each sparsity once, at least one")
    data = DATA.get(model_name, DATA_DEFAULT)
    m = MAP.get(model_name, MAP_DEFAULT)
    if not map and any(v is not None for v in (map_lrs, map_wds, map_fractions, map_epochs)):
        raise MinidiError("--map-lrs, --map-wds, --map-fractions and --map-epochs belong to the phase map: add --map")
    given = dict(fraction=fraction, epochs=epochs, sparsities=tuple(sparsities), steps=steps, shed_lr=shed_lr,
                 shed_wd=shed_wd, round_epochs=round_epochs)
    ignored = [k for k, v in given.items() if v != GRID_DEFAULTS[k]]
    if map and ignored:
        one = len(ignored) == 1
        raise MinidiError(f"{', '.join('--' + k.replace('_', '-') for k in ignored)} {'belongs' if one else 'belong'} to "
                          "the default grid, not to the phase map (which sets its own with --map-lrs, --map-wds, "
                          f"--map-fractions, --map-epochs): drop {'it' if one else 'them'}, or drop --map")
    return dict(study="shedding", model=model_name, dataset=dataset,
                fraction=check_number(fraction, "fraction", low=0, high=0.5, low_open=True),
                epochs=check_number(epochs, "epochs", low=1, high=MAX_EPOCHS, integer=True), sparsities=sparsities,
                steps=check_number(steps, "steps", low=1, high=MAX_STEPS, integer=True),
                seeds=check_number(seeds, "seeds", low=1, high=MAX_SEEDS, integer=True),
                probe=check_number(probe, "probe", low=1, integer=True),
                synthetic_samples=synthetic_samples if dataset == "synthetic" else None,
                shed_lr=check_number(shed_lr, "--shed-lr", low=0, high=10, low_open=True),
                shed_wd=check_number(shed_wd, "--shed-wd", low=0, high=1),
                round_epochs=check_number(round_epochs, "--round-epochs", low=1, high=MAX_EPOCHS, integer=True),
                map=bool(map),
                map_lrs=_values(map_lrs, m["lrs"], "map LR", 0, 10, low_open=True) if map else None,
                map_wds=_values(map_wds, m["wds"], "map weight decay", 0, 1) if map else None,
                map_fractions=_values(map_fractions, m["fractions"], "map fraction", 0, 0.5, low_open=True) if map else None,
                map_epochs=check_number(m["epochs"] if map_epochs is None else map_epochs, "--map-epochs", low=1, high=MAX_EPOCHS,
                                        integer=True) if map else None,
                **({k: v for k, v in data.items() if k != "dense_epochs"} if dataset != "synthetic" else
                   dict(train_samples=None, test_samples=None, batch_size=data["batch_size"])),
                dense_epochs=data["dense_epochs"])


def _dense_cells(c):
    """The dense model of each replicate: the MNIST recipe (shared with the pai study; the same hash, so a cached
    model is reused), at the model's data settings where they differ (dropped from the hash at their defaults)."""
    recipe = dict(RECIPES["mnist"], model=c["model"], dataset=c["dataset"], synthetic_samples=c["synthetic_samples"],
                  epochs=c["dense_epochs"], batch_size=c["batch_size"])
    defaults = dict(train_samples=None, test_samples=None)
    return [grid.Cell(recipe_cell, dict({k: recipe[k] for k in RECIPE_KEYS}, seed=s, probe=c["probe"],
                                        train_samples=c["train_samples"], test_samples=c["test_samples"]),
                      defaults=defaults, shared=True, label=f"dense {c['model']} s{s}", work=recipe["epochs"])
            for s in range(c["seeds"])]


def _base(c):
    return dict(model=c["model"], dataset=c["dataset"], synthetic_samples=c["synthetic_samples"], probe=c["probe"],
                train_samples=c["train_samples"], test_samples=c["test_samples"], batch_size=c["batch_size"])


BASE_DEFAULTS = dict(train_samples=None, test_samples=None, batch_size=128)


def map_points(c):
    """[(lr, wd, fraction, seed)] of the phase map: seed 0 everywhere, later seeds at the corners."""
    lrs, wds, fs = c["map_lrs"], c["map_wds"], c["map_fractions"]
    corner = lambda lr, wd, f: lr in (lrs[0], lrs[-1]) and wd in (wds[0], wds[-1]) and f in (fs[0], fs[-1])  # noqa: E731
    return [(lr, wd, f, s) for s in range(c["seeds"]) for lr in lrs for wd in wds for f in fs
            if s == 0 or corner(lr, wd, f)]


def grid_of(config):
    """({"dense": [cell per seed], "cascade": {(arm, s)}, "route": {(route, sparsity, s)}}, every cell), or with
    map: ({"dense": [...], "map": {(lr, wd, fraction, s)}}, every cell)."""
    c = config
    base = _base(c)
    dense = _dense_cells(c)
    if c["map"]:
        out = {"dense": dense, "map": {}}
        for lr, wd, f, s in map_points(c):
            out["map"][(lr, wd, f, s)] = grid.Cell(
                kinds.map_cell, dict(base, seed=s, lr=lr, weight_decay=wd, fraction=f, epochs=c["map_epochs"]),
                deps={"dense": dense[s]}, defaults=BASE_DEFAULTS, label=f"map lr{lr:g} wd{wd:g} f{f:g} s{s}",
                work=c["map_epochs"])
        return out, dense + list(out["map"].values())
    out = {"dense": dense, "cascade": {}, "route": {}}
    for s in range(c["seeds"]):
        for arm, (lr, wd) in arms(c["shed_lr"], c["shed_wd"]).items():
            out["cascade"][(arm, s)] = grid.Cell(
                kinds.cascade_cell,
                dict(base, seed=s, arm=arm, lr=lr, weight_decay=wd, fraction=c["fraction"], epochs=c["epochs"]),
                deps={"dense": dense[s]}, defaults=BASE_DEFAULTS, label=f"cascade {arm} s{s}", work=c["epochs"])
        for route in ROUTES:
            for sp in c["sparsities"]:
                out["route"][(route, sp, s)] = grid.Cell(
                    kinds.route_cell,
                    dict(base, seed=s, route=route, sparsity=sp, epochs=c["epochs"], steps=c["steps"],
                         lr=c["shed_lr"], weight_decay=c["shed_wd"], round_epochs=c["round_epochs"]),
                    deps={"dense": dense[s]}, defaults=BASE_DEFAULTS, label=f"route {route} {sp:g} s{s}",
                    work=c["epochs"] + (c["steps"] - 1) * c["round_epochs"])
    return out, dense + list(out["cascade"].values()) + list(out["route"].values())


def point_name(config):
    c = config
    name = f"{c['model']}-f{c['fraction']:g}-e{c['epochs']}-k{c['steps']}"
    if any(c.get(k, v) != v for k, v in SHED_DEFAULTS.items()):     # the folder names the settings that differ
        name += f"-lr{c['shed_lr']:g}-wd{c['shed_wd']:g}-r{c['round_epochs']}"
    return "map-" + c["model"] if c.get("map") else name


__all__ = ["configure", "grid_of", "point_name", "map_points", "MODELS", "ARM_NAMES"]
