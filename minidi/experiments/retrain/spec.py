"""The retraining study's specification: the recipe, defaults, validation and the grid of cells."""
from ...lab import grid
from ...errors import MinidiError, check_number
from ...limits import MAX_EPOCHS, MAX_SEEDS
from ...schedules import RETRAINING
from ..dense import stepped_cell
from ..studydata import model_and_dataset
from . import cells as kinds

MODELS = {"lenet300-100": "mnist", "lenet5-relu": "mnist", "resnet20": "cifar", "resnet56": "cifar", "vgg16": "cifar"}
DATASETS = {"mnist": ("mnist", "synthetic"), "cifar": ("cifar10", "cifar100", "synthetic")}
DEFAULT_EPOCHS = {"mnist": 40, "cifar": 160}           # MNIST: reduced from the paper's CIFAR E = 160 (CPU)
ARMS = {"structured": ("l1", "random"), "unstructured": ("magnitude", "random")}
RECIPE = dict(batch_size=128, momentum=0.9, weight_decay=1e-4, eta_max=0.1, eta_min=0.001)


def configure(model_name="lenet300-100", dataset=None, epochs=None, budgets=None, structure="structured",
                 ratio=0.9, schedules=RETRAINING, seeds=1, probe=None, synthetic_samples=2400):
    """The study's resolved configuration, every value checked (a MinidiError names a bad one)."""
    family, dataset = model_and_dataset("retrain", model_name, dataset, MODELS, DATASETS)
    if structure not in ARMS:
        raise MinidiError(f"--structure must be structured or unstructured, got {structure!r}")
    E = check_number(epochs or DEFAULT_EPOCHS[family], "epochs", low=4, high=MAX_EPOCHS, integer=True)
    budgets = sorted({max(1, E // 4), max(1, E // 2), E} if budgets is None else
                     [check_number(b, "budget", low=1, high=MAX_EPOCHS, integer=True) for b in budgets])
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
                seeds=check_number(seeds, "seeds", low=1, high=MAX_SEEDS, integer=True),
                probe=check_number(probe or (1000 if family == "mnist" else 200), "probe", low=1, integer=True),
                augment=family == "cifar", synthetic_samples=synthetic_samples if dataset == "synthetic" else None,
                **RECIPE)


BASE_KEYS = ("model", "dataset", "epochs", "batch_size", "momentum", "weight_decay", "eta_max", "augment",
             "synthetic_samples", "probe")


def grid_of(config):
    """({"dense": [cell per seed], "retrain": {(arm, schedule, budget, s): cell}}, every cell)."""
    c = config
    base = {k: c[k] for k in BASE_KEYS}
    out = {"dense": [], "retrain": {}}
    rewind = sorted({c["epochs"] - T for T in c["budgets"]}) if "wr" in c["schedules"] else []
    for s in range(c["seeds"]):
        dense = grid.Cell(stepped_cell, dict(base, seed=s, rewind=rewind), shared=True,
                          label=f"dense {c['model']} E{c['epochs']} s{s}", work=c["epochs"])
        out["dense"].append(dense)
        for arm in c["arms"]:
            for kind in c["schedules"]:
                for T in c["budgets"]:
                    out["retrain"][(arm, kind, T, s)] = grid.Cell(
                        kinds.retrain_cell,
                        dict(base, seed=s, arm=arm, schedule=kind, budget=T, structure=c["structure"],
                             ratio=c["ratio"], eta_min=c["eta_min"]),
                        deps={"dense": dense}, label=f"retrain {arm} {kind} T{T} s{s}", work=T)
    return out, out["dense"] + list(out["retrain"].values())


def point_name(config):
    return f"{config['model']}-e{config['epochs']}-{config['structure']}-r{config['ratio']:g}"
