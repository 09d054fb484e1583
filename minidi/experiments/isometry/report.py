"""The core study's report: the summary of its cells' results, summary.json, the CSV tables, report.md and
the figures. Every claim line (`claims`) is computed from the measured numbers; nothing is written in advance.
"""
import os

import numpy as np

from ...lab import grid
from .. import plots
from ...files import load_npz, save_npz, write_csv, write_json, write_text
from ..stats import mean_std
from .claims import acc_curve, by_pr_lines, claims, jsv_curve, layer_table, mean_layers, mean_over_seeds
from .prediction import predicted_at_init, predicted_density, theory_lines
from .products import mean_products, products_figure, products_lines
from .protocol import RECIPES
from .spec import point_name


STATS = ("mean", "std", "std_over_mean", "min", "max", "cond", "dist_to_one")


def _band_over_seeds(per_seed, fn):
    """[(epoch, mean − std, mean + std)] across replicates (sample std; None with one replicate)."""
    curves = [fn(r) for r in per_seed.values()]
    if len(curves) < 2:
        return None
    out = []
    for i in range(len(curves[0])):
        values = [c[i][1] for c in curves]
        m, s = float(np.mean(values)), float(np.std(values, ddof=1))
        out.append((curves[0][i][0], m - s, m + s))
    return out


def write_outputs(out_dir, summary, spectra):
    write_json(os.path.join(out_dir, "summary.json"), summary)
    save_npz(os.path.join(out_dir, "singular_values.npz"), spectra)
    write_csv(os.path.join(out_dir, "jsv_vs_pr.csv"), [
        {"pr": r["pr"], "widths": "-".join(map(str, r["widths"])), "test_acc": r["test_acc"],
         **{f"pruned_{k}": r["pruned"][k] for k in STATS}, **{f"orthp_{k}": r["orthp"][k] for k in STATS}}
        for r in summary["sweep"]])
    rows = []
    for arm, per_seed in summary["arms"].items():
        for rep, res in per_seed.items():
            who = {"arm": arm, "replicate": rep, "pretrain_seed": res.get("pretrain_seed", 0),
                   "finetune_seed": res.get("finetune_seed", 0)}
            rows.append({**who, "epoch": 0, "lr": "", "train_loss": "", "test_acc": res["epoch0"]["test_acc"],
                         **{f"jsv_{k}": res["epoch0"]["jsv"][k] for k in STATS}})
            for r in res["history"]:
                rows.append({**who, "epoch": r["epoch"] + 1, "lr": r["lr"], "train_loss": r["train_loss"],
                             "test_acc": r["test_acc"], **{f"jsv_{k}": r[f"jsv_{k}"] for k in STATS}})
    write_csv(os.path.join(out_dir, "history.csv"), rows)
    figures = draw(out_dir, summary, spectra)
    write_text(os.path.join(out_dir, "report.md"), report(summary, figures))


def draw(out_dir, summary, spectra):
    c = summary["config"]
    name = f"{c['model']}, PR {c['pr']}"
    figures = {
        "mean JSV vs pruning ratio": plots.jsv_vs_pr(summary["sweep"], os.path.join(out_dir, "jsv_vs_pr.png"), c["model"],
                                                     [predicted_at_init(c["model"], r["widths"]) for r in summary["sweep"]]),
        "singular values before/after pruning and OrthP": plots.sv_histogram(
            spectra, os.path.join(out_dir, "sv_hist.png"), name, predicted_density(c["model"], next(
                (r["widths"] for r in summary["sweep"] if r["pr"] == 0), None))),
    }
    if summary["arms"]:
        arms = summary["arms"]
        jsv_series = {arm: mean_over_seeds(s, jsv_curve) for arm, s in arms.items()}
        acc_series = {arm: mean_over_seeds(s, acc_curve) for arm, s in arms.items()}
        figures["mean JSV during finetuning"] = plots.curves(
            jsv_series, "jsv", os.path.join(out_dir, "jsv_vs_epoch.png"), "mean JSV", name, log=True,
            bands={arm: _band_over_seeds(s, jsv_curve) for arm, s in arms.items()})
        figures["test accuracy during finetuning"] = plots.curves(
            acc_series, "acc", os.path.join(out_dir, "acc_vs_epoch.png"), "test accuracy", name,
            bands={arm: _band_over_seeds(s, acc_curve) for arm, s in arms.items()})
    maps = layer_maps(summary) if summary.get("layers") else {}
    if maps:
        figures["per-layer distance from isometry during finetuning"] = plots.layer_heatmaps(
            maps, [r["layer"] for r in summary["layers"]["dense"]], os.path.join(out_dir, "layers_vs_epoch.png"), name)
    if summary.get("products"):
        figures["partial products along the network"] = products_figure(
            summary["products"], os.path.join(out_dir, "products.png"), name)
    if summary["curvature"]:
        figures["curvature beside the Jacobian"] = plots.lens_bars(
            summary["curvature"], ("top_eigenvalue", "trace", "jsv_mean"),
            ("top Hessian eigenvalue", "Hessian trace", "mean JSV"), os.path.join(out_dir, "curvature.png"), name)
    return figures


