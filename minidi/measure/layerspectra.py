"""Where isometry breaks: the singular values of each layer's local Jacobian, and of the partial products from
the input to that layer, per sample, for fully connected chains (MLPs).

For h_l = φ_l(W_l h_{l−1} + b_l), the local Jacobian of layer l at a sample is

    J_l = ∂h_l / ∂h_{l−1} = D_l W_l,      D_l = diag φ_l'(W_l h_{l−1} + b_l)   (the output layer: D_L = I)

(for a ReLU, D_l is the sample's gate; for a linear network D_l = I and J_l = W_l for every sample), and the
partial product from the input to layer l is P_l = J_l ⋯ J_1 (P_L is the input–output Jacobian of
`minidi.measure.jacobian`). A layer far from isometry has local singular values far from 1.

The singular values come from the small Gram matrices, as in `minidi.measure.spectrum`: J_l J_lᵀ = (d dᵀ) ⊙ (W_l W_lᵀ)
and P_l P_lᵀ = D_l W_l (P_{l−1} P_{l−1}ᵀ) W_lᵀ D_l, float64, so no (N, out, in) array is ever formed.
`local_jacobians` forms them explicitly (small networks, tests).
"""
import numpy as np

from ..backend import get_array_module
from ..errors import MinidiError, check_number
from .jacobian import inference_backward
from ..nn import Linear
from ..nn.checks import check_batch
from .spectrum import jsv_stats


def supports(model):
    """Whether `model` is a fully connected chain (an MLP): the networks these spectra are defined for here."""
    return bool(getattr(model, "chain", False)) and hasattr(model, "linear_layers")


def _chain(model):
    """[(name, Linear, activation or None)] of an MLP: the k-th activation follows the k-th Linear layer."""
    if not supports(model):
        raise MinidiError("per-layer spectra are defined here for fully connected chains (MLPs), "
                          f"not for {type(model).__name__}")
    mods = model.layers.layers
    out = []
    for i, m in enumerate(mods):
        if isinstance(m, Linear):
            act = mods[i + 1] if i + 1 < len(mods) and not isinstance(mods[i + 1], Linear) else None
            out.append((f"layers.{i}", m, act))
    return out


def _slopes(model, x):
    """[(name, W (float64), d (N, out) float64: φ' at each sample's pre-activation, ones for the output layer)]."""
    _chain(model)                                           # an MLP, else one MinidiError
    check_batch(model, x, what="the probe batch")           # an array of the model's samples, finite
    xp = get_array_module(x)
    with inference_backward(model):
        model.forward(x)
        rows = []
        for name, layer, act in _chain(model):
            w = layer.weight.data.astype(np.float64)
            ones = xp.ones((len(x), layer.out_features), dtype=np.float64)
            d = ones if act is None else act.backward(ones).astype(np.float64)
            rows.append((name, w, d))
    return rows


def local_jacobians(model, x):
    """[J_l (N, out_l, in_l)] explicitly: D_l W_l per sample (for small networks and tests)."""
    return [d[:, :, None] * w[None] for _, w, d in _slopes(model, x)]


def _singular(gram):
    xp = get_array_module(gram)
    eig = xp.linalg.eigvalsh(gram)
    return xp.sqrt(xp.clip(eig[:, ::-1], 0, None))


def layer_spectra(model, x, chunk=250):
    """Per weight layer, in forward order: {"layer", "local": stats of J_l's singular values, "product": stats of
    P_l's} (stats as `spectrum.jsv_stats`: mean, min, max, dist_to_one = mean (s − 1)², ...), over the samples x."""
    chunk = check_number(chunk, "chunk", low=1, integer=True)
    rows = _slopes(model, x)
    local = [[] for _ in rows]
    product = [[] for _ in rows]
    for start in range(0, len(x), chunk):
        part = slice(start, start + chunk)
        m = None
        for k, (_, w, d) in enumerate(rows):
            dd = d[part]
            if w.shape[0] <= w.shape[1]:
                g = (dd[:, :, None] * dd[:, None, :]) * (w @ w.T)[None]           # J Jᵀ = (d dᵀ) ⊙ (W Wᵀ)
            else:
                g = (w.T[None] * (dd * dd)[:, None, :]) @ w                         # Jᵀ J = Wᵀ D² W
            local[k].append(_singular(g))
            m = (w @ w.T)[None] if m is None else w[None] @ m @ w.T[None]           # W M Wᵀ (M_0 = I)
            m = (dd[:, :, None] * dd[:, None, :]) * m                             # D (·) D
            product[k].append(_singular(m)[:, :min(m.shape[1], x.reshape(len(x), -1).shape[1])])
    xp = get_array_module(x)
    return [{"layer": name, "local": jsv_stats(xp.concatenate(local[k])), "product": jsv_stats(xp.concatenate(product[k]))}
            for k, (name, _, _) in enumerate(rows)]


def furthest_from_isometry(spectra, key="local"):
    """The layer whose singular values have the largest mean (s − 1)²."""
    return max(spectra, key=lambda r: r[key]["dist_to_one"])["layer"]


KEYS = ("mean", "min", "max", "dist_to_one")     # the per-layer summary the studies keep


def summarized(spectra):
    """`layer_spectra`'s rows cut to the summary kept per epoch: {layer, local: {KEYS}, product: {KEYS}}."""
    return [{"layer": r["layer"], **{part: {k: r[part][k] for k in KEYS} for part in ("local", "product")}}
            for r in spectra]


def linear_closed_form(model):
    """For a linear MLP, J_l = W_l at every sample: the local singular values are those of each weight matrix
    (for a pruned network, W_l restricted to the kept units: the rows of layer l's and the columns of layer
    l−1's survivors, which is what the physically smaller matrix holds). [(name, singular values)], float64."""
    if not getattr(model, "is_linear", False):
        raise MinidiError("the closed form holds for linear networks only")
    xp = get_array_module(model.linear_layers()[0].weight.data)
    return [(name, xp.linalg.svd(layer.weight.data.astype(np.float64), compute_uv=False))
            for name, layer, _ in _chain(model)]


class LayerMonitor:
    """A `fit` callback: each epoch's row gains "layers", the summarized per-layer spectra at the probe x."""

    def __init__(self, x):
        self.x = x

    def measure(self, model):
        return summarized(layer_spectra(model, self.x))

    def on_epoch_end(self, model, row):
        row["layers"] = self.measure(model)
