"""The spectra study's report: the measured Jacobian spectra at init beside the predicted ones — tables, claims
computed from the run (`experiments.stats`: effects over the random draws, their t interval, three verdicts),
spectra.csv, summary.json, report.md and the figures."""
import os

import numpy as np

from ...files import write_csv, write_json, write_text
from ...lab import grid
from ...theory import closedforms as CF
from ..plots import plt, save
from ..stats import bold, check, combine, effect, equivalent, greater, judged

SLOPE_MARGIN = 0.15         # "Var λ grows like L": the slope of m₂/m₁² − 1 in L within 1 ± 0.15
REL_MARGIN = 0.15           # "≈ the prediction" for variances (finite width: a few percent at width 200)
JSV_MARGIN = 0.05           # the presets' mean JSV within 5 % of the prediction
ORTHP_TOL = 1e-4


def nvar(r):
    """m₂/m₁² − 1 per draw: 0 for an isometry (up to scale)."""
    return [m2 / (m1 * m1) - 1 for m1, m2 in zip(r["m1"], r["m2"])]


def predicted_nvar(r):
    p = r["predicted"]
    return p["m2"] / (p["m1"] ** 2) - 1


def claims(c, depth, preset):
    """depth[(activation, init, L)]: a square cell's result; preset[(name, pr)]: a preset cell's result."""
    lines = []
    if ("linear", "gaussian", c["depths"][0]) in depth and len(c["depths"]) > 1:
        rows = [depth[("linear", "gaussian", L)] for L in c["depths"]]
        slopes = [float(np.polyfit(c["depths"], [nvar(r)[k] for r in rows], 1)[0]) for k in range(c["draws"])]
        e = effect([s - 1 for s in slopes])
        lines.append(f"1. Depth alone breaks isometry: for Gaussian linear networks Var λ / m₁² grows like L (Fuss–"
                     f"Catalan: slope 1); the measured slope − 1 (within ±{SLOPE_MARGIN:g}): "
                     f"{judged(e, equivalent(e, SLOPE_MARGIN), SLOPE_MARGIN, digits=3)}.")
    if ("linear", "orthogonal", c["depths"][-1]) in depth:
        dev = max(depth[("linear", "orthogonal", L)]["max_dev_from_mean"] for L in c["depths"])
        lines.append(f"2. Orthogonal linear networks are isometric at every depth (true by construction: every "
                     f"singular value is the product of the gains): the largest |s/mean − 1| {dev:.2g} < "
                     f"{ORTHP_TOL:g}: {check(dev < ORTHP_TOL)}.")
    lines += relu_claim(c, depth) + preset_claims(preset)
    return lines


def relu_claim(c, depth):
    """3. ReLU networks are not isometric: Var λ / m₁² above 0.5 at every depth ≥ 2 (Gaussian and orthogonal), and
    for orthogonal weights it follows the prediction (L − 1 gates: L − 1), within REL_MARGIN."""
    deep = [L for L in c["depths"] if L >= 2]
    if not deep or "relu" not in c["activations"]:
        return []
    parts, verdicts = [], []
    for init in [i for i in ("gaussian", "orthogonal") if ("relu", i, deep[0]) in depth]:
        e = effect([min(nvar(depth[("relu", init, L)])[k] for L in deep) - 0.5 for k in range(c["draws"])])
        verdicts.append(greater(e))
        parts.append(f"{init}: the smallest Var λ / m₁² over L ≥ 2 − 0.5 {judged(e, verdicts[-1], digits=2)}")
    if ("relu", "orthogonal", deep[0]) in depth:
        rel = [float(np.mean([nvar(depth[("relu", "orthogonal", L)])[k] / CF.normalized_variance(L, L - 1, 0.5, True) - 1
                              for L in deep])) for k in range(c["draws"])]
        e = effect(rel)
        verdicts.append(equivalent(e, REL_MARGIN))
        parts.append(f"orthogonal, measured/predicted (L − 1) − 1, mean over depths: "
                     f"{judged(e, verdicts[-1], REL_MARGIN, digits=3)}")
    return [f"3. ReLU networks cannot be isometric, orthogonal weights or not, and with orthogonal weights Var λ / m₁² "
            f"≈ L − 1 (the gates' count): {bold(combine(verdicts))} ({'; '.join(parts)})."]


def preset_claims(preset):
    """4. The presets at init (and their pruned widths freshly drawn): measured mean JSV within JSV_MARGIN of the
    prediction; the finite-width gap of m₂/m₁² stated beside it (10 logits: visible)."""
    if not preset:
        return []
    parts, verdicts = [], []
    for (name, pr), r in preset.items():
        e = effect([m / r["predicted"]["mean_s"] - 1 for m in r["mean_s"]])
        verdicts.append(equivalent(e, JSV_MARGIN))
        parts.append(f"{name}{f' pruned {pr:g} (fresh)' if pr else ''}: mean JSV {np.mean(r['mean_s']):.4g} vs "
                     f"{r['predicted']['mean_s']:.4g}, relative difference {judged(e, verdicts[-1], JSV_MARGIN, digits=3)}; "
                     f"m₂/m₁² {np.mean(nvar(r)) + 1:.3f} vs {predicted_nvar(r) + 1:.3f}")
    return [f"4. The theory predicts the presets' mean JSV at init within {100 * JSV_MARGIN:g} % (the m₂/m₁² beside it "
            f"shows the finite-width gap): {bold(combine(verdicts))} ({'; '.join(parts)})."]