def _checkpoints(epochs):
    return sorted({e for e in (0, 1, 5, 10, 90, epochs) if e <= epochs})


def report(summary, figures):
    c, pre = summary["config"], summary["pretrained"]
    epochs = c["finetune_epochs"]
    marks = _checkpoints(epochs)
    n_pre, n_ft = c["seeds"], c.get("finetune_seeds", 1)
    accs = pre["final_test_acc_per_seed"]
    dense = (f"test accuracy {accs[0]:.4f}" if n_pre == 1 else
             f"{n_pre} independent pretrainings (seeds 0–{n_pre - 1}), test accuracy "
             f"{mean_std(accs)[0]:.4f} ± {mean_std(accs)[1]:.4f} ({', '.join(f'{a:.4f}' for a in accs)})")
    finetune = (f"Finetuning: {epochs} epochs, PR {c['pr']} → widths {summary['widths']}, "
                f"{n_pre * n_ft} replicate(s) per arm ({n_pre} pretraining(s) × {n_ft} finetuning data order(s)). "
                if summary["arms"] else "Sweep only (no finetuning arms). ")
    band = " ± std over pretrainings" if n_pre > 1 else ""
    lines = [f"# Dynamical isometry and pruning: {c['model']}", "", protocol_line(c),
             f"Dense model: {summary['pretrain_epochs']} epochs of pretraining, {dense}. " + finetune +
             f"Device: {summary['device']}. This command: {summary['seconds']:.1f} s; the cells' own compute time: "
             f"{summary.get('compute_seconds', summary['seconds']):.1f} s.", "",
             "## (a) Mean JSV against the pruning ratio", "",
             f"| PR | widths | test acc after pruning | mean JSV{band} | std | cond | mean JSV after OrthP | "
             "max abs(s−1) after OrthP |", "|---|---|---|---|---|---|---|---|"]
    for r in summary["sweep"]:
        spread = f" ± {r['pruned_mean_std']:.2g}" if n_pre > 1 else ""
        lines.append(f"| {r['pr']} | {'-'.join(map(str, r['widths']))} | {r['test_acc']:.4f} | "
                     f"{r['pruned']['mean']:.4g}{spread} | {r['pruned']['std']:.3g} | {r['pruned']['cond']:.3g} | "
                     f"{r['orthp']['mean']:.6g} | {r['orthp_max_abs_dev']:.2g} |")
    lines += theory_lines(c, summary)
    if summary["arms"]:
        lines += ["", f"## (b) Finetuning at PR {c['pr']}", "",
                  "| arm | replicates | epochs | best test acc | last-5 mean ± std across replicates | per replicate | "
                  + " | ".join(f"mean JSV @ {e}" for e in marks) + " |",
                  "|---|---|---|---|---|---|" + "---|" * len(marks)]
    for arm, per_seed in summary["arms"].items():
        best = np.mean([r["best_test_acc"] for r in per_seed.values()])
        lasts = [r["last5_mean"] for r in per_seed.values()]
        last, spread = mean_std(lasts)
        curve = dict(mean_over_seeds(per_seed, jsv_curve))
        n_epochs = len(next(iter(per_seed.values()))["history"])
        lines.append(f"| {arm} | {len(lasts)} | {n_epochs} | {best:.4f} | {last:.4f} ± {spread:.4f} | "
                     f"{', '.join(f'{v:.4f}' for v in lasts)} | " + " | ".join(f"{curve[e]:.4g}" for e in marks) + " |")
    if summary["arms"]:
        lines += ["", "Last-5 mean: the mean test accuracy of a replicate's last 5 epochs. ± is the sample std "
                  "across replicates (0 for one); accuracies and JSV are means over replicates, and the figures "
                  "draw mean ± std as a band. Epoch 0 is each arm's starting network: L1-pruned (+ OrthP / AI), the "
                  "TPP route's after its regularization phase "
                  f"({c.get('tpp_epochs') or 'a ninth of the finetuning'} epochs on the dense network) and the removal, "
                  "a scratch arm's fresh draw. Scratch-B trains longer (the epochs column)."]
    lines += ["", "## What this run shows", ""] + claims(summary) + layer_table(summary) + products_lines(summary.get("products"))
    lines += curvature_lines(summary) if summary["curvature"] else []
    lines += ["", "## Figures", ""]
    lines += [f"- {title}: `{os.path.basename(path)}`" for title, path in figures.items()]
    lines += [""] + [f"![{title}]({os.path.basename(path)})" for title, path in figures.items()]
    return "\n".join(lines) + "\n"


