"""The core study's claim lines, each computed from the run's summary (pure functions: a summary in, lines of
markdown out); a claim whose arms were not run is left out, never guessed.

Every comparative claim is judged by `experiments.stats`: the paired differences across replicates (the arms of
replicate s share its pretraining and its finetuning data order), their 95 % t interval and a three-way verdict
(held / not held / undecided); accuracies in points, JSVs as ratios (log differences). OrthP's "every JSV is 1" and
the linear closed form are true by construction: checks of the code, not findings.
"""
import math

import numpy as np

from ..stats import (at_least, check, combine, effect, greater, judged, mean_std, paired, ratio, why_undecided,
                     bold, UNDECIDED)

ACC_MARGIN = 0.005          # "matches" an accuracy: within half a point (the practical margin of ≥ and ≈)
DENSE_JSV = 1.5             # "well above 1"
ORTHP_TOL = 1e-4            # OrthP's check: every singular value within this of 1


def jsv_curve(result):
    """[(epochs completed, mean JSV)], epoch 0 = the arm's starting network."""
    return [(0, result["epoch0"]["jsv"]["mean"])] + [(r["epoch"] + 1, r["jsv_mean"]) for r in result["history"]]


def acc_curve(result):
    return [(0, result["epoch0"]["test_acc"])] + [(r["epoch"] + 1, r["test_acc"]) for r in result["history"]]


def mean_over_seeds(per_seed, fn):
    curves = [fn(r) for r in per_seed.values()]
    n = min(len(c) for c in curves)
    return [(curves[0][i][0], float(np.mean([c[i][1] for c in curves]))) for i in range(n)]


def last5(summary, arm):
    """(mean, std) across replicates of the arm's last-5 test accuracy."""
    return mean_std([r["last5_mean"] for r in summary["arms"][arm].values()])


def per_replicate(summary, arm, fn=lambda r: r["last5_mean"]):
    """{(pretraining seed, finetuning seed): fn(result)} of an arm: what pairs replicates across arms (the replicate's
    key in the summary when a result does not say its seeds)."""
    return {(r["pretrain_seed"], r["finetune_seed"]) if "pretrain_seed" in r and "finetune_seed" in r else key: fn(r)
            for key, r in summary["arms"][arm].items()}


def pair(summary, a, b, fn=lambda r: r["last5_mean"]):
    """The paired Effect of fn(a) − fn(b) over the replicates both arms ran."""
    x, y = per_replicate(summary, a, fn), per_replicate(summary, b, fn)
    keys = sorted(set(x) & set(y))
    return paired([x[k] for k in keys], [y[k] for k in keys])


def pts(e, verdict, boundary=0.0):
    return judged(e, verdict, boundary, scale=100, unit=" pts")


def claims(summary):
    """Every claim line this run can check: the paper's, then the value of pruning, then the recovery routes."""
    return paper_claims(summary) + value_of_pruning(summary) + recovery_routes(summary)


def paper_claims(summary):
    lines = [dense_jsv_line(summary), monotone_line(summary), orthp_line(summary)]
    arms = summary["arms"]
    if {"lr0.01", "lr0.001"} <= set(arms):
        lines += [faster_line(summary), lr_accuracy_line(summary)]
    return lines


def dense_jsv_line(summary):
    e = effect(summary.get("dense_jsv_per_seed") or [summary["dense_jsv"]["mean"]])
    v = greater(e, DENSE_JSV)
    interval = f"[{e.low:.3g}, {e.high:.3g}]" if e.n > 1 else "[no interval: one replicate]"
    return (f"- Dense mean JSV well above 1 (above {DENSE_JSV:g}): mean JSV {e.mean:.3g} {interval}, {e.n} "
            f"replicate{'s' if e.n != 1 else ''}: {bold(v)}" + (f" ({why_undecided(e, DENSE_JSV)})" if v == UNDECIDED
                                                                else "") + ".")


def monotone_line(summary):
    """Each step of the sweep lowers mean JSV: the log ratio of consecutive PRs, paired by replicate."""
    per_seed = summary.get("sweep_per_seed") or [summary["sweep"]]
    prs = [r["pr"] for r in per_seed[0]]
    parts, verdicts = [], []
    for i in range(len(prs) - 1):
        e = paired([math.log(max(s[i]["pruned"]["mean"], 1e-300)) for s in per_seed],
                   [math.log(max(s[i + 1]["pruned"]["mean"], 1e-300)) for s in per_seed])
        verdicts.append(greater(e))
        parts.append(f"PR {prs[i]:g} → {prs[i + 1]:g}: falls {ratio(e)} ({verdicts[-1]})")
    means = [r["pruned"]["mean"] for r in summary["sweep"]]
    return (f"- Mean JSV falls monotonically with PR ({' → '.join(f'{m:.3g}' for m in means)}): "
            f"{bold(combine(verdicts))} ({'; '.join(parts)}).")


