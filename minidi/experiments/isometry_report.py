"""Outputs of the core study: summary JSON, CSV tables, markdown report and figures.

Every claim line of the report is computed from the measured numbers; nothing is written in advance.
"""
import os

import numpy as np

from .. import plots
from ..checkpoint import save_npz
from ..data.download import atomic_write_bytes
from ..train import write_json
from .common import write_csv

STATS = ("mean", "std", "std_over_mean", "min", "max", "cond", "dist_to_one")


def jsv_curve(result):
    """[(epochs completed, mean JSV)], epoch 0 = right after pruning/OrthP."""
    return [(0, result["epoch0"]["jsv"]["mean"])] + [(r["epoch"] + 1, r["jsv_mean"]) for r in result["history"]]


def acc_curve(result):
    return [(0, result["epoch0"]["test_acc"])] + [(r["epoch"] + 1, r["test_acc"]) for r in result["history"]]


def _mean_over_seeds(per_seed, fn):
    curves = [fn(r) for r in per_seed.values()]
    return [(curves[0][i][0], float(np.mean([c[i][1] for c in curves]))) for i in range(len(curves[0]))]


def write_outputs(out_dir, summary, spectra):
    write_json(os.path.join(out_dir, "summary.json"), summary)
    save_npz(os.path.join(out_dir, "singular_values.npz"), spectra)
    write_csv(os.path.join(out_dir, "jsv_vs_pr.csv"), [
        {"pr": r["pr"], "widths": "-".join(map(str, r["widths"])), "test_acc": r["test_acc"],
         **{f"pruned_{k}": r["pruned"][k] for k in STATS}, **{f"orthp_{k}": r["orthp"][k] for k in STATS}}
        for r in summary["sweep"]])
    rows = []
    for arm, per_seed in summary["arms"].items():
        for seed, res in per_seed.items():
            rows.append({"arm": arm, "seed": seed, "epoch": 0, "lr": "", "train_loss": "", "test_acc": res["epoch0"]["test_acc"],
                         **{f"jsv_{k}": res["epoch0"]["jsv"][k] for k in STATS}})
            for r in res["history"]:
                rows.append({"arm": arm, "seed": seed, "epoch": r["epoch"] + 1, "lr": r["lr"], "train_loss": r["train_loss"],
                             "test_acc": r["test_acc"], **{f"jsv_{k}": r[f"jsv_{k}"] for k in STATS}})
    write_csv(os.path.join(out_dir, "history.csv"), rows)
    figures = draw(out_dir, summary, spectra)
    atomic_write_bytes(os.path.join(out_dir, "report.md"), report(summary, figures).encode())


def draw(out_dir, summary, spectra):
    c = summary["config"]
    name = f"{c['model']}, PR {c['pr']}"
    figures = {
        "mean JSV vs pruning ratio": plots.jsv_vs_pr(summary["sweep"], os.path.join(out_dir, "jsv_vs_pr.png"), c["model"]),
        "singular values before/after pruning and OrthP": plots.sv_histogram(
            spectra, os.path.join(out_dir, "sv_hist.png"), name),
    }
    if summary["arms"]:
        jsv_series = {arm: _mean_over_seeds(s, jsv_curve) for arm, s in summary["arms"].items()}
        acc_series = {arm: _mean_over_seeds(s, acc_curve) for arm, s in summary["arms"].items()}
        figures["mean JSV during finetuning"] = plots.curves(
            jsv_series, "jsv", os.path.join(out_dir, "jsv_vs_epoch.png"), "mean JSV", name, log=True)
        figures["test accuracy during finetuning"] = plots.curves(
            acc_series, "acc", os.path.join(out_dir, "acc_vs_epoch.png"), "test accuracy", name)
    return figures


def _checkpoints(epochs):
    return sorted({e for e in (0, 1, 5, 10, 90, epochs) if e <= epochs})


