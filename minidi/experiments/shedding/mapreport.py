"""The phase map's report: map.csv (every point, seed and epoch), map_layers.csv, report.md with the map as
tables, the region where σ ≥ 3× the pruned fraction ("several times", as claim 1 of the study), the settings
it picks for the study's claims, and the map's own claims; heat-map and per-layer figures."""
import os

import numpy as np

from ...lab import grid
from ...measure import shedding
from ...files import write_csv, write_json, write_text
from ..plots import plt, save
from ..stats import mean_std
from .claims import SEVERAL, TAU, map_claims, shed_epochs
from .cells import MOMENTUM
from .spec import map_points

SNAPSHOTS = (1, 5, 10, 20, 40)


def snapshots(epochs):
    """The epochs the map shows: those of SNAPSHOTS within the run, and the last."""
    return sorted({e for e in SNAPSHOTS if e <= epochs} | {epochs})


def point_stats(c, results):
    """{(lr, wd, f, epoch): {sigma: {τ: (mean, std)}, relative, dead, bn_dead, acc, seeds}} over the seeds run."""
    out = {}
    keys = sorted({(lr, wd, f) for lr, wd, f, _ in results})
    for lr, wd, f in keys:
        rs = [r for (a, b, g, _), r in sorted(results.items()) if (a, b, g) == (lr, wd, f)]
        for e in range(1, c["map_epochs"] + 1):
            rows = [r["history"][e - 1] for r in rs]
            out[(lr, wd, f, e)] = dict(
                sigma={k: mean_std([h["shed"][k]["overall"] for h in rows]) for k in rows[0]["shed"]},
                relative=mean_std([h["shed_relative"]["overall"] for h in rows]),
                dead_w=float(np.mean([sum(h["dead_by_weights"].values()) for h in rows])),
                dead_a=float(np.mean([sum(h["dead_by_activations"].values()) for h in rows])),
                bn_dead=float(np.mean([sum(h.get("dead_bn", {}).values()) for h in rows])),
                acc=mean_std([h["test_acc"] for h in rows]), seeds=len(rows))
    return out


def region(c, stats):
    """[(lr, wd, f, first epoch)] of the (lr, wd, f) whose σ (κ = 1e-2) reaches SEVERAL × f, at the first epoch
    it does and stays there to the end of the run."""
    out = []
    for lr in c["map_lrs"]:
        for wd in c["map_wds"]:
            for f in c["map_fractions"]:
                ok = [stats[(lr, wd, f, e)]["sigma"][TAU][0] >= SEVERAL * f for e in range(1, c["map_epochs"] + 1)]
                if ok[-1]:
                    k = max((i for i, v in enumerate(ok) if not v), default=-1)    # ok[i] is epoch i + 1
                    out.append((lr, wd, f, k + 2))
    return out


def pick(c, stats, reg):
    """The setting the study's claims are recomputed on: among the (lr, wd) in the region at the most fractions
    (all of them, if any is), the one reaching it soonest (the largest first epoch over those fractions, the
    smallest wins), ties by the higher mean test accuracy there; the epochs are that first epoch.
    (lr, wd, epochs, accuracy, fractions in the region), or None when the region is empty."""
    best = None
    for lr in c["map_lrs"]:
        for wd in c["map_wds"]:
            hits = [(f, e) for a, b, f, e in reg if (a, b) == (lr, wd)]
            if not hits:
                continue
            e = max(e for _, e in hits)
            acc = float(np.mean([stats[(lr, wd, f, e)]["acc"][0] for f, _ in hits]))
            key = (-len(hits), e, -acc)
            if best is None or key < best[0]:
                best = (key, (lr, wd, e, acc, [f for f, _ in hits]))
    return None if best is None else best[1]


