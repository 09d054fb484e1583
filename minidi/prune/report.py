"""A per-layer account of a (pruned) network: parameters, nonzero weights, density, dense and effective FLOPs.

FLOPs are counted as multiply-accumulates per input sample (the convention of the pruning literature):
a Linear layer costs in·out, of which only the nonzero weights are effective.
"""
from ..backend import to_numpy


def layer_report(model):
    rows = []
    for i, layer in enumerate(model.linear_layers()):
        w = to_numpy(layer.weight.data)
        params = w.size + (layer.bias.size if layer.bias is not None else 0)
        nonzero = int((w != 0).sum()) + (int((to_numpy(layer.bias.data) != 0).sum()) if layer.bias is not None else 0)
        rows.append({"layer": i, "shape": list(w.shape), "params": int(params), "nonzero": nonzero,
                     "density": nonzero / params, "flops_dense": int(w.size), "flops_effective": int((w != 0).sum())})
    return rows


def format_report(rows):
    lines = ["| layer | shape | params | nonzero | density | FLOPs dense | FLOPs effective |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['layer']} | {'×'.join(map(str, r['shape']))} | {r['params']} | {r['nonzero']} | "
                     f"{r['density']:.4f} | {r['flops_dense']} | {r['flops_effective']} |")
    total = {k: sum(r[k] for r in rows) for k in ("params", "nonzero", "flops_dense", "flops_effective")}
    lines.append(f"| total | | {total['params']} | {total['nonzero']} | {total['nonzero'] / total['params']:.4f} | "
                 f"{total['flops_dense']} | {total['flops_effective']} |")
    return "\n".join(lines)
