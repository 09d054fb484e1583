"""The figures of the studies, drawn with matplotlib (Agg backend: files only, no screen needed); `save` writes
a figure atomically and every report draws through `plt` from here."""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..schedules import retraining_schedule  # noqa: E402


ROUTE_STYLES = {"": "-", "orthp": "--", "ai": "-.", "tpp": ":", "scratch-e": "-", "scratch-b": "--"}


def save(fig, path):
    """Write a figure to `path` (PNG, through a temporary name) and close it; returns the path."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=120, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)
    return path


def jsv_vs_pr(rows, path, title, predicted=None):
    """rows: [{'pr', 'pruned': stats, 'orthp': stats}] → mean JSV (log scale) against the pruning ratio;
    predicted: [mean JSV the theory predicts at init for each PR's widths freshly drawn] (None: not drawn)."""
    fig, ax = plt.subplots(figsize=(5, 3.6))
    prs = [r["pr"] for r in rows]
    ax.plot(prs, [r["pruned"]["mean"] for r in rows], "o-", label="L1 pruned (trained weights)")
    ax.plot(prs, [r["orthp"]["mean"] for r in rows], "s--", label="L1 pruned + OrthP")
    if predicted and all(p is not None for p in predicted):
        ax.plot(prs, predicted, "k:", label="theory at init, these widths\n(not for trained weights)")
    ax.axhline(1.0, color="gray", lw=0.8, ls=":")
    ax.set(xlabel="pruning ratio", ylabel="mean JSV", yscale="log", title=title)
    ax.legend()
    return save(fig, path)


def curves(series, key, path, ylabel, title, log=False, bands=None, xlabel="finetuning epoch"):
    """series: {arm: [(epoch, value), ...]} → one line per arm; bands: {arm: [(epoch, low, high)] or None},
    drawn as a shaded band around the line (e.g. mean ± std across replicates)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for arm, points in series.items():
        route = arm.partition("+")[2]
        line, = ax.plot([p[0] for p in points], [p[1] for p in points], label=arm, lw=1.4,
                        ls=ROUTE_STYLES.get(route, "-"), marker="." if route.startswith("scratch") else None,
                        markevery=max(1, len(points) // 10))
        band = (bands or {}).get(arm)
        if band:
            ax.fill_between([b[0] for b in band], [b[1] for b in band], [b[2] for b in band],
                            color=line.get_color(), alpha=0.2, lw=0)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if log:
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    return save(fig, path)


def layer_heatmaps(maps, layers, path, title):
    """maps: {arm: (layers, epochs) array of the local mean (s − 1)²} → one heat map per arm (log color scale
    shared by all: the same color is the same distance from isometry in every panel)."""
    from matplotlib.colors import LogNorm
    values = np.concatenate([m.ravel() for m in maps.values()])
    positive = values[values > 0]
    top = max(positive.max(), 1e-11) if positive.size else 1.0
    # four decades below the largest value: wide enough to show a layer near isometry, narrow enough that 0.1 and
    # 0.6 get clearly different colors (values below the floor take its color)
    norm = LogNorm(vmin=max(positive.min() if positive.size else top, top * 1e-4), vmax=top, clip=True)
    cols = min(4, len(maps))
    rows = -(-len(maps) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows + 0.8), squeeze=False)
    fig.subplots_adjust(hspace=0.55, wspace=0.25)
    for ax in axes.ravel()[len(maps):]:
        ax.axis("off")
    for k, (ax, (arm, m)) in enumerate(zip(axes.ravel(), maps.items())):
        image = ax.imshow(np.maximum(m, 1e-12), aspect="auto", origin="lower", norm=norm, cmap="magma_r",
                          interpolation="nearest")
        ax.set(yticks=range(len(layers)), yticklabels=[str(i + 1) for i in range(len(layers))])
        ax.set_title(arm, fontsize=9)
        ax.set_xlabel("epoch (0: start)", fontsize=8)
        if k % cols == 0:
            ax.set_ylabel("weight layer", fontsize=8)
    fig.colorbar(image, ax=axes.ravel().tolist(), label="mean (s − 1)² of D_l W_l (log; floor = 1e-4 × max)")
    fig.suptitle(f"{title}: distance from isometry per layer and epoch")
    return save(fig, path)


def say_empty(ax, why):
    """An empty panel says why it is empty."""
    ax.text(0.5, 0.5, why, ha="center", va="center", wrap=True, fontsize=8, color="gray", transform=ax.transAxes)
    ax.set(xticks=[], yticks=[])


def sv_histogram(groups, path, title, predicted=None):
    """groups: {label: array of singular values} → one panel per group, fraction of values per log-spaced bin;
    predicted: (s grid, density of s) of the dense widths at init, drawn over the first panel as a reference."""
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
        if predicted is not None and label == next(iter(groups)):
            s, rho = (np.asarray(a) for a in predicted)
            keep = s >= bins[0]
            fraction = np.interp(bins, s[keep], rho[keep] * s[keep], left=0, right=0) * np.log(bins[1] / bins[0])
            ax.plot(bins, fraction, "k:", lw=1, label="theory at init (training moves far from it)")
            ax.legend(fontsize=6)
    ax.set(xscale="log", xlabel="Jacobian singular value")
    fig.suptitle(title)
    return save(fig, path)


def schedule_curves(kinds, E, T, eta_max=0.1, eta_min=0.001, steps_per_epoch=50):
    """{kind: (t, lr, momentum or None)} sampled per iteration-like step, for the figures."""
    t = np.arange(T * steps_per_epoch) / steps_per_epoch
    out = {}
    for k in kinds:
        s = retraining_schedule(k, E, T, eta_max, eta_min)
        tt = t if s.per_iteration else np.floor(t)
        mom = [s.momentum(x) for x in tt]
        out[k] = (t, np.array([s(x) for x in tt]), None if mom[0] is None else np.array(mom))
    return out


def plot_schedules(path, kinds, E, T, eta_max=0.1, eta_min=0.001):
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    for k, (t, lr, mom) in schedule_curves(kinds, E, T, eta_max, eta_min).items():
        a.plot(t, lr, label=k.upper())
        b.plot(t, mom if mom is not None else np.full_like(t, 0.9), label=k.upper())
    a.set(xlabel="retraining epoch", ylabel="learning rate", yscale="log", title=f"E = {E}, T = {T}")
    b.set(xlabel="retraining epoch", ylabel="momentum", title="momentum (0.9 unless the schedule cycles it)")
    a.legend(fontsize=7)
    return save(fig, path)


def lens_bars(rows, keys, titles, path, title):
    """rows: {state: {key: value, key_std: spread}} → one bar panel per key, a bar per state, the signed values
    (a Hessian's trace and eigenvalues can be negative) on a symmetric-log scale: linear within ±`linthresh`
    (a thousandth of the largest magnitude), logarithmic beyond; negative bars in red."""
    states = list(rows)
    fig, axes = plt.subplots(1, len(keys), figsize=(3.4 * len(keys), 3.2))
    for ax, key, name in zip(np.atleast_1d(axes), keys, titles):
        values = np.array([rows[s][key] for s in states], dtype=float)
        ax.bar(range(len(states)), values, yerr=[rows[s].get(f"{key}_std", 0) for s in states], capsize=2,
               color=["C3" if v < 0 else "C0" for v in values])
        ax.axhline(0, color="gray", lw=0.6)
        top = float(np.nanmax(np.abs(values))) if values.size else 0.0
        ax.set_yscale("symlog", linthresh=max(top * 1e-3, 1e-12))
        ax.set_title(f"{name} (signed; red < 0)", fontsize=9)
        ax.set_xticks(range(len(states)))
        ax.set_xticklabels(states, rotation=45, ha="right", fontsize=7)
    fig.suptitle(title, fontsize=9)
    return save(fig, path)