def write_map_report(out_dir, config, groups, folders, seconds):
    c = config
    results = {key: grid.result_of(cell, folders) for key, cell in groups["map"].items()}
    stats = point_stats(c, results)
    reg = region(c, stats)
    chosen = pick(c, stats, reg)
    summary = dict(config=c, seconds=seconds, region=[list(r) for r in reg], picked=chosen,
                   disconnections=[], claims=map_claims(c, results, stats, reg),
                   points={f"{lr:g}|{wd:g}|{f:g}|{e}": v for (lr, wd, f, e), v in stats.items()})
    write_json(os.path.join(out_dir, "summary.json"), summary)
    write_csv(os.path.join(out_dir, "map.csv"), [
        {"lr": lr, "weight_decay": wd, "fraction": f, "seed": s, "epoch": h["epoch"] + 1, "test_acc": h["test_acc"],
         **{f"sigma_{k}": v["overall"] for k, v in h["shed"].items()}, "sigma_relative": h["shed_relative"]["overall"],
         "dead_by_weights": sum(h["dead_by_weights"].values()),
         "dead_by_activations": sum(h["dead_by_activations"].values()), "bn_dead": sum(h.get("dead_bn", {}).values())}
        for (lr, wd, f, s), r in sorted(results.items()) for h in r["history"]])
    write_csv(os.path.join(out_dir, "map_layers.csv"), [
        {"lr": lr, "weight_decay": wd, "fraction": f, "seed": s, "epoch": h["epoch"] + 1, "layer": name,
         "sigma": h["shed"][TAU][name], "sigma_relative": h["shed_relative"][name],
         "dead_by_weights": h["dead_by_weights"][name], "dead_by_activations": h["dead_by_activations"].get(name, "")}
        for (lr, wd, f, s), r in sorted(results.items()) for h in r["history"] for name in h["dead_by_weights"]])
    figures = draw_map(out_dir, c, stats, results, chosen)
    write_text(os.path.join(out_dir, "report.md"), map_text(c, summary, stats, results, reg, chosen, figures))
    return summary


def map_header(c, summary, results):
    steps = int(next(iter(results.values()))["steps_per_epoch"])
    corners = sorted({(lr, wd, f) for lr, wd, f, s in map_points(c) if s > 0})
    lines = [f"# Shedding phase map: {c['model']} on {c['dataset']}", "",
             f"A random global prune of f, then up to {c['map_epochs']} epochs at constant LR (SGD momentum {MOMENTUM:g}, batch "
             f"{c['batch_size']}, {steps} steps an epoch"
             + (f", the first {c['train_samples']} training and {c['test_samples']} test images" if c["train_samples"] else "")
             + f"); σ after every epoch (each epoch column is the same run read at that epoch). Replicate 0 at every "
             f"point, {c['seeds']} at the {len(corners)} corners. Wall time {summary['seconds']['wall']:.0f} s (this "
             f"invocation), cells' compute time {summary['seconds']['compute']:.0f} s.", "",
             f"Each entry: σ/f at τ = 0.01·median |θ(t₀)| (σ/f ≥ {SEVERAL:g} in bold), test accuracy after it; the "
             f"decay law's epochs for a zero-gradient median weight to fall below τ in the last column.", ""]
    return lines


def fraction_table(c, stats, results, f):
    """The σ/f table of one pruned fraction: a row per (LR, weight decay), a column per snapshot epoch."""
    snaps = snapshots(c["map_epochs"])
    lines = [f"### pruned fraction f = {f:g}", "",
              "| LR | weight decay | " + " | ".join(f"epoch {e}" for e in snaps) + " | decay law (epochs) |",
              "|---|---|" + "---|" * (len(snaps) + 1)]
    for lr in c["map_lrs"]:
        for wd in c["map_wds"]:
            cells = []
            for e in snaps:
                st = stats[(lr, wd, f, e)]
                r = st["sigma"][TAU][0] / f
                txt = f"{r:.2f}" + (f" ± {st['sigma'][TAU][1] / f:.2f}" if st["seeds"] > 1 else "")
                cells.append((f"**{txt}**" if r >= SEVERAL else txt) + f" ({st['acc'][0]:.3f})")
            t = shed_epochs(c, results, lr, wd)
            lines.append(f"| {lr:g} | {wd:g} | " + " | ".join(cells) + f" | {'never' if t is None else f'{t:.1f}'} |")
    lines.append("")
    return lines


