"""What the theory (`minidi.theory`) predicts beside the core study's measurements, where it applies (MLPs at
init): each PR's widths freshly drawn, the dense network (trained: far from it), the scratch arms' epoch 0."""
import functools

import numpy as np


def theory_lines(c, summary):
    """The theory's mean JSV at init beside the measurements where it applies (MLPs): each PR's widths freshly
    drawn, the dense network (trained: far from it), and the scratch arms' own epoch 0."""
    pred = [predicted_at_init(c["model"], r["widths"]) for r in summary["sweep"]]
    if not any(p is not None for p in pred):
        return []
    dense = summary["dense_jsv"]["mean"]
    lines = ["", "What the theory (`minidi.theory`, free probability, large width) predicts at init for each PR's widths "
             "freshly drawn: " + ", ".join(f"PR {r['pr']:g} {p:.3g}" for r, p in zip(summary["sweep"], pred) if p)
             + (f". It does not apply after training: the trained dense network's mean JSV {dense:.3g} is "
                f"{dense / pred[0]:.0f}× its init prediction." if summary["sweep"][0]["pr"] == 0 and pred[0] else ".")]
    scratch = {a: r for a, r in summary["arms"].items() if "scratch" in a}
    if scratch:
        p = predicted_at_init(c["model"], summary["widths"])
        lines.append("The scratch arms start from a fresh draw of the pruned widths: epoch-0 mean JSV " + ", ".join(
            f"{a} {np.mean([x['epoch0']['jsv']['mean'] for x in r.values()]):.3g}" for a, r in scratch.items())
            + (f", predicted at init {p:.3g}." if p else "."))
    return lines


@functools.lru_cache(maxsize=64)
def _prediction(model_name, widths):
    """The theory's spectrum at init of the preset at these widths (MLPs), None where it has none (CNNs); each
    computed once (~0.5 s), though the figures and the report lines ask for the same widths."""
    from ... import models, theory
    from ...errors import MinidiError
    if widths is None or models.PRESETS[model_name]["builder"] is not models.mlp:
        return None
    try:
        return theory.spectrum_of(models.build(model_name, width=list(widths[1:-1])))
    except MinidiError:
        return None


def predicted_at_init(model_name, widths):
    p = _prediction(model_name, None if widths is None else tuple(widths))
    return None if p is None else p.mean_singular_value


def predicted_density(model_name, widths):
    p = _prediction(model_name, None if widths is None else tuple(widths))
    return None if p is None else (p.grid, p.density)
