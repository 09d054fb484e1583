"""The core study's partial products on CNNs (`minidi.measure.partialproducts`), averaged over replicates: the
table of the report, its line, and the figure (mean s² of P_l along the network, one line per state)."""
import numpy as np

from .. import plots


def mean_products(per_seed):
    """{state: [{"layer", "top", "top_max", "ms", "size"}]} averaged over the replicates' products cells ({} if none)."""
    if not per_seed:
        return {}
    states = [s for s in per_seed[0] if all(s in r for r in per_seed)]
    return {s: [{"layer": rows[0]["layer"], "size": rows[0]["size"],
                 **{k: float(np.mean([r[k] for r in rows])) for k in ("top", "top_max", "ms")}}
                for rows in zip(*(r[s] for r in per_seed))] for s in states}


def products_lines(products):
    """The report's section: cut points × states, "top / ms" per cell, and where pruning moves ms furthest."""
    if not products:
        return []
    states = list(products)
    names = [r["layer"] for r in products[states[0]]]
    lines = ["", "## Partial products inside the CNN", "",
             "P_l = ∂h_l/∂x from the input to the output of cut point l (a ResNet's stem and blocks, a chain's convs "
             "with their BN/ReLU/pooling), per probe image in eval mode: **top** = σ_max(P_l) by Lanczos on P_lᵀP_l "
             "(10 steps: a lower bound), **ms** = the mean of s² by Hutchinson (4 probes); 1 and 1 for an isometry. "
             "Averaged over samples and replicates (`minidi/measure/partialproducts.py`); `products.png` draws ms.", "",
             "| cut point | " + " | ".join(f"{s} top / ms" for s in states) + " |", "|---|" + "---|" * len(states)]
    for k, name in enumerate(names):
        lines.append(f"| {name} | " + " | ".join(f"{products[s][k]['top']:.3g} / {products[s][k]['ms']:.3g}"
                                               for s in states) + " |")
    if "pruned" in products and "dense" in products:
        shift = [abs(np.log(max(p["ms"], 1e-300) / max(d["ms"], 1e-300)))
                 for p, d in zip(products["pruned"], products["dense"])]
        k = int(np.argmax(shift))
        lines += ["", f"L1 pruning moves ms furthest at **{names[k]}**: {products['dense'][k]['ms']:.3g} → "
                      f"{products['pruned'][k]['ms']:.3g} (×{np.exp(shift[k]):.3g})."]
    return lines


def products_figure(products, path, title):
    series = {state: [(k, r["ms"]) for k, r in enumerate(rows)] for state, rows in products.items()}
    return plots.curves(series, "ms", path, "mean s² of P_l (Hutchinson)", title, log=True, xlabel="cut point l")
