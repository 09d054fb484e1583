"""Per-layer pruning ratios, written like "0-5:0.8,6:0": layers are the model's weight layers, counted from 0."""
from ..errors import MinidiError


def parse_spec(spec, n_layers):
    """{layer index: ratio} from a string ("0-5:0.8,6:0") or a dict; every ratio in [0, 1).

    Layers not named get ratio 0. The last weight layer (the classes) may only get 0.
    """
    if isinstance(spec, dict):
        items = [(str(k), v) for k, v in spec.items()]
    else:
        items = []
        for part in filter(None, str(spec).replace(" ", "").split(",")):
            layers, sep, ratio = part.partition(":")
            if not sep:
                raise MinidiError(f"malformed pruning spec {spec!r}: expected entries like \"0-5:0.8\", got {part!r}")
            items.append((layers, ratio))
    ratios = {}
    for layers, ratio in items:
        lo, _, hi = layers.partition("-")
        try:
            first, last = int(lo), int(hi or lo)
            ratio = float(ratio)
        except ValueError:
            raise MinidiError(f"malformed pruning spec {spec!r}: bad entry {layers}:{ratio}") from None
        if not 0 <= ratio < 1:
            raise MinidiError(f"pruning ratio {ratio} for layer {layers} must be in [0, 1)")
        for i in range(first, last + 1):
            if not 0 <= i < n_layers:
                raise MinidiError(f"pruning spec names layer {i}, but the model has weight layers 0..{n_layers - 1}")
            ratios[i] = ratio
    if ratios.get(n_layers - 1, 0) > 0:
        raise MinidiError(f"layer {n_layers - 1} is the output layer: its neurons (the classes) are never pruned")
    return {i: ratios.get(i, 0.0) for i in range(n_layers)}


def uniform_spec(ratio, n_layers):
    """Every weight layer but the output layer at `ratio` (the protocol of the JSV-vs-PR figure)."""
    return f"0-{n_layers - 2}:{ratio},{n_layers - 1}:0" if n_layers > 1 else f"0:0"
