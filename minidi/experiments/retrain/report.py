"""The retraining study's report: summary.json, accuracy.csv, report.md (claims computed), figures.

"Within the spread" uses `experiments.stats.tolerance`: max(2·s, 0.005), s the larger sample std across
replicates of the two arms compared.
"""
import os

import numpy as np

from ...lab import grid
from ...files import write_csv, write_json, write_text
from ..plots import plot_schedules, plt, save
from ..stats import mean_std, tolerance, verdict

LARGE = ("slr", "clr")                         # the schedules that restart at a large LR


def write_report(out_dir, config, groups, folders, seconds, device=None):
    c = config
    acc, jsv = {}, {}
    rows = []
    for (arm, kind, T, s), cell in groups["retrain"].items():
        r = grid.result_of(cell, folders)
        acc.setdefault((arm, kind, T), []).append(r["final_test_acc"])
        jsv.setdefault((arm, kind, T), []).append([r["epoch0"]["jsv"]["mean"]] + [h["jsv_mean"] for h in r["history"]])
        rows.append({"arm": arm, "schedule": kind, "budget": T, "seed": s, "final_test_acc": r["final_test_acc"],
                     "acc_after_pruning": r["epoch0"]["test_acc"], "jsv_mean_after_pruning": r["epoch0"]["jsv"]["mean"],
                     "jsv_mean_final": r["history"][-1]["jsv_mean"]})
    dense = [grid.result_of(cell, folders)["final_test_acc"] for cell in groups["dense"]]
    summary = dict(config=c, seconds=seconds, dense_acc=dense,
                   accuracy={f"{a}|{k}|{T}": v for (a, k, T), v in acc.items()},
                   jsv_curves={f"{a}|{k}|{T}": v for (a, k, T), v in jsv.items()})
    summary["claims"] = claims(c, acc)
    write_json(os.path.join(out_dir, "summary.json"), summary)
    write_csv(os.path.join(out_dir, "accuracy.csv"), rows)
    figures = draw(out_dir, c, acc, jsv)
    write_text(os.path.join(out_dir, "report.md"), report(c, summary, acc, figures))
    return summary


def _m(acc, key):
    return mean_std(acc[key])[0]


def claims(c, acc):
    """The note's four claims, each held or not, with the numbers (one model and pruning ratio per run)."""
    l1, rnd = c["arms"]
    Ts, E, lines = c["budgets"], c["epochs"], []
    have = set(c["schedules"])
    # 1. ordering at equal budget, and LRW = FT for T ≤ E/4
    if {"clr", "slr", "lrw"} <= have:
        parts, ok = [], True
        for T in Ts:
            v = {k: acc[(l1, k, T)] for k in ("clr", "slr", "lrw", "ft")}
            mu = {k: mean_std(x)[0] for k, x in v.items()}
            step = [abs(mu["clr"] - mu["slr"]) <= tolerance(v["clr"], v["slr"]),
                    mu["slr"] >= mu["lrw"] - tolerance(v["slr"], v["lrw"]),
                    mu["lrw"] >= mu["ft"] - tolerance(v["lrw"], v["ft"])]
            ok &= all(step)
            parts.append(f"T={T}: CLR {mu['clr']:.4f}, SLR {mu['slr']:.4f}, LRW {mu['lrw']:.4f}, FT {mu['ft']:.4f} "
                         f"({'/'.join('yes' if s else 'no' for s in step)})")
        short = [T for T in Ts if T <= E / 4]
        same = [acc[(arm, "lrw", T)] == acc[(arm, "ft", T)] for T in short for arm in c["arms"]]
        lines.append(f"1. At equal budget CLR ≈ SLR ≥ LRW ≥ FT ({l1} arm), and LRW = FT for T ≤ E/4: "
                     f"{verdict(ok and all(same))} ({'; '.join(parts)}; LRW identical to FT at T ≤ E/4: "
                     f"{all(same) if same else 'no such budget'}). The 'gap largest at high sparsity' part needs "
                     "several ratios: compare runs at different --ratio.")
    else:
        lines.append("1. Not tested: needs the schedules clr, slr, lrw and ft.")
    # 2. random + a large-LR schedule ≥ L1 + FT
    large = [k for k in LARGE if k in have]
    if large:
        parts, ok = [], True
        for T in Ts:
            best = max(large, key=lambda k: _m(acc, (rnd, k, T)))
            held = _m(acc, (rnd, best, T)) >= _m(acc, (l1, "ft", T)) - tolerance(acc[(rnd, best, T)], acc[(l1, "ft", T)])
            ok &= held
            parts.append(f"T={T}: {rnd}+{best.upper()} {_m(acc, (rnd, best, T)):.4f} vs {l1}+FT {_m(acc, (l1, 'ft', T)):.4f}")
        lines.append(f"2. {rnd} pruning + CLR/SLR ≥ {l1} pruning + FT (ratio {c['ratio']:g}, {c['seeds']} seed(s)): "
                     f"{verdict(ok)} ({'; '.join(parts)}).")
        # 3. under one large-LR schedule, the arm gap is smaller than the schedule gap
        k = large[-1]
        gaps = [(abs(_m(acc, (l1, k, T)) - _m(acc, (rnd, k, T))), _m(acc, (l1, k, T)) - _m(acc, (l1, "ft", T)))
                for T in Ts]
        lines.append(f"3. Under {k.upper()}, the {l1}-vs-{rnd} gap is smaller than the {k.upper()}-vs-FT gap: "
                     f"{verdict(np.mean([g[0] for g in gaps]) < np.mean([g[1] for g in gaps]))} (mean over budgets: "
                     f"arm gap {np.mean([g[0] for g in gaps]):.4f}, schedule gap {np.mean([g[1] for g in gaps]):+.4f}).")
        # 4. the advantage shrinks as T grows
        adv = [max(_m(acc, (l1, kk, T)) for kk in large) - _m(acc, (l1, "ft", T)) for T in Ts]
        lines.append(f"4. The advantage of a large LR over FT shrinks as T grows towards E: "
                     f"{verdict(len(Ts) > 1 and adv[-1] < adv[0])} (" + ", ".join(
                         f"T={T}: {a:+.4f}" for T, a in zip(Ts, adv)) + ").")
    else:
        lines += ["2.–4. Not tested: need slr or clr."]
    return lines