def orthp_line(summary):
    """OrthP makes every JSV 1 — exactly, for linear networks: a check of the code there, a finding elsewhere."""
    dev = max(r["orthp_max_abs_dev"] for r in summary["sweep"])
    if summary.get("linear"):
        return (f"- After OrthP every JSV equals 1 (a linear network: true by construction): max abs(s−1) over the "
                f"sweep {dev:.2g} < {ORTHP_TOL:g}: {check(dev < ORTHP_TOL)}.")
    per_seed = summary.get("sweep_per_seed") or [summary["sweep"]]
    e = effect([ORTHP_TOL - max(r["orthp_max_abs_dev"] for r in sweep) for sweep in per_seed])
    return (f"- After OrthP every JSV equals 1 (within {ORTHP_TOL:g}; OrthP guarantees it only for linear networks): "
            f"{ORTHP_TOL:g} − the largest abs(s−1) over the sweep, per replicate: "
            f"{judged(e, greater(e), digits=4)} (largest {dev:.2g}).")


def faster_line(summary):
    """LR 0.01's mean JSV above LR 0.001's at epochs 1, 5 and 10 (log ratios, paired by replicate)."""
    curve = dict(mean_over_seeds(summary["arms"]["lr0.01"], jsv_curve))
    parts, verdicts = [], []
    for ep in [e for e in (1, 5, 10) if e in curve]:
        e = pair(summary, "lr0.01", "lr0.001", lambda r: math.log(dict(jsv_curve(r))[ep]))
        verdicts.append(greater(e))
        parts.append(f"epoch {ep}: {ratio(e)} ({verdicts[-1]})")
    return (f"- LR 0.01 recovers mean JSV faster than LR 0.001 (its mean JSV over LR 0.001's): "
            f"{bold(combine(verdicts))} ({'; '.join(parts)}).")


def lr_accuracy_line(summary):
    e = pair(summary, "lr0.01", "lr0.001")
    line = f"- Final accuracy (last-5 mean): LR 0.01 − LR 0.001 without OrthP: {pts(e, greater(e))}"
    if {"lr0.01+orthp", "lr0.001+orthp"} <= set(summary["arms"]):
        o = pair(summary, "lr0.001+orthp", "lr0.01+orthp")
        line += (f"; with OrthP, LR 0.001 matches or beats LR 0.01 (within {100 * ACC_MARGIN:g} points): LR 0.001 − "
                 f"LR 0.01: {pts(o, at_least(o, ACC_MARGIN), -ACC_MARGIN)}")
    return line + "."


def value_of_pruning(summary):
    """Inherited weights against the same widths trained from scratch, at equal epochs (Scratch-E), and the
    FLOPs-matched Scratch-B beside them (Wang et al.: the debate turns on the finetuning LR)."""
    arms = summary["arms"]
    scratch = [a for a in ("lr0.01+scratch-e", "lr0.001+scratch-e") if a in arms]
    if not scratch:
        return []
    best_scratch = max(scratch, key=lambda a: last5(summary, a)[0])
    lines = []
    if "lr0.01" in arms:
        inherited = [("LR 0.01", "lr0.01")] + [("OrthP", a) for a in ("lr0.001+orthp", "lr0.01+orthp") if a in arms][:1]
        effects = [(what, a, pair(summary, a, best_scratch)) for what, a in inherited]
        parts = [f"{what} ({a}) − {best_scratch}: {pts(e, greater(e))}" for what, a, e in effects]
        lines.append(f"- The value of pruning: inherited weights whose isometry is repaired (by LR 0.01, by OrthP) "
                     f"beat the pruned widths trained from scratch for the same epochs (the better Scratch-E): "
                     f"{bold(combine(greater(e) for _, _, e in effects))} ({'; '.join(parts)}).")
    pairs = [(a, a + "+scratch-e") for a in ("lr0.01", "lr0.001")]
    if all(a in arms and b in arms for a, b in pairs):
        gap = {a: per_replicate(summary, a) for a in ("lr0.01", "lr0.001", "lr0.01+scratch-e", "lr0.001+scratch-e")}
        keys = sorted(set.intersection(*(set(g) for g in gap.values())))
        e = effect([(gap["lr0.01"][k] - gap["lr0.01+scratch-e"][k]) - (gap["lr0.001"][k] - gap["lr0.001+scratch-e"][k])
                    for k in keys])
        lines.append(f"- The finetuning LR decides the value of pruning: inheriting's lead over Scratch-E at the same "
                     f"LR is larger at LR 0.01 than at LR 0.001 (the paper's reading: the small LR repairs isometry "
                     f"slowly); the difference of the two leads: {pts(e, greater(e))}.")
    budget = [a for a in ("lr0.01+scratch-b", "lr0.001+scratch-b") if a in arms]
    if budget and "lr0.01" in arms:
        eb = next(iter(arms[budget[0]].values()))["history"]
        best_b = max(budget, key=lambda a: last5(summary, a)[0])
        e = pair(summary, "lr0.01", best_b)
        lines.append(f"- Inherited at LR 0.01 ({summary['config']['finetune_epochs']} epochs) beats Scratch-B, the "
                     f"pruned widths trained for {len(eb)} epochs (the dense pretraining's FLOPs, capped at "
                     f"{summary['config'].get('scratch_b_cap', 2):g}×): lr0.01 − {best_b}: {pts(e, greater(e))}.")
    return lines


