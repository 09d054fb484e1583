"""The pruning-at-initialization study's report: summary.json, accuracy.csv, layers.csv, report.md, figures.

Every claim line is computed from the run's numbers (`claims`): the effect over replicates paired by seed, its
95 % t interval and a verdict held / not held / undecided (`experiments.stats`); "≈" and "≥" of accuracies are
judged against a practical margin of half a point (`ACC_MARGIN`).
"""
import os

import numpy as np

from ...lab import grid
from ...files import load_npz, write_csv, write_json, write_text
from .figures import draw
from ...nn.checks import is_prunable
from ...prune.layerstats import flat_weights, wd_ratios
from ..stats import (HELD, NOT_HELD, UNDECIDED, bold, combine, effect, equivalent, greater, judged,
                     at_least, mean_std, paired)

ACC_MARGIN = 0.005          # "≈" and "≥" of accuracies: within half a point
from .cells import CONTROL

PAI = ("magnitude", "snip", "grasp", "synflow")          # the methods the claims are about


def write_report(out_dir, config, groups, folders, seconds, device=None):
    """Read every cell's result, compute the tables and claims, write the files; returns the summary."""
    result = lambda cell: grid.result_of(cell, folders)  # noqa: E731
    c = config
    methods = c["methods"] + ([CONTROL] if c["control"] else [])
    acc, curves, train = {}, {}, {}
    for (m, sp, v, s), cell in groups["train"].items():
        r = result(cell)
        train[(m, sp, v, s)] = r
        acc.setdefault((m, sp, v), []).append(r["final_test_acc"])
        curves.setdefault((m, sp, v), []).append([r["jsv_init"]["mean"]] + [h["jsv_mean"] for h in r["history"]])
    dense = [result(cell) for cell in groups["dense"]]
    masks = {key: result(cell) for key, cell in groups["mask"].items()}
    collapse = {key: result(cell) for key, cell in groups["collapse"].items()}
    wd, wd_per_seed = _wd(c, groups, folders, methods)
    summary = dict(config=c, seconds=seconds, dense_acc=[r["final_test_acc"] for r in dense],
                   dense_jsv=[[r["jsv_init"]["mean"]] + [h["jsv_mean"] for h in r["history"]] for r in dense],
                   accuracy={f"{m}|{sp}|{v}": a for (m, sp, v), a in acc.items()},
                   jsv_curves={f"{m}|{sp}|{v}": cv for (m, sp, v), cv in curves.items()},
                   first_collapse={m: [collapse[(m, s)]["first_collapse"] for s in range(c["seeds"])] for m in c["methods"]},
                   collapsed={f"{m}|{sp}|{inv}|{s}": r["collapsed"] for (m, sp, inv, s), r in masks.items()},
                   wd_ratios=wd, wd_ratios_per_seed=wd_per_seed)
    summary["claims"] = claims(summary, c, acc, methods)
    summary["curvature"] = lens(groups, folders)
    summary["collapse_warnings"] = [f"layer collapse: {m} at sparsity {sp:g} (seed {s}{', inverted' if inv else ''}) "
                                    f"leaves no path through {', '.join(r['collapsed'])}"
                                    for (m, sp, inv, s), r in masks.items() if r["collapsed"]]
    write_json(os.path.join(out_dir, "summary.json"), summary)
    write_csv(os.path.join(out_dir, "accuracy.csv"),
              [{"method": m, "sparsity": sp, "variant": v, "seed": s, "final_test_acc": r["final_test_acc"],
                "best_test_acc": r["best_test_acc"], "jsv_mean_init": r["jsv_init"]["mean"],
                "jsv_mean_final": r["history"][-1]["jsv_mean"], "collapsed_at_init": ";".join(
                    x["name"] for x in r["init"]["layers"] if x["collapsed"])} for (m, sp, v, s), r in train.items()])
    write_csv(os.path.join(out_dir, "layers.csv"), _layer_rows(train, wd))
    figures = draw(out_dir, c, summary, acc, curves, masks, methods)
    text = report(c, summary, acc, methods, figures)
    write_text(os.path.join(out_dir, "report.md"), text)
    return summary