def spectral_line(c, summary):
    """Mean JSV (L1 arm, longest budget, mean over replicates) right after pruning, after a quarter of the budget
    and at the end, per schedule: does a large-LR restart restore the Jacobian's scale faster than FT?"""
    T, arm = c["budgets"][-1], c["arms"][0]
    q = max(1, T // 4)
    means = {k: np.mean(summary["jsv_curves"][f"{arm}|{k}|{T}"], axis=0) for k in c["schedules"]}
    faster = all(means[k][q] > means["ft"][q] for k in LARGE if k in means)
    return (f"Mean JSV of the {arm} arm at T = {T} (after pruning → after {q} epochs → end): " + "; ".join(
        f"{k.upper()} {m[0]:.3g} → {m[q]:.3g} → {m[-1]:.3g}" for k, m in means.items())
        + f". The large-LR restarts (SLR, CLR) are above FT after {q} epochs: {'yes' if faster else 'no'}.")


def report(c, summary, acc, figures):
    Ts = c["budgets"]
    m_d, s_d = mean_std(summary["dense_acc"])
    lines = [f"# Retraining after pruning: {c['model']} on {c['dataset']}", "",
             f"Dense: {c['epochs']} epochs, SGD momentum {c['momentum']}, wd {c['weight_decay']}, LR {c['eta_max']} "
             f"×0.1 at E/2 and 3E/4, batch {c['batch_size']}: test accuracy {m_d:.4f} ± {s_d:.4f}. Pruning: "
             f"{c['structure']} at ratio {c['ratio']:g}, arms {', '.join(c['arms'])}. {c['seeds']} replicate(s); "
             f"wall time {summary['seconds']['wall']:.0f} s (this invocation), cells' compute time {summary['seconds']['compute']:.0f} s.", "",
             "Final test accuracy after retraining for T epochs, mean ± sample std across replicates:", "",
             "| arm | schedule | " + " | ".join(f"T={T}" for T in Ts) + " |", "|---|---|" + "---|" * len(Ts)]
    for arm in c["arms"]:
        for kind in c["schedules"]:
            cells = ["{:.4f} ± {:.4f}".format(*mean_std(acc[(arm, kind, T)])) for T in Ts]
            lines.append(f"| {arm} | {kind} | " + " | ".join(cells) + " |")
    lines += ["", "## Claims (computed from this run)", ""] + summary["claims"]
    lines += ["", "## The spectral lens (not a claim of the paper)", "", spectral_line(c, summary)]
    lines += ["", "## Figures", ""] + [f"![{t}]({os.path.basename(p)})" for t, p in figures.items()]
    return "\n".join(lines) + "\n"


def draw(out_dir, c, acc, jsv):
    figs = {}
    fig, axes = plt.subplots(1, len(c["arms"]), figsize=(9, 3.2), sharey=True)
    for ax, arm in zip(axes, c["arms"]):
        for kind in c["schedules"]:
            pts = [mean_std(acc[(arm, kind, T)]) for T in c["budgets"]]
            ax.errorbar(c["budgets"], [p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, capsize=2, label=kind.upper())
        ax.set(xlabel="retraining budget T (epochs)", title=f"{arm} pruning")
    axes[0].set_ylabel("final test accuracy")
    axes[-1].legend(fontsize=7)
    figs["accuracy vs budget"] = save(fig, os.path.join(out_dir, "acc_vs_budget.png"))
    T = c["budgets"][len(c["budgets"]) // 2]
    figs["LR and momentum schedules"] = plot_schedules(os.path.join(out_dir, "schedules.png"), c["schedules"],
                                                       c["epochs"], T, c["eta_max"], c["eta_min"])
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    T = c["budgets"][-1]
    for kind in c["schedules"]:
        cv = np.array(jsv[(c["arms"][0], kind, T)])
        ax.plot(np.arange(cv.shape[1]), cv.mean(axis=0), label=kind.upper())
    ax.set(xlabel="retraining epoch (0 = right after pruning)", ylabel="mean JSV", yscale="log",
           title=f"{c['arms'][0]} pruning, T = {T}")
    ax.legend(fontsize=7)
    figs["mean JSV vs epoch per schedule"] = save(fig, os.path.join(out_dir, "jsv_vs_epoch.png"))
    return figs