def last_epoch_table(c, stats):
    last = c["map_epochs"]
    lines = ["### every τ, relative σ, dead units and BN-dead channels at the last epoch", "",
             "| LR | wd | f | σ κ=1e-2 | σ κ=1e-3 | σ prune τ | relative σ | dead units by weights | "
             "dead units by activations | BN-dead channels |", "|---|---|---|---|---|---|---|---|---|---|"]
    for lr in c["map_lrs"]:
        for wd in c["map_wds"]:
            for f in c["map_fractions"]:
                st = stats[(lr, wd, f, last)]
                lines.append(f"| {lr:g} | {wd:g} | {f:g} | " + " | ".join(f"{st['sigma'][k][0]:.4f}" for k in
                                                                            ("kappa=0.01", "kappa=0.001", "prune"))
                             + f" | {st['relative'][0]:.4f} | {st['dead_w']:g} | {st['dead_a']:g} | {st['bn_dead']:g} |")
    return lines


def region_text(c, results, reg, chosen):
    last = c["map_epochs"]
    lines = ["", "## The region", ""]
    if reg:
        lines += [f"σ ≥ {SEVERAL:g}× f (κ = 1e-2), from the epoch given to the end of the run:", ""]
        lines += [f"- LR {lr:g}, weight decay {wd:g}, f = {f:g}: from epoch {e}" for lr, wd, f, e in reg]
    else:
        lines.append(f"No point reached σ ≥ {SEVERAL:g}× f within {last} epochs.")
    lines += [""]
    if chosen:
        lr, wd, e, acc, fs = chosen
        where = "every fraction" if len(fs) == len(c["map_fractions"]) else "f = " + ", ".join(f"{f:g}" for f in fs)
        lines += [f"Picked for the study's claims: LR {lr:g}, weight decay {wd:g}, {e} epochs — of the (LR, weight "
                  f"decay) in the region at the most fractions ({where}), the one there soonest (mean test accuracy "
                  f"there {acc:.4f}). Recompute the claims:",
                  "", "```", f"minidi shedding --model {c['model']} --fraction {max(fs):g} --shed-lr {lr:g} "
                  f"--shed-wd {wd:g} --epochs {e} --seeds 2", "```", "",
                  f"(the largest fraction in the region there, {max(fs):g}, as the cascade's prune)"]
        lines += layer_text(c, results, lr, wd)
    else:
        lines.append("The region is empty: no setting picked.")
    return lines


def map_text(c, summary, stats, results, reg, chosen, figures):
    lines = map_header(c, summary, results)
    for f in c["map_fractions"]:
        lines += fraction_table(c, stats, results, f)
    lines += last_epoch_table(c, stats) + region_text(c, results, reg, chosen)
    lines += ["", "## Claims of the map (computed from this run)", ""] + summary["claims"]
    lines += ["", "## Figures", ""] + [f"![{t}]({os.path.basename(p)})" for t, p in figures.items()]
    return "\n".join(lines) + "\n"