def _wd(c, groups, folders, methods):
    """({"method|sparsity": {"shuffle": {layer: mean ratio}, "reinit": {...}}}, the same per seed: {"method|sparsity":
    {seed: {...}}}): ratios per seed, then averaged; the reference is the global-random mask's trained network of
    the same seed and sparsity."""
    if "random" not in c["methods"]:
        return {}, {}
    out, seeds = {}, {}
    for m in methods:
        if m == "random":
            continue
        for sp in c["sparsities"]:
            per_seed, which = [], []
            for s in range(c["seeds"]):
                have = {v: groups["train"].get((m, sp, v, s)) for v in ("original", "shuffle", "reinit")}
                ref = groups["train"].get(("random", sp, "original", s))
                if ref is None or have["original"] is None:
                    continue
                load = lambda cell: load_npz(os.path.join(folders[cell.key], "model.npz"))  # noqa: E731
                orig = load(have["original"])
                names = [k for k in orig if is_prunable(k, orig[k])]
                variants = {v: flat_weights(load(cell), names) for v, cell in have.items() if v != "original" and cell}
                per_seed.append(wd_ratios(flat_weights(orig, names), variants, flat_weights(load(ref), names)))
                which.append(s)
            if per_seed:
                out[f"{m}|{sp}"] = {v: {k: float(np.mean([p[v][k] for p in per_seed])) for k in per_seed[0][v]}
                                    for v in per_seed[0]}
                seeds[f"{m}|{sp}"] = dict(zip(map(str, which), per_seed))
    return out, seeds


def _layer_rows(train, wd):
    rows = []
    for (m, sp, v, s), r in train.items():
        for layer in r["init"]["layers"]:
            name = layer["name"]
            a, b = r["init"]["stats"][name], r["stats_trained"][name]
            ratios = wd.get(f"{m}|{sp}", {})
            rows.append({"method": m, "sparsity": sp, "variant": v, "seed": s, "layer": name, "density": layer["density"],
                         "connected": layer["connected"], "collapsed": layer["collapsed"],
                         "init_mean": a["mean"], "init_std": a["std"], "init_kurtosis": a["kurtosis"],
                         "trained_mean": b["mean"], "trained_std": b["std"], "trained_kurtosis": b["kurtosis"],
                         "wd_shuffle_over_random": ratios.get("shuffle", {}).get(name, ""),
                         "wd_reinit_over_random": ratios.get("reinit", {}).get(name, "")})
    return rows


def claims(summary, c, acc, methods):
    """The note's three claims, each judged on its effect over replicates (paired by seed: the variants of one
    seed share its init and data order) by `experiments.stats`. acc: {(method, sparsity, variant): [final test
    accuracy of seed 0, 1, ...]}."""
    return [claim_variants(c, acc, methods), claim_distances(summary), claim_ranking(summary, c, acc)]


def pts(e, verdict, boundary=0.0):
    return judged(e, verdict, boundary, scale=100, unit=" pts")


