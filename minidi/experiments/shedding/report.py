"""The weight-shedding study's report: summary.json, cascade.csv, routes.csv, report.md (claims computed),
figures. "Many times" is ≥ 3× the pruned fraction, "much smaller" ≤ 1/3 of the large-LR + weight-decay arm's σ,
"approaches GMP" within max(tol, 1 point) and "clearly below" more than that (tol as in the pai study)."""
import os

import numpy as np

from ... import decay, grid
from ...files import write_csv, write_json, write_text
from ...plots import plt, save
from ..stats import mean_std, tolerance, verdict
from .cells import ARMS, ROUTES

TAU = "kappa=0.01"


def write_report(out_dir, config, groups, folders, seconds, device=None):
    c = config
    res = lambda cell: grid.result_of(cell, folders)  # noqa: E731
    cascade = {key: res(cell) for key, cell in groups["cascade"].items()}
    routes = {key: res(cell) for key, cell in groups["route"].items()}
    acc = {}
    for (route, sp, s), r in routes.items():
        acc.setdefault((route, sp), []).append(r["final_test_acc"])
    sigma_end = {arm: [cascade[(arm, s)]["history"][-1]["shed"][TAU]["overall"] for s in range(c["seeds"])] for arm in ARMS}
    dead = {arm: [[h["dead_total"] for h in cascade[(arm, s)]["history"]] for s in range(c["seeds"])] for arm in ARMS}
    disconnections = [f"shedding disconnects {', '.join(r['disconnected'][TAU])} ({arm}, seed {s}, τ {TAU})"
                      for (arm, s), r in cascade.items() if r["disconnected"][TAU]]
    summary = dict(config=c, seconds=seconds, sigma_end=sigma_end, dead=dead, disconnections=disconnections,
                   accuracy={f"{r}|{sp}": v for (r, sp), v in acc.items()},
                   implicit={f"{arm}|{s}": r["implicit"] for (arm, s), r in cascade.items()})
    summary["claims"] = claims(c, cascade, sigma_end, dead, acc)
    write_json(os.path.join(out_dir, "summary.json"), summary)
    write_csv(os.path.join(out_dir, "cascade.csv"), [
        {"arm": arm, "seed": s, "epoch": h["epoch"] + 1, "test_acc": h["test_acc"], "jsv_mean": h["jsv_mean"],
         "dead_total": h["dead_total"], **{f"sigma_{k}": v["overall"] for k, v in h["shed"].items()}}
        for (arm, s), r in cascade.items() for h in r["history"]])
    write_csv(os.path.join(out_dir, "routes.csv"), [
        {"route": r["route"], "sparsity": r["sparsity"], "seed": s, "final_test_acc": r["final_test_acc"],
         "acc_after_pruning": r["acc_after_pruning"], "epochs_before_final": r["epochs_before_final"],
         "rounds": len(r["log"]), "collapsed": ";".join(r["collapsed"])} for (_, _, s), r in routes.items()])
    figures = draw(out_dir, c, cascade, acc)
    write_text(os.path.join(out_dir, "report.md"), report(c, summary, cascade, acc, figures))
    return summary


