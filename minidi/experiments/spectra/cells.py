"""The spectra study's cells: fresh random networks at initialization, their exact Jacobian's singular values
(one backward pass per logit: `minidi.measure.spectrum.jsv`) at Gaussian inputs, beside the prediction of
`minidi.theory` for the same widths, activation and init."""
import numpy as np

from ... import models
from ...backend import to_device, to_numpy
from ...lab import grid
from ...measure.spectrum import jsv
from ...prune import prune_neurons, uniform_spec
from ...models.plan import weight_layers
from ...theory import spectrum_of

MODEL_INIT = {"gaussian": "kaiming-normal", "orthogonal": "orthogonal", "uniform": "default"}   # minidi's names
BINS = 60


def measure(nets, samples, context, seed):
    """Per network: its singular values at `samples` Gaussian inputs (a matrix per input; one for a linear net)."""
    out = []
    for k, net in enumerate(nets):
        x = np.random.default_rng([seed, k]).standard_normal((samples, net.sample_shape[0])).astype(np.float32)
        s = to_numpy(jsv(to_device(net, context.get("device", "cpu")), to_device(x, context.get("device", "cpu"))))
        out.append(np.asarray(s, dtype=np.float64))
    return out


def summarize(singular, prediction):
    """The measured statistics per draw (m₁, m₂ of λ, mean s), a histogram of every s, and the prediction."""
    lam = [s.ravel() ** 2 for s in singular]
    top = max(float(np.max(np.concatenate([s.ravel() for s in singular]))), float(prediction.grid[-1]))
    counts, edges = np.histogram(np.concatenate([s.ravel() for s in singular]), bins=BINS, range=(0, top))
    return {"m1": [float(v.mean()) for v in lam], "m2": [float((v * v).mean()) for v in lam],
            "mean_s": [float(s.mean()) for s in singular],
            "max_dev_from_mean": float(max(np.max(np.abs(s / s.mean() - 1)) for s in singular)),
            "histogram": {"edges": edges.tolist(), "density": (counts / (counts.sum() * np.diff(edges))).tolist()},
            "predicted": {"m1": prediction.moments[0], "m2": prediction.moments[1], "atom": prediction.atom,
                          "mean_s": prediction.mean_singular_value, "edge": prediction.edge,
                          "grid": prediction.grid[::10].tolist(), "density": prediction.density[::10].tolist()}}


@grid.returns(m1=grid.LIST, m2=grid.LIST, mean_s=grid.LIST, predicted=grid.DICT, histogram=grid.DICT)
def square_cell(config, folder, deps, context):
    """`draws` square MLPs (width → width, `depth` weight layers) of one activation and init."""
    c = config
    act = "relu" if c["activation"] == "relu" else "linear"
    nets = [models.mlp(c["depth"], c["width"], act, in_dim=c["width"], n_classes=c["width"],
                       init=MODEL_INIT[c["init"]], seed=s, dtype=np.float64) for s in range(c["draws"])]
    return summarize(measure(nets, c["samples"], context, c["depth"]), spectrum_of(nets[0]))


@grid.returns(m1=grid.LIST, m2=grid.LIST, mean_s=grid.LIST, predicted=grid.DICT, histogram=grid.DICT)
def preset_cell(config, folder, deps, context):
    """A preset at init (its own init), or its pruned widths freshly drawn (the core study's scratch arms' start)."""
    c = config
    nets = []
    for s in range(c["draws"]):
        net = models.build(c["model"], seed=s, dtype=np.float64)
        if c["pr"] > 0:
            pruned = prune_neurons(net, uniform_spec(c["pr"], len(weight_layers(net))))
            net = models.fresh(pruned, s)
        nets.append(net)
    out = summarize(measure(nets, c["samples"], context, 100 + len(c["model"])), spectrum_of(nets[0]))
    return {**out, "widths": [weight_layers(nets[0])[0].in_features] + [w.out_features for w in weight_layers(nets[0])]}