def recovery_routes(summary):
    """AI and TPP (the remedies for nonlinear networks) against plain L1 at the same LR."""
    arms, lines = summary["arms"], []
    for lr in ("lr0.001", "lr0.01"):
        routes = [a for a in (f"{lr}+ai", f"{lr}+tpp") if a in arms]
        if lr not in arms or not routes:
            continue
        start = {a: float(np.mean([r["epoch0"]["jsv"]["mean"] for r in arms[a].values()])) for a in [lr] + routes}
        for a in routes:
            e = pair(summary, a, lr)
            lines.append(f"- {a.split('+')[1].upper()} at LR {lr[2:]} beats plain L1 at that LR: {a} − {lr}: "
                         f"{pts(e, greater(e))} (mean JSV at the start {start[a]:.3g} vs {start[lr]:.3g}).")
    return lines


def by_pr_lines(points, summaries, name=lambda c: f"PR {c['pr']:g}"):
    """Across the points of a `minidi sweep isometry --pr ...`: Scratch-E − L1 and TPP − L1 at LR 0.01, one
    paired effect per point (the authors' table: Scratch beats plain L1 at PR ≥ 0.9 and loses below; TPP gains
    most at high PR)."""
    lines = []
    for what, arm in (("Scratch-E", "lr0.01+scratch-e"), ("TPP", "lr0.01+tpp")):
        parts = []
        for config, summary in zip(points, summaries):
            if {arm, "lr0.01"} <= set(summary["arms"]):
                e = pair(summary, arm, "lr0.01")
                parts.append(f"{name(config)}: {pts(e, greater(e))}")
        if parts:
            lines.append(f"- {what} − L1 at LR 0.01 ({arm} − lr0.01), point by point: " + "; ".join(parts) + ".")
    return lines


def layer_table(summary):
    """States × layers: the mean (s − 1)² of each layer's local Jacobian; and the line naming the layer furthest
    from isometry after pruning and what each arm does to it (MLPs only: `minidi.measure.layerspectra`)."""
    layers, arms = summary.get("layers"), summary["arms"]
    if not layers:
        return []
    names = [r["layer"] for r in layers["dense"]]
    states = {"dense": layers["dense"], "L1 pruned": layers["pruned"]}
    for arm, per_seed in arms.items():
        reps = [r for r in per_seed.values() if "layers" in r["epoch0"] and "layers" in r["history"][-1]]
        if reps:
            states[f"{arm} start"] = mean_layers([r["epoch0"]["layers"] for r in reps])
            states[f"{arm} end"] = mean_layers([r["history"][-1]["layers"] for r in reps])
    furthest = max(range(len(names)), key=lambda k: layers["pruned"][k]["local"]["dist_to_one"])
    what = ("each layer's local Jacobian D_l W_l over the probe set" if layers.get("kind", "mlp") == "mlp" else
            "each layer as a linear map (a conv by the 2-D FFT of its kernel, circular padding, at its input's side; "
            "BatchNorm and ReLU not included: `minidi.measure.convspectra`)")
    lines = ["", "## Where isometry breaks: per-layer spectra", "",
             f"Mean (s − 1)² of the singular values of {what} (0: an isometry), averaged over replicates; "
             "`layers_vs_epoch.png` draws it for every epoch.", "",
             "| network | " + " | ".join(names) + " | furthest |", "|---|" + "---|" * (len(names) + 1)]
    for state, rows in states.items():
        worst = max(range(len(rows)), key=lambda k: rows[k]["local"]["dist_to_one"])
        lines.append(f"| {state} | " + " | ".join(f"{r['local']['dist_to_one']:.3g}" for r in rows) + f" | {names[worst]} |")
    p, d = layers["pruned"][furthest]["local"]["dist_to_one"], layers["dense"][furthest]["local"]["dist_to_one"]
    moves = [f"{arm} {states[f'{arm} start'][furthest]['local']['dist_to_one']:.3g} → "
             f"{states[f'{arm} end'][furthest]['local']['dist_to_one']:.3g}" for arm in arms if f"{arm} start" in states]
    lines += ["", f"After L1 pruning the layer furthest from isometry is **{names[furthest]}** (mean (s−1)² {p:.3g}; "
              f"dense {d:.3g}). That layer at each arm's start → end: " + ("; ".join(moves) or "no arm measured") + "."]
    if "closed_form_max_gap" in layers:
        gap = layers["closed_form_max_gap"]
        lines.append(f"Closed form (linear network: the local singular values are those of W_l restricted to the kept "
                     f"units; true by construction): largest gap between measured and closed-form mean/min/max "
                     f"{gap:.2g} < 1e-6: {check(gap < 1e-6)}.")
    return lines


def mean_layers(group):
    """The per-layer summaries of several replicates, averaged value by value."""
    return [{part: {k: float(np.mean([g[i][part][k] for g in group])) for k in group[0][i][part]}
             for part in ("local", "product") if part in group[0][i]} | {"layer": group[0][i]["layer"]}
            for i in range(len(group[0]))]
