"""The core study's specification: defaults, validation, and the grid of cells (see the package docstring)."""
from ... import grid
from ...errors import MinidiError, check_number
from ..limits import MAX_EPOCHS, MAX_ROUNDS, MAX_SEEDS
from ...prune import parse_ratios
from ..dense import pretrain
from . import cells as kinds

DEFAULT_PR = {"mlp7-linear": 0.8, "mlp7-relu": 0.9, "lenet300-100": 0.9, "lenet5-linear": 0.9, "lenet5-relu": 0.9}
DEFAULT_PRS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9)
ARMS = ("lr0.01", "lr0.001", "lr0.01+orthp", "lr0.001+orthp")
LONG_EPOCHS = 900
FINETUNE_DEFAULTS = dict(batch_size=100, momentum=0.9, weight_decay=1e-4)


def configure(model_name="mlp7-linear", epochs=90, long=False, seeds=1, pr=None, prs=DEFAULT_PRS, probe=1000,
              sweep_only=False, finetune_seeds=1, curvature=20):
    """The study's resolved configuration, every value checked (a MinidiError names a bad one)."""
    if model_name not in DEFAULT_PR:
        raise MinidiError(f"the isometry study runs on {', '.join(DEFAULT_PR)}, not {model_name!r}")
    pr = DEFAULT_PR[model_name] if pr is None else check_number(pr, "pr", low=0, high=1, high_open=True)
    prs = parse_ratios(prs if isinstance(prs, str) else ",".join(map(str, prs)), "prs")
    epochs = check_number(epochs, "epochs", low=1, high=MAX_EPOCHS, integer=True)
    return dict(study="isometry", model=model_name, epochs=epochs,
                finetune_epochs=0 if sweep_only else (LONG_EPOCHS if long else epochs),
                seeds=check_number(seeds, "seeds", low=1, high=MAX_SEEDS, integer=True),
                finetune_seeds=check_number(finetune_seeds, "finetune_seeds", low=1, high=MAX_SEEDS, integer=True),
                pr=pr, prs=prs, probe=check_number(probe, "probe", low=1, integer=True), batch_size=100,
                momentum=0.9, weight_decay=1e-4, curvature=check_number(curvature, "curvature", low=0, high=MAX_ROUNDS, integer=True))


def point_name(config):
    return f"{config['model']}-pr{config['pr']:g}-e{config['epochs']}"


def grid_of(config):
    """({"pretrain": [cell per seed], "sweep": [...], "finetune": {(arm, s, f): cell}, "curvature": [cell per
    seed]}, every cell)."""
    c = config
    out = {"pretrain": [], "sweep": [], "finetune": {}, "curvature": []}
    for s in range(c["seeds"]):
        pre = pretrain(c["model"], c["epochs"], seed=s)
        out["pretrain"].append(pre)
        out["sweep"].append(grid.Cell(kinds.sweep_cell, dict(model=c["model"], prs=c["prs"], pr=c["pr"], probe=c["probe"]),
                                      deps={"pretrain": pre}, label=f"sweep {c['model']} s{s}"))
        for arm in ARMS if c["finetune_epochs"] else ():
            for f in range(c["finetune_seeds"]):
                config_ft = dict(model=c["model"], arm=arm, pr=c["pr"], epochs=c["finetune_epochs"],
                                 seed=s + 1000 * f, probe=c["probe"], batch_size=100, momentum=0.9, weight_decay=1e-4)
                out["finetune"][(arm, s, f)] = grid.Cell(
                    kinds.finetune_cell, config_ft, deps={"pretrain": pre}, defaults=FINETUNE_DEFAULTS,
                    label=f"finetune {c['model']} {arm} s{s}" + (f" f{f}" if f else ""), work=c["finetune_epochs"])
        arms = {arm: out["finetune"][(arm, s, 0)] for arm in ARMS if (arm, s, 0) in out["finetune"]}
        if c["curvature"]:                               # the lens: Lanczos steps = Hutchinson probes = curvature
            out["curvature"].append(grid.Cell(
                kinds.curvature_cell, dict(model=c["model"], pr=c["pr"], probe=c["probe"], lanczos_steps=c["curvature"],
                                           trace_probes=c["curvature"]),
                deps={"pretrain": pre, **arms}, label=f"curvature {c['model']} s{s}"))
    return out, out["pretrain"] + out["sweep"] + list(out["finetune"].values()) + out["curvature"]