def protocol_line(c):
    """Which recipe, data and pruned layers the run used (`protocol.py`), in one line above the numbers."""
    recipe = c.get("recipe", "mnist")
    r = RECIPES[recipe]
    subset = "".join(f", the first {c[k]} {k.split('_')[0]} images" for k in ("train_samples", "test_samples") if c.get(k))
    return (f"Protocol: the {recipe.upper() if recipe == 'mnist' else 'CIFAR'} recipe (`minidi/experiments/isometry/"
            f"protocol.py`) on {c.get('dataset', 'mnist')}{subset}: batch {c['batch_size']}, weight decay "
            f"{c['weight_decay']:g}, {'crop + flip' if c.get('augment') else 'no augmentation'}; LR tables "
            f"{r['pretrain_table']} (pretraining, over {r['pretrain_base']} epochs) and {r['tables']['lr0.01']} / "
            f"{r['tables']['lr0.001']} (finetuning, over {r['base']}), scaled to the run.\n")


def write_report(out_dir, config, groups, folders, seconds, device):
    """The study's summary from its cells' results, then summary.json, the CSVs, report.md and the figures;
    seconds: {"wall": this invocation, "compute": the cells' own time}."""
    result = lambda cell: grid.result_of(cell, folders)  # noqa: E731
    pre = [result(c) for c in groups["pretrain"]]
    sweeps = [result(c) for c in groups["sweep"]]
    arms = {}
    for (arm, s, f), cell in groups["finetune"].items():
        arms.setdefault(arm, {})[str(len(arms.get(arm, {})))] = {**result(cell), "pretrain_seed": s, "finetune_seed": f}
    spectra = load_npz(os.path.join(folders[groups["sweep"][0].key], "singular_values.npz"))
    summary = dict(config=config, device=device, pretrained=_mean_pretrained(pre), compute_seconds=seconds["compute"], dense_jsv=sweeps[0]["dense_jsv"],
                   dense_jsv_per_seed=[r["dense_jsv"]["mean"] for r in sweeps], linear=sweeps[0]["linear"],
                   sweep=_mean_sweep([r["sweep"] for r in sweeps]), sweep_per_seed=[r["sweep"] for r in sweeps], arms=arms,
                   widths=sweeps[0]["widths"], seconds=seconds["wall"], pretrain_epochs=groups["pretrain"][0].config["epochs"],
                   curvature=mean_curvature([result(c)["curvature"] for c in groups["curvature"]]) if groups["curvature"] else {},
                   layers=mean_layer_cells([result(c)["layers"] for c in groups.get("layers", [])]),
                   products=mean_products([result(c)["products"] for c in groups.get("products", [])]))
    write_outputs(out_dir, summary, spectra)
    return summary


def mean_layer_cells(per_seed):
    """The layers cells' results averaged over replicates ({} when the model has none: not an MLP)."""
    if not per_seed:
        return {}
    out = {state: mean_layers([r[state] for r in per_seed]) for state in ("dense", "pruned")}
    out["kind"] = per_seed[0].get("kind", "mlp")
    if "closed_form_max_gap" in per_seed[0]:
        out["closed_form_max_gap"] = float(max(r["closed_form_max_gap"] for r in per_seed))
    return out


def layer_maps(summary):
    """{arm: (layers × epochs) array of the local mean (s − 1)², epoch 0 = the start}, averaged over replicates
    (arms whose cells hold no per-layer spectra are left out)."""
    maps = {}
    for arm, per_seed in summary["arms"].items():
        reps = [r for r in per_seed.values() if "layers" in r["epoch0"] and all("layers" in h for h in r["history"])]
        if reps:
            maps[arm] = np.mean([[[row["local"]["dist_to_one"] for row in rows]
                                  for rows in [r["epoch0"]["layers"]] + [h["layers"] for h in r["history"]]]
                                 for r in reps], axis=0).T
    return maps


