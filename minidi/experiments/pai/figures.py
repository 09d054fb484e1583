"""The pruning-at-initialization study's figures, drawn from its summary: accuracy against sparsity, per-layer
density, the weight-distance ratios, the JSV at init and over training, the curvature lens."""
import os

import numpy as np

from ..plots import plt, save, say_empty
from ..stats import mean_std
from .cells import CONTROL, CONTROL_VARIANTS


def draw(out_dir, c, summary, acc, curves, masks, methods):
    """The study's figures: {title: path}."""
    top = c["sparsities"][-1]
    layers = [r["name"] for r in masks[(methods[0], top, False, 0)]["layers"]]
    figs = {"accuracy vs sparsity per method": draw_accuracy(out_dir, c, acc, methods),
            "per-layer density": draw_density(out_dir, top, masks, methods, layers)}
    if summary["wd_ratios"]:
        figs["Wasserstein ratios per layer"] = draw_wd_ratios(out_dir, top, summary, methods, layers)
    figs["mean JSV at init and vs epoch"] = draw_jsv(out_dir, c, summary, curves, methods)
    if summary["curvature"]:
        figs["curvature at init"] = draw_lens(out_dir, c, summary["curvature"])
    return figs


def draw_accuracy(out_dir, c, acc, methods):
    fig, axes = plt.subplots(1, len(methods), figsize=(2.6 * len(methods), 3), sharey=True, squeeze=False)
    for ax, m in zip(axes[0], methods):
        for v in (CONTROL_VARIANTS if m == CONTROL else c["variants"]):
            pts = [(sp, *mean_std(acc[(m, sp, v)])) for sp in c["sparsities"] if (m, sp, v) in acc]
            ax.errorbar([p[0] for p in pts], [p[1] for p in pts], [p[2] for p in pts], marker="o", ms=3, label=v, capsize=2)
        ax.set(title=m, xlabel="sparsity")
    axes[0][0].set_ylabel("final test accuracy")
    axes[0][0].legend(fontsize=7)
    return save(fig, os.path.join(out_dir, "acc_vs_sparsity.png"))


def draw_density(out_dir, top, masks, methods, layers):
    fig, ax = plt.subplots(figsize=(6, 3.4))
    width = 0.8 / len(methods)
    for i, m in enumerate(methods):
        dens = [masks[(m, top, False, 0)]["layers"][j]["density"] for j in range(len(layers))]
        ax.bar(np.arange(len(layers)) + i * width, dens, width, label=m)
    ax.set(xticks=np.arange(len(layers)) + 0.4 - width / 2, yscale="log", ylabel="density (seed 0)",
           title=f"per-layer density at sparsity {top:g} (a missing bar: collapsed)")
    ax.set_xticklabels(layers, rotation=45, ha="right", fontsize=7)
    ax.legend(fontsize=7)
    return save(fig, os.path.join(out_dir, "layer_density.png"))


def draw_wd_ratios(out_dir, top, summary, methods, layers):
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True)
    keys = [m for m in methods if f"{m}|{top}" in summary["wd_ratios"]]
    for ax, v in zip(axes, ("shuffle", "reinit")):
        if not any(summary["wd_ratios"][f"{m}|{top}"].get(v) for m in keys):
            say_empty(ax, f"no {v} runs at sparsity {top:g} (add {v} to --variants)")
            continue
        for i, m in enumerate(keys):
            r = summary["wd_ratios"][f"{m}|{top}"].get(v, {})
            ax.bar(np.arange(len(layers)) + i * 0.8 / len(keys), [r.get(k, np.nan) for k in layers], 0.8 / len(keys), label=m)
        ax.axhline(1, color="gray", ls=":")
        ax.set(title=f"WD(orig, {v}) / WD(orig, random)", xticks=np.arange(len(layers)))
        ax.set_xticklabels(layers, rotation=45, ha="right", fontsize=7)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"sparsity {top:g}, trained weights (below the dotted line: closer than random pruning)", fontsize=9)
    return save(fig, os.path.join(out_dir, "wd_ratios.png"))


def draw_jsv(out_dir, c, summary, curves, methods):
    top = c["sparsities"][-1]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for m in methods:
        cv = np.array(curves[(m, top, "original")])
        mu = cv.mean(axis=0)
        line, = axes[1].plot(np.arange(len(mu)), mu, label=m)
        if len(cv) > 1:
            sd = cv.std(axis=0, ddof=1)
            axes[1].fill_between(np.arange(len(mu)), mu - sd, mu + sd, color=line.get_color(), alpha=0.2, lw=0)
        axes[0].plot(c["sparsities"], [np.mean([x[0] for x in curves[(m, sp, "original")]]) for sp in c["sparsities"]],
                     "o-", label=m)
    dense = np.array(summary["dense_jsv"]).mean(axis=0)
    axes[1].plot(np.arange(len(dense)), dense, "k--", label="dense")
    axes[0].set(xlabel="sparsity", ylabel="mean JSV at init", yscale="log", title="Jacobian at init")
    axes[1].set(xlabel="epoch (0 = init)", ylabel="mean JSV", yscale="log", title=f"sparsity {top:g}, original masks")
    axes[1].legend(fontsize=7)
    return save(fig, os.path.join(out_dir, "jsv.png"))


def draw_lens(out_dir, c, curv):
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for m in c["methods"]:
        for ax, key in zip(axes, ("top_eigenvalue", "trace")):
            ax.plot(c["sparsities"], [abs(curv[f"{m}|{sp}"][key]) for sp in c["sparsities"]], "o-", label=m)
    for ax, key, name in zip(axes, ("top_eigenvalue", "trace"), ("top Hessian eigenvalue", "|Hessian trace|")):
        ax.axhline(abs(curv["dense|0.0"][key]), color="k", ls="--", lw=0.8, label="dense")
        ax.set(xlabel="sparsity", yscale="log", title=f"{name} at init")
    axes[0].legend(fontsize=7)
    return save(fig, os.path.join(out_dir, "curvature.png"))