def claim_variants(c, acc, methods):
    """1. Shuffle and reinit stay within a practical margin of the original mask for the PaI methods (≈); the
    control (the lottery-ticket mask) drops under both."""
    top = c["sparsities"][-1]
    found = [(m, sp, v, paired(acc[(m, sp, v)], acc[(m, sp, "original")])) for m in PAI if m in c["methods"]
             for sp in c["sparsities"] for v in ("shuffle", "reinit") if (m, sp, v) in acc]
    if not found:
        return ("1. Shuffle and reinit stay within the margin of the original for the PaI methods, the control drops: "
                "not tested (needs the shuffle or reinit variants).")
    same = [equivalent(e, ACC_MARGIN) for *_, e in found]
    worst = max(found, key=lambda f: abs(f[3].mean))
    drops = [(v, paired(acc[(CONTROL, top, "original")], acc[(CONTROL, top, v)])) for v in ("shuffle", "reinit")
             if CONTROL in methods and (CONTROL, top, v) in acc]
    verdict = combine(same + ([greater(e) for _, e in drops] if drops else [UNDECIDED]))
    counts = ", ".join(f"{same.count(x)} {x}" for x in (HELD, NOT_HELD, UNDECIDED) if same.count(x))
    return (f"1. Shuffle and reinit stay within ±{100 * ACC_MARGIN:g} points of the original mask for the PaI methods "
            f"(≈), and the control's accuracy drops under both: {bold(verdict)} (≈ per method×sparsity×variant: "
            f"{counts} of {len(same)}; the largest difference {worst[0]} {worst[1]:g} {worst[2]} − original: "
            f"{pts(worst[3], equivalent(worst[3], ACC_MARGIN), ACC_MARGIN)}; control at sparsity {top:g}: "
            + ("; ".join(f"original − {v}: {pts(e, greater(e))}" for v, e in drops) or "not run") + ").")


def claim_distances(summary):
    """2. The weight distances of shuffle/reinit to the original are below random's in most layers: per seed,
    the share of (method, sparsity, variant, layer) ratios below 1; its effect over seeds against one half."""
    per_key = {k: v for k, v in summary.get("wd_ratios_per_seed", {}).items() if k.split("|")[0] in PAI}
    seeds = sorted({s for per_seed in per_key.values() for s in per_seed})
    shares = []
    for s in seeds:
        ratios = [r for per_seed in per_key.values() if s in per_seed
                  for layers in per_seed[s].values() for r in layers.values()]
        shares.append(float(np.mean([r < 1 for r in ratios])))
    if not shares:
        return ("2. WD(orig, shuffle) and WD(orig, reinit) below WD(orig, random) in most layers: not tested "
                "(needs the random method and the shuffle or reinit variants).")
    e = effect(shares)
    return (f"2. WD(orig, shuffle) and WD(orig, reinit) below WD(orig, random) in most layers (the share of ratios "
            f"below 1, per seed, above one half): share {judged(e, greater(e, 0.5), 0.5, digits=3)}.")


def claim_ranking(summary, c, acc):
    """3. The ranking at the highest sparsity (SynFlow ≈ SNIP ≥ GraSP > random), and global magnitude at init
    collapsing a layer at a lower sparsity than every other method."""
    top = c["sparsities"][-1]
    need = [m for m in ("synflow", "snip", "grasp", "random", "magnitude") if m not in c["methods"]]
    if need:
        return f"3. SynFlow ≈ SNIP ≥ GraSP > random, magnitude collapses first: not tested (needs {', '.join(need)})."
    a = {m: acc[(m, top, "original")] for m in ("synflow", "snip", "grasp", "random")}
    eq, ge, gt = paired(a["synflow"], a["snip"]), paired(a["snip"], a["grasp"]), paired(a["grasp"], a["random"])
    first = {m: [f if f is not None else 1.0 for f in fs] for m, fs in summary["first_collapse"].items()}
    others = [min(first[m][s] for m in first if m != "magnitude") for s in range(len(first["magnitude"]))]
    lead = paired(others, first["magnitude"])                # > 0: magnitude collapses at a lower sparsity
    parts = [(f"SynFlow − SNIP (≈ within ±{100 * ACC_MARGIN:g}): ", eq, equivalent(eq, ACC_MARGIN), ACC_MARGIN),
             (f"SNIP − GraSP (≥ within {100 * ACC_MARGIN:g}): ", ge, at_least(ge, ACC_MARGIN), -ACC_MARGIN),
             ("GraSP − random (>): ", gt, greater(gt), 0.0)]
    text = "; ".join(what + pts(e, v, b) for what, e, v, b in parts)
    return (f"3. At sparsity {top:g}, SynFlow ≈ SNIP ≥ GraSP > random, and global magnitude at init collapses a "
            f"layer first: {bold(combine([v for *_, v, _ in parts] + [greater(lead)]))} ({text}; the lowest sparsity "
            f"with a collapsed layer, the other methods' lowest − magnitude's: "
            f"{judged(lead, greater(lead), digits=3)}).")