def write_report(out_dir, config, groups, folders, seconds, device=None):
    c = config
    depth = {k: grid.result_of(cell, folders) for k, cell in groups["depth"].items()}
    preset = {k: grid.result_of(cell, folders) for k, cell in groups["preset"].items()}
    rows = [{"activation": a, "init": i, "depth": L, "width": c["width"],
             "mean_s": float(np.mean(r["mean_s"])), "mean_s_sd": float(np.std(r["mean_s"], ddof=1)),
             "predicted_mean_s": r["predicted"]["mean_s"], "nvar": float(np.mean(nvar(r))),
             "predicted_nvar": predicted_nvar(r), "predicted_atom": r["predicted"]["atom"]}
            for (a, i, L), r in depth.items()]
    rows += [{"activation": name, "init": f"preset pr {pr:g}", "depth": len(r["widths"]) - 1, "width": "-".join(
        map(str, r["widths"])), "mean_s": float(np.mean(r["mean_s"])), "mean_s_sd": float(np.std(r["mean_s"], ddof=1)),
        "predicted_mean_s": r["predicted"]["mean_s"], "nvar": float(np.mean(nvar(r))), "predicted_nvar": predicted_nvar(r),
        "predicted_atom": r["predicted"]["atom"]} for (name, pr), r in preset.items()]
    summary = dict(config=c, seconds=seconds, rows=rows, claims=claims(c, depth, preset))
    write_json(os.path.join(out_dir, "summary.json"), summary)
    write_csv(os.path.join(out_dir, "spectra.csv"), rows)
    figures = draw(out_dir, c, depth)
    write_text(os.path.join(out_dir, "report.md"), text(c, summary, figures))
    return summary


def text(c, summary, figures):
    lines = ["# Jacobian spectra at initialization: measured against predicted", "",
             f"Square networks of width {c['width']} (depth L = weight layers, L − 1 gates), {c['draws']} random draws "
             f"each, exact Jacobians at {c['samples']} Gaussian inputs; the prediction is `minidi.theory` (free "
             "probability, large width). Wall time " + f"{summary['seconds']['wall']:.0f} s.", "",
             "| activation | init | L | width | mean s (± sd over draws) | predicted | Var λ/m₁² | predicted | "
             "predicted atom |", "|---|---|---|---|---|---|---|---|---|"]
    for r in summary["rows"]:
        lines.append(f"| {r['activation']} | {r['init']} | {r['depth']} | {r['width']} | {r['mean_s']:.4g} ± "
                     f"{r['mean_s_sd']:.2g} | {r['predicted_mean_s']:.4g} | {r['nvar']:.3f} | {r['predicted_nvar']:.3f} "
                     f"| {r['predicted_atom']:.3f} |")
    lines += ["", "Finite width: the prediction is the large-width limit. With 10 logits (the presets) the measured "
              "m₂/m₁² sits visibly above it; after training the theory no longer applies at all (the trained "
              "MLP-7-Linear's mean JSV 2.50 is ~125× its init prediction).", "",
              "## Claims (computed from this run)", ""] + summary["claims"]
    lines += ["", "## Figures", ""] + [f"![{t}]({os.path.basename(p)})" for t, p in figures.items()]
    return "\n".join(lines) + "\n"


def draw(out_dir, c, depth):
    figs = {}
    shown = sorted({c["depths"][0], c["depths"][len(c["depths"]) // 2], c["depths"][-1]})
    for act in c["activations"]:
        fig, axes = plt.subplots(len(c["inits"]), len(shown), figsize=(3.2 * len(shown), 2.4 * len(c["inits"])),
                                 squeeze=False)
        for row, init in zip(axes, c["inits"]):
            for ax, L in zip(row, shown):
                r = depth[(act, init, L)]
                h, p = r["histogram"], r["predicted"]
                ax.stairs(h["density"], h["edges"], fill=True, alpha=0.4, label="measured")
                if max(p["density"]) > 0:
                    ax.plot(p["grid"], p["density"], "k-", lw=1, label="predicted")
                else:
                    ax.axvline(p["edge"] ** 0.5, color="k", lw=1, label="predicted (one value)")
                ax.set_title(f"{init}, L = {L}", fontsize=8)
        axes[0][0].legend(fontsize=6)
        fig.subplots_adjust(hspace=0.45)
        fig.suptitle(f"{act}: singular values of J at init, width {c['width']}", fontsize=9)
        figs[f"histograms, {act}"] = save(fig, os.path.join(out_dir, f"hist_{act}.png"))
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.4))
    for act in c["activations"]:
        for init in c["inits"]:
            rs = [depth[(act, init, L)] for L in c["depths"]]
            line, = a.plot(c["depths"], [r["predicted"]["mean_s"] for r in rs], "-", lw=1, label=f"{act} {init}")
            a.errorbar(c["depths"], [np.mean(r["mean_s"]) for r in rs], [np.std(r["mean_s"], ddof=1) for r in rs],
                       fmt="o", ms=3, color=line.get_color())
            b.plot(c["depths"], [predicted_nvar(r) + 1 for r in rs], "-", lw=1, color=line.get_color())
            b.errorbar(c["depths"], [np.mean(nvar(r)) + 1 for r in rs], [np.std(nvar(r), ddof=1) for r in rs],
                       fmt="o", ms=3, color=line.get_color())
    a.set(xlabel="depth L", ylabel="mean singular value", yscale="log", title="lines: theory; points: measured")
    b.set(xlabel="depth L", ylabel="m₂/m₁²", yscale="log", title="1: isometry (up to scale)")
    a.legend(fontsize=6)
    figs["mean JSV and m₂/m₁² against depth"] = save(fig, os.path.join(out_dir, "depth.png"))
    return figs