def layer_text(c, results, lr, wd):
    """Which layers shed first at the picked setting (seed 0, every fraction), and BN-dead channels."""
    lines = ["", f"Per layer at the picked setting (seed 0): the first epoch σ_ℓ (κ = 1e-2) reached 0.1, and σ_ℓ "
             f"at the last epoch:", "", "| f | layer | first epoch σ_ℓ ≥ 0.1 | σ_ℓ last | relative σ_ℓ last | "
             "dead by weights last | dead by activations last |", "|---|---|---|---|---|---|---|"]
    for f in c["map_fractions"]:
        h = results[(lr, wd, f, 0)]["history"]
        first = shedding.first_to_shed(h, TAU, 0.1)
        for name in h[-1]["dead_by_weights"]:
            lines.append(f"| {f:g} | {name} | {first[name] or '–'} | {h[-1]['shed'][TAU][name]:.4f} | "
                         f"{h[-1]['shed_relative'][name]:.4f} | {h[-1]['dead_by_weights'][name]} | "
                         f"{h[-1]['dead_by_activations'].get(name, '–')} |")
        if h[-1].get("dead_bn"):
            lines.append(f"| {f:g} | BN (|γ| < τ_γ) | | " + ", ".join(f"{k}: {v}" for k, v in h[-1]["dead_bn"].items())
                         + " | | | |")
    return lines


def draw_map(out_dir, c, stats, results, chosen):
    figs = {}
    snaps = snapshots(c["map_epochs"])[-4:]
    fs, lrs, wds = c["map_fractions"], c["map_lrs"], c["map_wds"]
    fig, axes = plt.subplots(len(fs), len(snaps), figsize=(2.6 * len(snaps) + 1, 2.6 * len(fs) + 0.6), squeeze=False)
    for i, f in enumerate(fs):
        for j, e in enumerate(snaps):
            ax = axes[i][j]
            m = np.array([[stats[(lr, wd, f, e)]["sigma"][TAU][0] / f for wd in wds] for lr in lrs])
            im = ax.imshow(np.log10(np.maximum(m, 1e-3)), origin="lower", cmap="viridis", vmin=-2, vmax=1.3, aspect="auto")
            for a in range(len(lrs)):
                for b in range(len(wds)):
                    ax.text(b, a, f"{m[a, b]:.2g}", ha="center", va="center", fontsize=7,
                            color="#ff3030" if m[a, b] >= SEVERAL else "white",
                            fontweight="bold" if m[a, b] >= SEVERAL else "normal")
            ax.set_xticks(range(len(wds)), [f"{w:g}" for w in wds], fontsize=6)
            ax.set_yticks(range(len(lrs)), [f"{lr:g}" for lr in lrs], fontsize=6)
            ax.set_title(f"f = {f:g}, epoch {e}", fontsize=8)
            if i == len(fs) - 1:
                ax.set_xlabel("weight decay", fontsize=7)
            if j == 0:
                ax.set_ylabel("LR", fontsize=7)
    fig.colorbar(im, ax=axes, shrink=0.8, label="log10 σ/f (κ = 1e-2)")
    fig.suptitle(f"{c['model']}: σ / pruned fraction (red ≥ {SEVERAL:g})", fontsize=9)
    figs["phase map"] = save(fig, os.path.join(out_dir, "phase_map.png"))
    if chosen:
        lr, wd, f = chosen[0], chosen[1], max(chosen[4])                 # the largest fraction in the region there
        h = results[(lr, wd, f, 0)]["history"]
        fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
        for name in h[0]["dead_by_weights"]:
            line, = a.plot(range(1, len(h) + 1), [r["shed"][TAU][name] for r in h], marker=".", label=name)
            b.plot(range(1, len(h) + 1), [r["dead_by_weights"][name] for r in h], color=line.get_color(),
                   label=f"{name}, by weights")
            b.plot(range(1, len(h) + 1), [r["dead_by_activations"].get(name, 0) for r in h], color=line.get_color(),
                   ls="--", label=f"{name}, by activations")
        a.set(xlabel="epoch", ylabel="σ_ℓ (κ = 1e-2)", title=f"per layer, LR {lr:g}, wd {wd:g}, f {f:g} (seed 0)")
        b.set(xlabel="epoch", ylabel="dead units", title="dead units per layer")
        a.legend(fontsize=6)
        b.legend(fontsize=6)
        figs["per-layer shedding at the picked setting"] = save(fig, os.path.join(out_dir, "map_layers.png"))
    return figs
