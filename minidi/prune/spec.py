"""Per-layer pruning ratios: "0-5:0.8,6:0" by weight-layer index (from 0, in forward order), or by name
pattern, "layer*.conv1:0.5" (shell-style, matched against the names of `model.pruning_plan()`)."""
from fnmatch import fnmatch

from ..errors import MinidiError, read_list

COUNTED_OUTPUT = "it is the last of the counted layers, the output layer, whose neurons are never pruned"


def _items(spec):
    if isinstance(spec, dict):
        return [(str(k), v) for k, v in spec.items()]
    items = []
    for part in filter(None, str(spec).replace(" ", "").split(",")):
        key, sep, ratio = part.rpartition(":")
        if not sep or not key:
            raise MinidiError(f"malformed pruning spec {spec!r}: expected entries like \"0-5:0.8\", got {part!r}")
        items.append((key, ratio))
    return items


def _layers(key, names, spec):
    """The indices a key names: "3", "0-5" or a name pattern."""
    lo, dash, hi = key.partition("-")
    if lo.isdigit() and dash and not hi.isdigit():
        raise MinidiError(f"malformed pruning spec {spec!r}: bad layer range {key!r}")
    if lo.isdigit() and (not dash or hi.isdigit()):
        first, last = int(lo), int(hi or lo)
        for i in (first, last):
            if not 0 <= i < len(names):
                raise MinidiError(f"pruning spec names layer {i}, but the model has weight layers 0..{len(names) - 1}")
        return list(range(first, last + 1))
    if not any(c.isalpha() or c in "*?[" for c in key):
        raise MinidiError(f"malformed pruning spec {spec!r}: bad layer {key!r}")
    hits = [i for i, n in enumerate(names) if fnmatch(n, key)]
    if not hits:
        raise MinidiError(f"pruning spec pattern {key!r} matches no weight layer (they are: {', '.join(names)})")
    return hits


def parse_spec(spec, plan):
    """{layer index: ratio} for every weight layer of `plan` (a model's pruning plan, or a layer count).

    Every ratio must be in [0, 1); layers not named get 0; naming a layer that cannot be pruned (the output
    layer, or on ResNets any conv but the first of a block) with a ratio above 0 is an error.
    """
    if isinstance(plan, int):                       # a bare layer count: the last one is the output layer
        names, blocked = [str(i) for i in range(plan)], {plan - 1: COUNTED_OUTPUT}
    else:
        names = [e.name for e in plan]
        blocked = {i: e.why for i, e in enumerate(plan) if not e.prunable}
    ratios = {}
    for key, ratio in _items(spec):
        try:
            ratio = float(ratio)
        except ValueError:
            raise MinidiError(f"malformed pruning spec {spec!r}: ratio {ratio!r} of {key} is not a number") from None
        if not 0 <= ratio < 1:
            raise MinidiError(f"pruning ratio {ratio} for layer {key} must be in [0, 1)")
        for i in _layers(key, names, spec):
            ratios[i] = ratio
    for i, ratio in ratios.items():
        if ratio > 0 and i in blocked:
            raise MinidiError(f"layer {i} ({names[i]}) cannot be pruned: {blocked[i]}")
    return {i: ratios.get(i, 0.0) for i in range(len(names))}


def uniform_spec(ratio, n_layers, layers=None):
    """Layers `first..last` (default: every layer but the output layer) at `ratio`, the rest at 0."""
    first, last = layers or (0, n_layers - 2)
    parts = [f"{first}-{last}:{ratio}"] if last >= first else []
    return ",".join(parts + [f"{i}:0" for i in range(n_layers) if not first <= i <= last]) or "0:0"


def parse_ratios(text, option="prs"):
    """Comma-separated pruning ratios, each in [0, 1), none twice: "0,0.5,0.9" → [0.0, 0.5, 0.9]."""
    ratios = read_list(text, float, option)
    for r in ratios:
        if not 0 <= r < 1:
            raise MinidiError(f"{option}: ratio {r:g} is outside [0, 1)")
    return ratios