def mean_curvature(per_seed):
    """{state: {top_eigenvalue, trace, jsv_mean: mean over replicates; *_std: their sample std}}."""
    out = {}
    for state in per_seed[0]:
        row = {}
        for key in ("top_eigenvalue", "trace", "jsv_mean"):
            row[key], row[f"{key}_std"] = mean_std([r[state][key] for r in per_seed])
        se = [r[state]["trace_se"] for r in per_seed]                  # null: one probe gives no standard error
        row["trace_se"] = float(np.mean(se)) if None not in se else None
        out[state] = row
    return out


def curvature_lines(summary):
    """The curvature lens's table (not a claim of the paper): the Hessian beside the Jacobian, per state."""
    curv = summary["curvature"]
    lines = ["", "## The curvature lens (not a claim of the paper)", "",
             f"Loss Hessian on the probe set (weights only; {len(summary['dense_jsv_per_seed'])} replicate(s)): top "
             "eigenvalue by Lanczos, trace by Hutchinson (± its standard error, averaged over replicates), beside the "
             "mean JSV of the same network. `docs/theory_to_code.md` says what each adds.", "",
             "| network | top eigenvalue | trace | mean JSV |", "|---|---|---|---|"]
    for state, r in curv.items():
        lines.append(f"| {state} | {r['top_eigenvalue']:.4g} ± {r['top_eigenvalue_std']:.2g} | {r['trace']:.4g} "
                     f"(se {'n/a' if r['trace_se'] is None else format(r['trace_se'], '.2g')}) | {r['jsv_mean']:.4g} |")
    d, p = curv["dense"], curv["pruned"]
    lines += ["", f"Pruning moves the top eigenvalue {d['top_eigenvalue']:.3g} → {p['top_eigenvalue']:.3g} and the "
              f"trace {d['trace']:.3g} → {p['trace']:.3g} (mean JSV {d['jsv_mean']:.3g} → {p['jsv_mean']:.3g}); "
              f"after OrthP {curv['orthp']['top_eigenvalue']:.3g} and {curv['orthp']['trace']:.3g}."]
    return lines


def _mean_pretrained(results):
    accs = [r["final_test_acc"] for r in results]
    return {"final_test_acc": float(np.mean(accs)), "final_test_acc_per_seed": accs,
            "seconds": float(sum(r["seconds"] for r in results))}


def _number(value):
    """A statistic read back from JSON: null stands for a non-finite value (an infinite condition number)."""
    return float("inf") if value is None else value


def _mean_sweep(sweeps):
    """The sweep rows averaged over replicates (stat by stat); `pruned_mean_std`: the spread of the mean JSV."""
    rows = []
    for i, first in enumerate(sweeps[0]):
        group = [s[i] for s in sweeps]
        row = {"pr": first["pr"], "widths": first["widths"],
               "test_acc": float(np.mean([r["test_acc"] for r in group])),
               "orthp_max_abs_dev": float(max(r["orthp_max_abs_dev"] for r in group))}
        for part in ("pruned", "orthp"):
            row[part] = {k: float(np.mean([_number(r[part][k]) for r in group])) for k in first[part]}
        row["pruned_mean_std"] = float(np.std([r["pruned"]["mean"] for r in group], ddof=1)) if len(group) > 1 else 0.0
        rows.append(row)
    return rows


def sweep_table(points, summaries):
    """The sweep's table: per point and arm, last-5 accuracy mean ± std across replicates and the final JSV."""
    lines = ["One row per point and arm. Last-5: a replicate's mean test accuracy over its last 5 epochs; ± is the "
             "sample std across replicates.", "",
             "| model | PR | epochs | arm | replicates | last-5 mean ± std | per replicate | final mean JSV | report |",
             "|---|---|---|---|---|---|---|---|---|"]
    for config, summary in zip(points, summaries):
        name = point_name(config)
        for arm, reps in summary["arms"].items():
            lasts = [r["last5_mean"] for r in reps.values()]
            m, s = mean_std(lasts)
            jsv_end = np.mean([r["final_jsv_mean"] for r in reps.values()])
            lines.append(f"| {config['model']} | {config['pr']:g} | {config['epochs']} | {arm} | {len(lasts)} | "
                         f"{m:.4f} ± {s:.4f} | {', '.join(f'{v:.4f}' for v in lasts)} | {jsv_end:.4g} | "
                         f"[{name}]({name}/report.md) |")
        if not summary["arms"]:
            lines.append(f"| {config['model']} | {config['pr']:g} | {config['epochs']} | (sweep only) | | | | | "
                         f"[{name}]({name}/report.md) |")
    return lines + [""] + by_pr_lines(points, summaries, point_name)