def report(c, summary, acc, methods, figures):
    variants = c["variants"]
    lines = [f"# Pruning at initialization: {c['model']} on {c['dataset']}", "",
             f"{c['seeds']} replicate(s); {c['epochs']} epochs, SGD lr {c['lr']}, momentum {c['momentum']}, "
             f"batch {c['batch_size']}, weight decay {c['weight_decay']}; masks {c['scope']}, SynFlow {c['rounds']} "
             f"rounds; wall time {summary['seconds']['wall']:.0f} s (this invocation), cells' compute time {summary['seconds']['compute']:.0f} s.", "",
             "Final test accuracy, mean ± sample std across replicates (per-replicate values in accuracy.csv). "
             f"`{CONTROL}`: magnitude pruning after training, surviving weights rewound to init (the control).", "",
             "| method | sparsity | " + " | ".join(variants) + " |", "|---|---|" + "---|" * len(variants)]
    m_d, s_d = mean_std(summary["dense_acc"])
    lines.append(f"| dense | 0 | {m_d:.4f} ± {s_d:.4f} |" + " |" * (len(variants) - 1))
    for m in methods:
        for sp in c["sparsities"]:
            cells = []
            for v in variants:
                if (m, sp, v) in acc:
                    mu, sd = mean_std(acc[(m, sp, v)])
                    cells.append(f"{mu:.4f} ± {sd:.4f}")
                else:
                    cells.append("")
            lines.append(f"| {m} | {sp:g} | " + " | ".join(cells) + " |")
    lines += ["", "## Claims (computed from this run)", ""] + summary["claims"]
    if summary["collapse_warnings"]:
        lines += ["", "## Layer collapse", ""] + [f"- {w}" for w in summary["collapse_warnings"]]
    lines += lens_lines(c, summary["curvature"]) if summary["curvature"] else []
    lines += ["", "## Figures", ""] + [f"![{t}]({os.path.basename(p)})" for t, p in figures.items()]
    return "\n".join(lines) + "\n"


# --- the curvature lens at init (not a claim of the papers) ---------------------------------------------------
def lens(groups, folders):
    """{"method|sparsity": {top_eigenvalue, trace: mean over seeds; *_std}} of the curvature cells."""
    per = {}
    for (m, sp, s), cell in groups["curvature"].items():
        per.setdefault(f"{m}|{sp}", []).append(grid.result_of(cell, folders))
    return {key: {k: v for name in ("top_eigenvalue", "trace")
                  for k, v in zip((name, f"{name}_std"), mean_std([r[name] for r in rows]))}
            for key, rows in per.items()}


def lens_lines(c, curv):
    dense = curv["dense|0.0"]
    lines = ["", "## The curvature lens at init (not a claim of the papers)", "",
             "Loss Hessian of the masked init network on its seed's scoring batch (10 examples per class, BatchNorm in "
             f"train mode): top eigenvalue (Lanczos, {c['curvature']} steps) and trace (Hutchinson, {c['curvature']} "
             "probes), mean ± std over "
             f"seeds. Dense at init: top {dense['top_eigenvalue']:.4g}, trace {dense['trace']:.4g}.", "",
             "| method | " + " | ".join(f"top eig. @ {sp:g} | trace @ {sp:g}" for sp in c["sparsities"]) + " |",
             "|---|" + "---|---|" * len(c["sparsities"])]
    for m in c["methods"]:
        cells = [f"{curv[f'{m}|{sp}']['top_eigenvalue']:.3g} ± {curv[f'{m}|{sp}']['top_eigenvalue_std']:.2g} | "
                 f"{curv[f'{m}|{sp}']['trace']:.3g}" for sp in c["sparsities"]]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return lines
