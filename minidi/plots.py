"""The figures of the studies, drawn with matplotlib (Agg backend: files only, no screen needed)."""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _save(fig, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=120, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)
    return path


def jsv_vs_pr(rows, path, title):
    """rows: [{'pr', 'pruned': stats, 'orthp': stats}] → mean JSV (log scale) against the pruning ratio."""
    fig, ax = plt.subplots(figsize=(5, 3.6))
    prs = [r["pr"] for r in rows]
    ax.plot(prs, [r["pruned"]["mean"] for r in rows], "o-", label="L1 pruned")
    ax.plot(prs, [r["orthp"]["mean"] for r in rows], "s--", label="L1 pruned + OrthP")
    ax.axhline(1.0, color="gray", lw=0.8, ls=":")
    ax.set(xlabel="pruning ratio", ylabel="mean JSV", yscale="log", title=title)
    ax.legend()
    return _save(fig, path)


def curves(series, key, path, ylabel, title, log=False, bands=None):
    """series: {arm: [(epoch, value), ...]} → one line per arm; bands: {arm: [(epoch, low, high)] or None},
    drawn as a shaded band around the line (e.g. mean ± std across replicates)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for arm, points in series.items():
        line, = ax.plot([p[0] for p in points], [p[1] for p in points], label=arm, lw=1.4,
                        ls="--" if "orthp" in arm else "-")
        band = (bands or {}).get(arm)
        if band:
            ax.fill_between([b[0] for b in band], [b[1] for b in band], [b[2] for b in band],
                            color=line.get_color(), alpha=0.2, lw=0)
    ax.set(xlabel="finetuning epoch", ylabel=ylabel, title=title)
    if log:
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    return _save(fig, path)


def sv_histogram(groups, path, title):
    """groups: {label: array of singular values} → one panel per group, fraction of values per log-spaced bin."""
    import numpy as np
    values = np.concatenate([np.asarray(v).ravel() for v in groups.values()])
    positive = values[values > 0]
    lo, hi = positive.min(), positive.max()
    bins = np.logspace(np.log10(lo) - 0.1, np.log10(hi) + 0.1, 50)
    fig, axes = plt.subplots(len(groups), 1, figsize=(5.5, 1.3 + 1.2 * len(groups)), sharex=True)
    for ax, (label, v), color in zip(np.atleast_1d(axes), groups.items(), ("C0", "C1", "C2", "C3")):
        v = np.clip(np.asarray(v).ravel(), lo, None)
        ax.hist(v, bins=bins, weights=np.full(v.size, 1 / v.size), color=color)
        ax.axvline(1.0, color="gray", lw=0.8, ls=":")
        ax.set_ylabel("fraction")
        ax.set_title(f"{label}: mean {v.mean():.3g}", fontsize=9, loc="left")
    ax.set(xscale="log", xlabel="Jacobian singular value")
    fig.suptitle(title)
    return _save(fig, path)