def claims(c, cascade, sigma_end, dead, acc):
    f = c["fraction"]
    m = {arm: float(np.mean(v)) for arm, v in sigma_end.items()}
    rising = [d[-1] > d[0] for d in dead["large+wd"]]
    many = m["large+wd"] >= 3 * f
    smaller = m["large"] <= m["large+wd"] / 3 and m["small+wd"] <= m["large+wd"] / 3
    lines = [f"1. After a random prune of {f:g} and fine-tuning at LR 0.1 with weight decay 5e-4, σ (τ = 0.01·median) "
             f"rises to many times the pruned fraction with rising dead units, and stays much smaller without weight "
             f"decay or at LR 0.001: {verdict(many and all(rising) and smaller)} (σ at the end: " + ", ".join(
                 f"{arm} {v:.3f}" for arm, v in m.items()) + f"; {m['large+wd'] / f:.2f}× the pruned fraction; dead units "
             f"first → last epoch: " + ", ".join(f"{d[0]}→{d[-1]}" for d in dead["large+wd"]) + ")."]
    parts, approach, below = [], [], []
    for sp in c["sparsities"]:
        g, rs, rn = (acc[(r, sp)] for r in ("gmp", "random-shed", "random-noshed"))
        tol = max(tolerance(rs, g), 0.01)
        approach.append(mean_std(rs)[0] >= mean_std(g)[0] - tol)
        below.append(mean_std(rn)[0] < mean_std(g)[0] - max(tolerance(rn, g), 0.01))
        parts.append(f"{sp:g}: GMP {mean_std(g)[0]:.4f}, gradual {mean_std(acc[('gradual', sp)])[0]:.4f}, random+shedding "
                     f"{mean_std(rs)[0]:.4f}, random without weight decay {mean_std(rn)[0]:.4f}")
    lines.append(f"2. Random pruning with shedding approaches GMP at every final sparsity, and stays clearly below it "
                 f"with shedding suppressed at the highest: {verdict(all(approach) and below[-1])} ({'; '.join(parts)}).")
    n_dead = {arm: int(np.mean([d[-1] for d in dead[arm]])) for arm in ARMS}
    layers = sorted({name for r in cascade.values() for name in r["disconnected"][TAU]})
    lines.append(f"3. Shedding disconnects whole units or layers, detected and reported: {verdict(n_dead['large+wd'] > 0)} "
                 f"(dead units at the end, mean over seeds: " + ", ".join(f"{a} {n}" for a, n in n_dead.items())
                 + f"; layers disconnected once shed weights are removed: {', '.join(layers) or 'none'}).")
    return lines


