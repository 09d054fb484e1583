"""The core study's claim lines, each computed from the run's summary (pure functions: a summary in, lines of
markdown out); a claim whose arms were not run is left out, never guessed. The paper's claims end **yes** /
**no** (as since the first version of this report), the claims this study adds end **held** / **not held**.
"""
import numpy as np

from ..stats import mean_std, verdict

yes = lambda b: "**yes**" if b else "**no**"  # noqa: E731


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


def _acc(summary, arm):
    m, s = last5(summary, arm)
    return f"{arm} {m:.4f} ± {s:.4f}"


def claims(summary):
    """Every claim line this run can check: the paper's, then the value of pruning, then the recovery routes."""
    return paper_claims(summary) + value_of_pruning(summary) + recovery_routes(summary)


def paper_claims(summary):
    sweep, arms = summary["sweep"], summary["arms"]
    means = [r["pruned"]["mean"] for r in sweep]
    monotone = all(a > b for a, b in zip(means, means[1:]))
    dense = summary["dense_jsv"]["mean"]
    dev = max(r["orthp_max_abs_dev"] for r in sweep)
    caveat = "" if summary.get("linear") else "; OrthP guarantees this only for linear networks"
    lines = [f"- Dense mean JSV well above 1: {yes(dense > 1.5)} (mean JSV {dense:.3g}).",
             f"- Mean JSV falls monotonically with PR: {yes(monotone)} ({' → '.join(f'{m:.3g}' for m in means)}; "
             f"PR {sweep[-1]['pr']} is {means[0] / means[-1]:.3g}× below PR {sweep[0]['pr']})."]
    orth = next((a for a in ("lr0.01+orthp", "lr0.001+orthp") if a in arms), None)
    if orth:
        o = next(iter(arms[orth].values()))["epoch0"]["jsv"]
        lines.append(f"- After OrthP every JSV equals 1: max abs(s−1) over the sweep {dev:.2g}; at PR "
                     f"{summary['config']['pr']} mean {o['mean']:.6g}, min {o['min']:.6g}, max {o['max']:.6g} "
                     f"({yes(dev < 1e-4)} within 1e-4{caveat}).")
    else:
        lines.append(f"- After OrthP every JSV equals 1: max abs(s−1) over the sweep {dev:.2g} "
                     f"({yes(dev < 1e-4)} within 1e-4{caveat}).")
    if {"lr0.01", "lr0.001"} <= set(arms):
        curve = {a: dict(mean_over_seeds(arms[a], jsv_curve)) for a in ("lr0.01", "lr0.001")}
        at = [e for e in (1, 5, 10) if e in curve["lr0.01"]]
        faster = all(curve["lr0.01"][e] > curve["lr0.001"][e] for e in at)
        lines.append(f"- LR 0.01 recovers mean JSV faster than LR 0.001: {yes(faster)} (epochs {at}: "
                     + ", ".join(f"{curve['lr0.01'][e]:.3g} vs {curve['lr0.001'][e]:.3g}" for e in at) + ").")
        line = (f"- Final accuracy (last-5 mean): LR 0.01 beats LR 0.001 without OrthP: "
                f"{yes(last5(summary, 'lr0.01')[0] > last5(summary, 'lr0.001')[0])} "
                f"({_acc(summary, 'lr0.01')}, {_acc(summary, 'lr0.001')})")
        if {"lr0.01+orthp", "lr0.001+orthp"} <= set(arms):
            held = last5(summary, "lr0.001+orthp")[0] >= last5(summary, "lr0.01+orthp")[0] - 0.001
            line += (f"; with OrthP, LR 0.001 matches or beats LR 0.01 (within 0.1 points): {yes(held)} "
                     f"({_acc(summary, 'lr0.001+orthp')}, {_acc(summary, 'lr0.01+orthp')})")
        lines.append(line + ".")
    return lines


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
        parts = [f"{what}: {_acc(summary, a)} vs {_acc(summary, best_scratch)} "
                 f"({100 * (last5(summary, a)[0] - last5(summary, best_scratch)[0]):+.2f} points)" for what, a in inherited]
        held = all(last5(summary, a)[0] > last5(summary, best_scratch)[0] for _, a in inherited)
        lines.append(f"- The value of pruning: inherited weights whose isometry is repaired (by LR 0.01, by OrthP) "
                     f"beat the pruned widths trained from scratch for the same epochs (the better Scratch-E): "
                     f"{verdict(held)} ({'; '.join(parts)}).")
    pairs = [(a, a + "+scratch-e") for a in ("lr0.01", "lr0.001")]
    if all(a in arms and b in arms for a, b in pairs):
        gap = {a: last5(summary, a)[0] - last5(summary, b)[0] for a, b in pairs}
        parts = [f"LR {a[2:]}: {_acc(summary, a)} vs {_acc(summary, b)} ({100 * gap[a]:+.2f} points)" for a, b in pairs]
        lines.append(f"- The finetuning LR decides the value of pruning: inheriting's lead over Scratch-E at "
                     f"the same LR is larger at LR 0.01 than at LR 0.001 (the paper's reading: the small LR "
                     f"repairs isometry slowly): {verdict(gap['lr0.01'] > gap['lr0.001'])} ({'; '.join(parts)}).")
    budget = [a for a in ("lr0.01+scratch-b", "lr0.001+scratch-b") if a in arms]
    if budget and "lr0.01" in arms:
        eb = next(iter(arms[budget[0]].values()))["history"]
        best_b = max(budget, key=lambda a: last5(summary, a)[0])
        held = last5(summary, "lr0.01")[0] > last5(summary, best_b)[0]
        lines.append(f"- Inherited at LR 0.01 ({summary['config']['finetune_epochs']} epochs) beats Scratch-B, the "
                     f"pruned widths trained for {len(eb)} epochs (the dense pretraining's FLOPs, capped at "
                     f"{summary['config'].get('scratch_b_cap', 2):g}× ): {verdict(held)} ({_acc(summary, 'lr0.01')} vs "
                     f"{_acc(summary, best_b)}).")
    return lines


