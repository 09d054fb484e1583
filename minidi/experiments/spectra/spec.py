"""The spectra study's specification: the grid of random networks at initialization whose Jacobian spectra are
measured (minidi's exact Jacobian) and predicted (`minidi.theory`)."""
from ...errors import MinidiError, check_choices, check_number
from ...lab import grid
from ...limits import MAX_SEEDS
from ...theory.predict import ACTIVATIONS, INITS
from . import cells as kinds

DEPTHS = tuple(range(1, 11))
PRESETS = ("mlp7-linear", "mlp7-relu")       # the core study's networks at init, and their pruned widths
PRUNED = {"mlp7-linear": 0.8, "mlp7-relu": 0.9}
MAX_WIDTH, MAX_SAMPLES = 4096, 10_000
PRESET_DRAWS = 20           # the presets are cheap (10 logits): 20 fresh inits, as the note's measurement


def configure(depths=DEPTHS, width=200, inits=INITS, activations=tuple(ACTIVATIONS), draws=4, samples=8,
              presets=True):
    """The study's resolved configuration, every value checked (a MinidiError names a bad one)."""
    depths = sorted({check_number(d, "depth", low=1, high=100, integer=True) for d in depths})
    inits, activations = check_choices(inits, INITS, "init"), check_choices(activations, list(ACTIVATIONS), "activation")
    if not depths or not inits or not activations:
        raise MinidiError("give at least one depth, one init and one activation")
    return dict(study="spectra", depths=depths, width=check_number(width, "width", low=2, high=MAX_WIDTH, integer=True),
                inits=inits, activations=activations,
                draws=check_number(draws, "draws", low=2, high=MAX_SEEDS, integer=True),
                samples=check_number(samples, "samples", low=1, high=MAX_SAMPLES, integer=True), presets=bool(presets))


def point_name(config):
    return f"spectra-w{config['width']}-d{config['depths'][-1]}"


def grid_of(config):
    """({"depth": {(activation, init, depth): cell}, "preset": {(name, pr): cell}}, every cell)."""
    c = config
    out = {"depth": {}, "preset": {}}
    for act in c["activations"]:
        for init in c["inits"]:
            for depth in c["depths"]:
                out["depth"][(act, init, depth)] = grid.Cell(
                    kinds.square_cell, dict(activation=act, init=init, depth=depth, width=c["width"], draws=c["draws"],
                                            samples=c["samples"]), label=f"{act} {init} L={depth}", work=depth)
    if c["presets"]:
        for name in PRESETS:
            for pr in (0.0, PRUNED[name]):
                out["preset"][(name, pr)] = grid.Cell(
                    kinds.preset_cell, dict(model=name, pr=pr, draws=max(PRESET_DRAWS, c["draws"]), samples=c["samples"]),
                    label=f"{name} pr {pr:g}", work=7)
    return out, list(out["depth"].values()) + list(out["preset"].values())


__all__ = ["configure", "grid_of", "point_name", "DEPTHS"]