def time_to_shed(c, cascade, arm):
    """{τ label: epochs a weight of median size with zero loss gradient needs to fall below τ (None: never)} under
    the arm's SGD (momentum 0.9, batch 128), from the decay law (`minidi.decay`)."""
    lr, wd = ARMS[arm]
    n_train = 60000 if c["dataset"] == "mnist" else c["synthetic_samples"]
    steps = -(-n_train // 128)
    taus = cascade[(arm, 0)]["taus"]
    median = taus["kappa=0.01"] / 1e-2
    return {k: (decay.epochs_to_fall(t / median, lr, 0.9, wd, steps) if 0 < t < median else None)
            for k, t in taus.items()}


def decay_lines(c, cascade):
    """The decay law beside the measured σ: was the run long enough to shed at all?"""
    lines = ["", "## The decay law: was the run long enough to shed?", "",
             f"A weight whose loss gradient is 0 shrinks only by weight decay, through SGD's momentum recurrence "
             f"(`minidi.decay`). Epochs it needs to fall below each τ, from the median weight size, against this "
             f"run's {c['epochs']} epochs of fine-tuning:", "",
             "| cascade arm | κ = 1e-2 | κ = 1e-3 | prune τ | long enough for κ = 1e-2 |", "|---|---|---|---|---|"]
    for arm in ARMS:
        t = time_to_shed(c, cascade, arm)
        fmt = lambda v: "never" if v is None else f"{v:.1f}"  # noqa: E731
        enough = t["kappa=0.01"] is not None and t["kappa=0.01"] <= c["epochs"]
        lines.append(f"| {arm} | {fmt(t['kappa=0.01'])} | {fmt(t['kappa=0.001'])} | {fmt(t.get('prune'))} | "
                     f"{'yes' if enough else 'no'} |")
    return lines


def report(c, summary, cascade, acc, figures):
    lines = [f"# Cascade weight shedding: {c['model']} on {c['dataset']}", "",
             f"{c['seeds']} replicate(s); random prune of {c['fraction']:g}, then {c['epochs']} epochs of fine-tuning "
             f"(SGD momentum 0.9); routes to {', '.join(f'{s:g}' for s in c['sparsities'])} sparsity, gradual GMP in "
             f"{c['steps']} steps; wall time {summary['seconds']['wall']:.0f} s (this invocation), cells' compute time {summary['seconds']['compute']:.0f} s. τ = 0.01 · median |θ(t₀)| unless named.", "",
             "| cascade arm | σ end (κ=1e-2) | σ end (κ=1e-3) | σ end (prune τ) | dead units end | test acc | "
             "acc with shed removed |", "|---|---|---|---|---|---|---|"]
    for arm in ARMS:
        rs = [cascade[(arm, s)] for s in range(c["seeds"])]
        cell = lambda vals: "{:.4f} ± {:.4f}".format(*mean_std(vals))  # noqa: E731
        lines.append(f"| {arm} | " + " | ".join(cell([r["history"][-1]["shed"][k]["overall"] for r in rs])
                                                  for k in ("kappa=0.01", "kappa=0.001", "prune"))
                     + f" | {np.mean([r['history'][-1]['dead_total'] for r in rs]):.1f} | "
                     f"{cell([r['final_test_acc'] for r in rs])} | {cell([r['implicit'][TAU]['acc_shed_removed'] for r in rs])} |")
    lines += ["", "| route | " + " | ".join(f"{s:g}" for s in c["sparsities"]) + " |",
              "|---|" + "---|" * len(c["sparsities"])]
    for route in ROUTES:
        lines.append(f"| {route} | " + " | ".join("{:.4f} ± {:.4f}".format(*mean_std(acc[(route, s)]))
                                                  for s in c["sparsities"]) + " |")
    lines += decay_lines(c, cascade)
    lines += ["", "## Claims (computed from this run)", ""] + summary["claims"]
    if summary["disconnections"]:
        lines += ["", "## Disconnections", ""] + [f"- {d}" for d in summary["disconnections"]]
    lines += ["", "## Figures", ""] + [f"![{t}]({os.path.basename(p)})" for t, p in figures.items()]
    return "\n".join(lines) + "\n"


def draw(out_dir, c, cascade, acc):
    figs = {}
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.2))
    for arm in ARMS:
        tr = cascade[(arm, 0)]["trace"]
        t = [max(p[0], 1e-2) for p in tr]
        line, = a.plot(t, [p[1][TAU] for p in tr], label=f"{arm}, τ = 0.01·median")
        a.plot(t, [p[1]["prune"] for p in tr], color=line.get_color(), ls="--", label=f"{arm}, τ = prune threshold")
        d = [[h["dead_total"] for h in cascade[(arm, s)]["history"]] for s in range(c["seeds"])]
        b.plot(np.arange(1, len(d[0]) + 1), np.mean(d, axis=0), color=line.get_color(), label=arm)
    a.axhline(c["fraction"], color="gray", ls=":", lw=0.8)
    a.set(xscale="log", xlabel="fine-tuning epoch (log)", ylabel="σ(t)", title="shed fraction (seed 0; dotted: pruned share)")
    b.set(xlabel="epoch", ylabel="dead units", title="dead units (mean over seeds)")
    a.legend(fontsize=6)
    figs["σ(t) and dead units"] = save(fig, os.path.join(out_dir, "shedding.png"))
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for route in ROUTES:
        pts = [mean_std(acc[(route, s)]) for s in c["sparsities"]]
        ax.errorbar(c["sparsities"], [p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, capsize=2, label=route)
    ax.set(xlabel="final sparsity", ylabel="final test accuracy", title="pruning routes")
    ax.legend(fontsize=7)
    figs["accuracy vs final sparsity"] = save(fig, os.path.join(out_dir, "acc_vs_sparsity.png"))
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for arm in ARMS:
        cv = np.array([[cascade[(arm, s)]["jsv_init"]] + [h["jsv_mean"] for h in cascade[(arm, s)]["history"]]
                       for s in range(c["seeds"])])
        ax.plot(np.arange(cv.shape[1]), cv.mean(axis=0), label=arm)
    ax.set(xlabel="fine-tuning epoch (0 = after pruning)", ylabel="mean JSV", yscale="log", title="Jacobian spectrum")
    ax.legend(fontsize=7)
    figs["mean JSV vs epoch"] = save(fig, os.path.join(out_dir, "jsv_vs_epoch.png"))
    return figs