def report(summary, figures):
    c, pre = summary["config"], summary["pretrained"]
    epochs = c["finetune_epochs"]
    marks = _checkpoints(epochs)
    origin = "reused from the cache" if pre.get("cached") else "trained in %.0f s" % pre["seconds"]
    finetune = (f"Finetuning: {epochs} epochs, {c['seeds']} seed(s), PR {c['pr']} → widths {summary['widths']}. "
                if summary["arms"] else "Sweep only (no finetuning arms). ")
    lines = [f"# Dynamical isometry and pruning: {c['model']}", "",
             f"Dense model: {c['epochs']} epochs of pretraining, test accuracy {pre['final_test_acc']:.4f} "
             f"({origin}). " + finetune +
             f"Device: {summary['device']}. Whole run: {summary['seconds']:.1f} s.", "",
             "## (a) Mean JSV against the pruning ratio", "",
             "| PR | widths | test acc after pruning | mean JSV | std | cond | mean JSV after OrthP | max abs(s−1) after OrthP |",
             "|---|---|---|---|---|---|---|---|"]
    for r in summary["sweep"]:
        lines.append(f"| {r['pr']} | {'-'.join(map(str, r['widths']))} | {r['test_acc']:.4f} | {r['pruned']['mean']:.4g} | "
                     f"{r['pruned']['std']:.3g} | {r['pruned']['cond']:.3g} | {r['orthp']['mean']:.6g} | {r['orthp_max_abs_dev']:.2g} |")
    if summary["arms"]:
        seeds_col = c["seeds"] > 1
        lines += ["", f"## (b) Finetuning at PR {c['pr']}", "",
                  "| arm | best test acc | last-5 mean ± std | " + ("last-5 mean over seeds (min–max) | " if seeds_col else "")
                  + " | ".join(f"mean JSV @ {e}" for e in marks) + " |",
                  "|---|---|---|" + ("---|" if seeds_col else "") + "---|" * len(marks)]
    for arm, per_seed in summary["arms"].items():
        best = np.mean([r["best_test_acc"] for r in per_seed.values()])
        last = np.mean([r["last5_mean"] for r in per_seed.values()])
        spread = np.mean([r["last5_std"] for r in per_seed.values()])
        curve = dict(_mean_over_seeds(per_seed, jsv_curve))
        lasts = [r["last5_mean"] for r in per_seed.values()]
        span = f"{min(lasts):.4f}–{max(lasts):.4f} | " if c["seeds"] > 1 else ""
        lines.append(f"| {arm} | {best:.4f} | {last:.4f} ± {spread:.4f} | {span}"
                     + " | ".join(f"{curve[e]:.4g}" for e in marks) + " |")
    if c["seeds"] > 1:
        lines += ["", "Accuracies and JSV are means over seeds; ± is the mean over seeds of the last-5 std."]
    lines += ["", "## What this run shows", ""] + claims(summary) + ["", "## Figures", ""]
    lines += [f"- {title}: `{os.path.basename(path)}`" for title, path in figures.items()]
    lines += [""] + [f"![{title}]({os.path.basename(path)})" for title, path in figures.items()]
    return "\n".join(lines) + "\n"


def claims(summary):
    """Each claim of the paper, checked against this run's numbers (yes / no, with the numbers)."""
    sweep = summary["sweep"]
    means = [r["pruned"]["mean"] for r in sweep]
    monotone = all(a > b for a, b in zip(means, means[1:]))
    dense = summary["dense_jsv"]["mean"]
    arms = summary["arms"]
    yes = lambda b: "**yes**" if b else "**no**"  # noqa: E731
    dev = max(r["orthp_max_abs_dev"] for r in sweep)
    general = [
        f"- Dense mean JSV well above 1: {yes(dense > 1.5)} (mean JSV {dense:.3g}).",
        f"- Mean JSV falls monotonically with PR: {yes(monotone)} ({' → '.join(f'{m:.3g}' for m in means)}; "
        f"PR {sweep[-1]['pr']} is {means[0] / means[-1]:.3g}× below PR {sweep[0]['pr']}).",
    ]
    if not arms:
        return general + [f"- After OrthP every JSV equals 1: max abs(s−1) over the sweep {dev:.2g} "
                          f"({yes(dev < 1e-4)} within 1e-4"
                          + ("" if summary.get("linear") else "; OrthP guarantees this only for linear networks") + ")."]
    curve = {arm: dict(_mean_over_seeds(s, jsv_curve)) for arm, s in arms.items()}
    final = {arm: float(np.mean([r["last5_mean"] for r in s.values()])) for arm, s in arms.items()}
    at = [e for e in (1, 5, 10) if e in curve["lr0.01"]]
    faster = all(curve["lr0.01"][e] > curve["lr0.001"][e] for e in at)
    orth0 = [arms[a][s]["epoch0"]["jsv"] for a in ("lr0.01+orthp",) for s in arms[a]]
    return general + [
        f"- After OrthP every JSV equals 1: max abs(s−1) over the sweep {dev:.2g}; at PR {summary['config']['pr']} "
        f"mean {orth0[0]['mean']:.6g}, min {orth0[0]['min']:.6g}, max {orth0[0]['max']:.6g} "
        f"({yes(dev < 1e-4)} within 1e-4"
        + ("" if summary.get("linear") else "; OrthP guarantees this only for linear networks") + ").",
        f"- LR 0.01 recovers mean JSV faster than LR 0.001: {yes(faster)} (epochs {at}: "
        + ", ".join(f"{curve['lr0.01'][e]:.3g} vs {curve['lr0.001'][e]:.3g}" for e in at) + ").",
        "- Final accuracy (last-5 mean): " + ", ".join(f"{a} {v:.4f}" for a, v in final.items()) + "; "
        f"LR 0.01 beats LR 0.001 without OrthP: {yes(final['lr0.01'] > final['lr0.001'])}; "
        f"with OrthP, LR 0.001 matches or beats LR 0.01 (within 0.1 points): "
        f"{yes(final['lr0.001+orthp'] >= final['lr0.01+orthp'] - 0.001)}.",
    ]
