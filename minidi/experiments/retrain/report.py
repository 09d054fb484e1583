"""The retraining study's report: summary.json, accuracy.csv, report.md (claims computed), figures.

Every claim is judged on its effect over replicates, paired by seed (`experiments.stats`: a 95 % t interval and
held / not held / undecided); "≈" and "≥" of accuracies within a practical margin of half a point (`ACC_MARGIN`).
"""
import os

import numpy as np

from ...lab import grid
from ...files import write_csv, write_json, write_text
from ..plots import plot_schedules, plt, save
from ..stats import (at_least, bold, check, combine, effect, equivalent, greater, judged, mean_std,
                     paired)

LARGE = ("slr", "clr")                         # the schedules that restart at a large LR
ACC_MARGIN = 0.005                             # "≈" and "≥" of accuracies: within half a point


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


def pts(e, verdict, boundary=0.0):
    return judged(e, verdict, boundary, scale=100, unit=" pts")


def claims(c, acc):
    """The note's four claims (one model and pruning ratio per run), each judged on its effect over replicates:
    acc[(arm, schedule, T)] lists the final accuracy of seed 0, 1, ..., and the arms, schedules and budgets of one
    seed share its dense model, so the differences are paired by seed."""
    l1, rnd = c["arms"]
    have = set(c["schedules"])
    lines = [claim_order(c, acc, l1) if {"clr", "slr", "lrw", "ft"} <= have else
             "1. Not tested: needs the schedules clr, slr, lrw and ft."]
    large = [k for k in LARGE if k in have]
    if large and "ft" in have:
        lines += [claim_random(c, acc, l1, rnd, large), claim_gaps(c, acc, l1, rnd, large[-1]),
                  claim_shrinks(c, acc, l1, large)]
    else:
        lines += ["2.–4. Not tested: need ft and slr or clr."]
    return lines


def claim_order(c, acc, l1):
    """1. CLR ≈ SLR ≥ LRW ≥ FT at each budget (L1 arm); LRW = FT for T ≤ E/4 is true by construction (the dense
    schedule's last quarter is already FT's LR), so it is a check of the code."""
    parts, verdicts = [], []
    for T in c["budgets"]:
        v = {k: acc[(l1, k, T)] for k in ("clr", "slr", "lrw", "ft")}
        eq, ge1, ge2 = paired(v["clr"], v["slr"]), paired(v["slr"], v["lrw"]), paired(v["lrw"], v["ft"])
        step = [equivalent(eq, ACC_MARGIN), at_least(ge1, ACC_MARGIN), at_least(ge2, ACC_MARGIN)]
        verdicts += step
        parts.append(f"T={T}: CLR − SLR {pts(eq, step[0], ACC_MARGIN)}; SLR − LRW {pts(ge1, step[1], -ACC_MARGIN)}; "
                     f"LRW − FT {pts(ge2, step[2], -ACC_MARGIN)}")
    short = [T for T in c["budgets"] if T <= c["epochs"] / 4]
    same = [acc[(arm, "lrw", T)] == acc[(arm, "ft", T)] for T in short for arm in c["arms"]]
    construction = (f"LRW identical to FT at T ≤ E/4, true by construction: {check(all(same))}" if same else
                    "no budget T ≤ E/4 to check LRW = FT")
    return (f"1. At equal budget CLR ≈ SLR ≥ LRW ≥ FT ({l1} arm; ≈ and ≥ within {100 * ACC_MARGIN:g} points): "
            f"{bold(combine(verdicts))} ({' | '.join(parts)}). {construction}. The 'gap largest at high sparsity' "
            "part needs several ratios: compare runs at different --ratio.")


def claim_random(c, acc, l1, rnd, large):
    """2. Random pruning with a large-LR schedule is at least as good as L1 pruning with FT, at each budget."""
    parts, verdicts = [], []
    for T in c["budgets"]:
        best = max(large, key=lambda k: _m(acc, (rnd, k, T)))
        e = paired(acc[(rnd, best, T)], acc[(l1, "ft", T)])
        verdicts.append(at_least(e, ACC_MARGIN))
        parts.append(f"T={T}: {rnd}+{best.upper()} − {l1}+FT {pts(e, verdicts[-1], -ACC_MARGIN)}")
    return (f"2. {rnd} pruning + CLR/SLR ≥ {l1} pruning + FT (ratio {c['ratio']:g}, within {100 * ACC_MARGIN:g} "
            f"points): {bold(combine(verdicts))} ({'; '.join(parts)}).")


def claim_gaps(c, acc, l1, rnd, k):
    """3. Under one large-LR schedule the arm gap |L1 − random| is smaller than the schedule gap (k − FT, L1 arm):
    per seed, the schedule gap minus the arm gap, averaged over budgets."""
    seeds = range(len(acc[(l1, k, c["budgets"][0])]))
    margin = [float(np.mean([(acc[(l1, k, T)][s] - acc[(l1, "ft", T)][s]) - abs(acc[(l1, k, T)][s] - acc[(rnd, k, T)][s])
                             for T in c["budgets"]])) for s in seeds]
    e = effect(margin)
    return (f"3. Under {k.upper()}, the {l1}-vs-{rnd} gap is smaller than the {k.upper()}-vs-FT gap (schedule gap − "
            f"arm gap, mean over budgets): {pts(e, greater(e))}.")


def claim_shrinks(c, acc, l1, large):
    """4. The advantage of a large LR over FT (L1 arm, the better large-LR schedule) is smaller at the longest budget
    than at the shortest."""
    Ts = c["budgets"]
    if len(Ts) < 2:
        return "4. The advantage of a large LR over FT shrinks as T grows: nothing to judge with one budget (give several)."
    best = {T: max(large, key=lambda kk: _m(acc, (l1, kk, T))) for T in Ts}
    adv = {T: [a - b for a, b in zip(acc[(l1, best[T], T)], acc[(l1, "ft", T)])] for T in Ts}
    e = paired(adv[Ts[0]], adv[Ts[-1]])
    return (f"4. The advantage of a large LR over FT shrinks as T grows towards E (advantage at T={Ts[0]} − at "
            f"T={Ts[-1]}): {pts(e, greater(e))} (advantages: " + ", ".join(
                f"T={T} {100 * float(np.mean(adv[T])):+.2f} pts" for T in Ts) + ").")


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
