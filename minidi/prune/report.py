"""A per-layer account of a (pruned) network: parameters, nonzero, density, dense and effective FLOPs.

FLOPs are counted as multiply-accumulates per input sample (the convention of the pruning literature):
a Linear layer costs in·out; a Conv2d costs out·in·kh·kw per output pixel, Ho·Wo pixels. Effective FLOPs
count only the nonzero weights. For conv layers the output size comes from each conv's input size
(`minidi.nn.checks.conv_input_sizes`: one forward pass of a zero input of `input_shape` (C, H, W)).
"""
import numpy as np

from ..backend import to_numpy
from ..nn import Conv2d
from ..nn.checks import conv_input_sizes


def layer_report(model, input_shape=None):
    plan = model.pruning_plan()
    pixels = {}
    if any(isinstance(e.layer, Conv2d) for e in plan):
        if input_shape is None:
            raise ValueError("layer_report of a conv model needs input_shape (C, H, W)")
        sizes = conv_input_sizes(model, input_shape)
        for e in plan:
            if isinstance(e.layer, Conv2d):
                ho, wo = e.layer.output_size(*sizes[id(e.layer)])
                pixels[id(e.layer)] = ho * wo
    rows = []
    for i, e in enumerate(plan):
        layer = e.layer
        w = to_numpy(layer.weight.data)
        b = to_numpy(layer.bias.data) if layer.bias is not None else np.zeros(0)
        px = pixels.get(id(layer), 1)
        rows.append({"layer": i, "name": e.name, "shape": list(w.shape), "params": int(w.size + b.size),
                     "nonzero": int((w != 0).sum() + (b != 0).sum()), "density": float(((w != 0).sum() + (b != 0).sum()) / (w.size + b.size)),
                     "flops_dense": int(w.size * px), "flops_effective": int((w != 0).sum() * px)})
    return rows


def format_report(rows):
    lines = ["| layer | name | shape | params | nonzero | density | FLOPs dense | FLOPs effective |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['layer']} | {r['name']} | {'×'.join(map(str, r['shape']))} | {r['params']} | {r['nonzero']} | "
                     f"{r['density']:.4f} | {r['flops_dense']} | {r['flops_effective']} |")
    total = {k: sum(r[k] for r in rows) for k in ("params", "nonzero", "flops_dense", "flops_effective")}
    lines.append(f"| total | | | {total['params']} | {total['nonzero']} | {total['nonzero'] / total['params']:.4f} | "
                 f"{total['flops_dense']} | {total['flops_effective']} |")
    return "\n".join(lines)