def recovery_routes(summary):
    """AI and TPP (the remedies for nonlinear networks) against plain L1 at the same LR."""
    arms, lines = summary["arms"], []
    for lr in ("lr0.001", "lr0.01"):
        routes = [a for a in (f"{lr}+ai", f"{lr}+tpp") if a in arms]
        if lr not in arms or not routes:
            continue
        start = {a: float(np.mean([r["epoch0"]["jsv"]["mean"] for r in arms[a].values()])) for a in [lr] + routes}
        base = last5(summary, lr)[0]
        for a in routes:
            held = last5(summary, a)[0] > base
            lines.append(f"- {a.split('+')[1].upper()} at LR {lr[2:]} beats plain L1 at that LR: {verdict(held)} "
                         f"({_acc(summary, a)} vs {_acc(summary, lr)}; mean JSV at the start {start[a]:.3g} vs "
                         f"{start[lr]:.3g}).")
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
    lines = ["", "## Where isometry breaks: per-layer spectra", "",
             "Mean (s − 1)² of the singular values of each layer's local Jacobian D_l W_l over the probe set (0: "
             "an isometry), averaged over replicates; `layers_vs_epoch.png` draws it for every epoch.", "",
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
                     f"units): largest gap between measured and closed-form mean/min/max {gap:.2g} "
                     f"({yes(gap < 1e-6)} within 1e-6).")
    return lines


def mean_layers(group):
    """The per-layer summaries of several replicates, averaged value by value."""
    return [{part: {k: float(np.mean([g[i][part][k] for g in group])) for k in group[0][i][part]}
             for part in ("local", "product")} | {"layer": group[0][i]["layer"]} for i in range(len(group[0]))]
