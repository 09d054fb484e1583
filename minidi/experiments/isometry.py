"""The core study (Wang et al., 2021): pruning breaks dynamical isometry, a larger finetuning LR repairs it,
and OrthP restores it exactly. Protocol: ../shared/research/dynamical_isometry.md.

The study is a grid of cells (`minidi.grid`), per replicate s = 0 .. seeds−1:
    pretrain   the dense model with the paper's recipe, seed s (shared: in the cache, reused by every study);
    sweep      (a) mean JSV against the pruning ratio: every layer but the output pruned by L1 at PR ∈ `prs`
               (also after OrthP), and the singular values at PR `pr`;
    finetune   (b) at PR = `pr`, four arms {LR 0.01, LR 0.001} × {L1, L1 + OrthP}, each with a fresh SGD,
               with the JSV statistics right after pruning/OrthP ("epoch 0") and after every epoch;
then `write_report` turns the cells' results into history (JSON, CSV), a markdown report and the figures.

Replicates: seed s sets the dense initialization, the pretraining data order and the finetuning data order
(`--seeds N`: N independent pipelines). `finetune_seeds` M > 1 adds, for each pretraining, M finetuning data
orders (seed s + 1000·f for f = 0 .. M−1): the spread that data order alone makes.

Choices where the note is silent (also in docs/theory_to_code.md): the probe set is the first 1000 training
images in file order (the first 10 batches of an unshuffled loader); `epochs` sets pretraining and finetuning
length together and scales the epoch tables proportionally (a quick version); `long` finetunes 900 epochs
with the long tables; each cell is an ordinary `fit` run folder, so an interrupted experiment resumes.
"""
import copy
import itertools
import os
import time

import numpy as np

from .. import grid, optim
from ..backend import resolve_device, to_numpy
from ..checkpoint import load_npz, read_json, save_npz, write_json
from ..data.download import atomic_write_bytes
from ..errors import MinidiError, check_number
from ..isometry import gain_for, orthp
from ..models import STUDY_LAYERS
from ..prune import parse_ratios, prune_neurons, uniform_spec
from ..prune.structured import weight_layers
from ..rundir import check_folder_path, check_run_dir, write_config
from ..schedules import parse_schedule
from ..spectrum import JSVMonitor, jsv, jsv_stats
from ..train import evaluate, fit, summarize
from .common import PAPER_TABLE, cache_root, echo, load_data, load_pretrained, pretrain, scale_table
from .isometry_report import write_outputs

DEFAULT_PR = {"mlp7-linear": 0.8, "mlp7-relu": 0.9, "lenet300-100": 0.9, "lenet5-linear": 0.9, "lenet5-relu": 0.9}
DEFAULT_PRS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9)
ARM_TABLES = {"lr0.01": PAPER_TABLE, "lr0.001": "0:0.001,45:0.0001"}   # written for 90 epochs
ARMS = ("lr0.01", "lr0.001", "lr0.01+orthp", "lr0.001+orthp")
LONG_EPOCHS = 900
FINETUNE_DEFAULTS = dict(batch_size=100, momentum=0.9, weight_decay=1e-4)


def study_config(model_name="mlp7-linear", epochs=90, long=False, seeds=1, pr=None, prs=DEFAULT_PRS, probe=1000,
                 sweep_only=False, finetune_seeds=1):
    """The study's resolved configuration, every value checked (a MinidiError names a bad one)."""
    if model_name not in DEFAULT_PR:
        raise MinidiError(f"the isometry study runs on {', '.join(DEFAULT_PR)}, not {model_name!r}")
    pr = DEFAULT_PR[model_name] if pr is None else check_number(pr, "pr", low=0, high=1, high_open=True)
    prs = parse_ratios(prs if isinstance(prs, str) else ",".join(map(str, prs)), "prs")
    epochs = check_number(epochs, "epochs", low=1, integer=True)
    return dict(study="isometry", model=model_name, epochs=epochs,
                finetune_epochs=0 if sweep_only else (LONG_EPOCHS if long else epochs),
                seeds=check_number(seeds, "seeds", low=1, integer=True),
                finetune_seeds=check_number(finetune_seeds, "finetune_seeds", low=1, integer=True),
                pr=pr, prs=prs, probe=check_number(probe, "probe", low=1, integer=True), batch_size=100,
                momentum=0.9, weight_decay=1e-4)


def cells(config):
    """The grid of one study configuration: {"pretrain": [cell per seed], "sweep": [...], "finetune": {(arm, s, f): cell}}."""
    c = config
    out = {"pretrain": [], "sweep": [], "finetune": {}}
    for s in range(c["seeds"]):
        pre = pretrain(c["model"], c["epochs"], seed=s)
        out["pretrain"].append(pre)
        out["sweep"].append(grid.Cell("minidi.experiments.isometry:sweep_cell",
                                      dict(model=c["model"], prs=c["prs"], pr=c["pr"], probe=c["probe"]),
                                      deps={"pretrain": pre}, label=f"sweep {c['model']} s{s}"))
        for arm in ARMS if c["finetune_epochs"] else ():
            for f in range(c["finetune_seeds"]):
                config_ft = dict(model=c["model"], arm=arm, pr=c["pr"], epochs=c["finetune_epochs"],
                                 seed=s + 1000 * f, probe=c["probe"], batch_size=100, momentum=0.9, weight_decay=1e-4)
                out["finetune"][(arm, s, f)] = grid.Cell(
                    "minidi.experiments.isometry:finetune_cell", config_ft, deps={"pretrain": pre},
                    defaults=FINETUNE_DEFAULTS, label=f"finetune {c['model']} {arm} s{s}" + (f" f{f}" if f else ""),
                    work=c["finetune_epochs"])
    return out


def all_cells(groups):
    return groups["pretrain"] + groups["sweep"] + list(groups["finetune"].values())


def run(model_name="mlp7-linear", out_dir="results/isometry", epochs=90, long=False, seeds=1, pr=None,
        prs=DEFAULT_PRS, device=None, data_dir=None, probe=1000, resume=False, quiet=False, cache=None,
        sweep_only=False, finetune_seeds=1, workers=None, scheduler=None, worker_threads=1, rerun=False):
    """Run the whole study into `out_dir` (cells under out_dir/cells, pretraining in the cache); returns the
    summary dict that report.md is written from. sweep_only: pretrain and measure JSV against PR only."""
    config = study_config(model_name, epochs, long, seeds, pr, prs, probe, sweep_only, finetune_seeds)
    runner = dict(workers=workers, scheduler=scheduler, worker_threads=worker_threads, rerun=rerun)
    return run_points([config], out_dir, config, device, data_dir, cache, resume, quiet, runner)[0]


def sweep(lists, out_dir="results/sweep-isometry", device=None, data_dir=None, resume=False, quiet=False,
          cache=None, workers=None, scheduler=None, worker_threads=1, rerun=False, **fixed):
    """Every combination of the values in `lists` (e.g. {"model_name": [...], "pr": [...]}) with the `fixed`
    arguments of `study_config`, as one grid: the cells of all points run together (shared cells once), each
    point's report goes to out_dir/<model>-pr<pr>-e<epochs>/, and out_dir gets cells.csv and report.md."""
    names = list(lists)
    points = [study_config(**fixed, **dict(zip(names, values))) for values in itertools.product(*lists.values())]
    keys = [(p["model"], p["pr"], p["epochs"], p["finetune_epochs"]) for p in points]
    if len(set(keys)) < len(keys):
        raise MinidiError("the sweep names one point twice: give each value once")
    folder_config = {"sweep": "isometry", "points": points}
    runner = dict(workers=workers, scheduler=scheduler, worker_threads=worker_threads, rerun=rerun)
    summaries = run_points(points, out_dir, folder_config, device, data_dir, cache, resume, quiet, runner,
                           subfolders=True)
    write_sweep_report(out_dir, points, summaries)
    return summaries


def point_name(config):
    return f"{config['model']}-pr{config['pr']:g}-e{config['epochs']}"


def run_points(points, out_dir, folder_config, device, data_dir, cache, resume, quiet, runner, subfolders=False):
    """Check everything, write the folder's config, run the grid of all `points`, write each point's report."""
    device = resolve_device(device)
    if cache is not None:
        check_folder_path(cache, "--cache")
    check_run_dir(out_dir, folder_config, resume)
    for model_name in dict.fromkeys(p["model"] for p in points):
        check_data(model_name, device, data_dir, max(p["probe"] for p in points if p["model"] == model_name))
    rerun = runner.pop("rerun", False)
    executor = grid.Runner(**runner)                      # a scheduler that does not answer fails here
    try:
        write_config(out_dir, folder_config)
        t_start = time.perf_counter()
        groups = [cells(p) for p in points]
        every = [c for g in groups for c in all_cells(g)]
        folders = grid.run(every, out_dir, cache_root(cache), {"device": device, "data_dir": data_dir}, quiet=quiet,
                           rerun=rerun, runner=executor)
    finally:
        executor.close(abort=True)                        # a no-op when grid.run has closed it
    summaries = []
    for config, group in zip(points, groups):
        where = os.path.join(out_dir, point_name(config)) if subfolders else out_dir
        os.makedirs(where, exist_ok=True)
        summaries.append(write_report(where, config, group, folders, device, time.perf_counter() - t_start))
    grid.write_cells_csv(os.path.join(out_dir, "cells.csv"), every, folders, out_dir, cache_root(cache))
    echo(quiet)(f"done in {time.perf_counter() - t_start:.1f} s: {out_dir}")
    return summaries


def write_sweep_report(out_dir, points, summaries):
    """report.md of a sweep: per point and arm, last-5 accuracy mean ± std across replicates and the final JSV."""
    from .isometry_report import mean_std
    lines = ["# Sweep of the isometry study", "", f"{len(points)} grid point(s); one row per point and arm. "
             "Last-5: a replicate's mean test accuracy over its last 5 epochs; ± is the sample std across "
             "replicates. Each point's full report is in its folder; `cells.csv` lists every cell.", "",
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
    atomic_write_bytes(os.path.join(out_dir, "report.md"), ("\n".join(lines) + "\n").encode())


def check_data(model_name, device, data_dir, probe):
    """The data are there and the probe fits in the training set (before anything is written)."""
    n_train = len(load_data(model_name, device, data_dir)["train"][1])
    if probe > n_train:
        raise MinidiError(f"--probe {probe} is larger than the training set ({n_train} images)")


def write_report(out_dir, config, groups, folders, device, seconds):
    """The study's summary from its cells' results, then summary.json, the CSVs, report.md and the figures."""
    result = lambda cell: grid.read_result(folders[cell.key])  # noqa: E731
    pre = [result(c) for c in groups["pretrain"]]
    sweeps = [result(c) for c in groups["sweep"]]
    arms = {}
    for (arm, s, f), cell in groups["finetune"].items():
        arms.setdefault(arm, {})[str(len(arms.get(arm, {})))] = {**result(cell), "pretrain_seed": s, "finetune_seed": f}
    spectra = load_npz(os.path.join(folders[groups["sweep"][0].key], "singular_values.npz"))
    compute = sum(read_json(os.path.join(folders[c.key], grid.RESULT))["seconds"] for c in all_cells(groups))
    summary = dict(config=config, device=device, pretrained=_mean_pretrained(pre), compute_seconds=compute, dense_jsv=sweeps[0]["dense_jsv"],
                   dense_jsv_per_seed=[r["dense_jsv"]["mean"] for r in sweeps], linear=sweeps[0]["linear"],
                   sweep=_mean_sweep([r["sweep"] for r in sweeps]), sweep_per_seed=[r["sweep"] for r in sweeps], arms=arms,
                   widths=sweeps[0]["widths"], seconds=seconds)
    write_outputs(out_dir, summary, spectra)
    return summary


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


# --- the cells -----------------------------------------------------------------------------------------
def _setting(model_name, context):
    device = context.get("device", "cpu")
    data = load_data(model_name, device, context.get("data_dir"))
    return device, data


def sweep_cell(config, folder, deps, context):
    """(a): for each PR, widths, test accuracy right after pruning, JSV stats after pruning and after OrthP;
    and the singular values of the dense, the pruned (at `pr`) and the OrthP'd network (singular_values.npz)."""
    device, data = _setting(config["model"], context)
    dense = load_pretrained(deps["pretrain"], device)
    x_probe = data["train"][0][:config["probe"]]
    gain, n_layers, layers = gain_for(dense), len(weight_layers(dense)), STUDY_LAYERS.get(config["model"])
    rows = jsv_vs_pr(dense, x_probe, data["test"], config["prs"], gain, n_layers, layers)
    pruned = prune_neurons(dense, uniform_spec(config["pr"], n_layers, layers))
    spectra = {"dense": to_numpy(jsv(dense, x_probe)), f"L1 pruned (PR {config['pr']})": to_numpy(jsv(pruned, x_probe)),
               "L1 pruned + OrthP": to_numpy(jsv(orthp(copy.deepcopy(pruned), gain), x_probe))}
    save_npz(os.path.join(folder, "singular_values.npz"), spectra)
    return {"sweep": rows, "dense_jsv": jsv_stats(spectra["dense"]), "dense_jsv_mean": float(spectra["dense"].mean()),
            "linear": bool(getattr(dense, "is_linear", False)), "widths": pruned.widths}


def jsv_vs_pr(dense, x_probe, test, prs, gain, n_layers, layers=None):
    """For each PR: widths, test accuracy right after pruning, JSV stats after pruning and after OrthP."""
    rows = []
    for p in prs:
        pruned = prune_neurons(dense, uniform_spec(p, n_layers, layers))
        s_orth = jsv(orthp(copy.deepcopy(pruned), gain), x_probe)
        rows.append({"pr": float(p), "widths": pruned.widths, "test_acc": evaluate(pruned, *test)[1],
                     "pruned": jsv_stats(jsv(pruned, x_probe)), "orthp": jsv_stats(s_orth),
                     "orthp_max_abs_dev": float(abs(to_numpy(s_orth) - 1).max())})
    return rows


def finetune_cell(config, folder, deps, context):
    """(b), one arm and one replicate: prune (+ OrthP), measure epoch 0, finetune with the JSV every epoch."""
    c = config
    device, data = _setting(c["model"], context)
    dense = load_pretrained(deps["pretrain"], device)
    x_probe = data["train"][0][:c["probe"]]
    layers = STUDY_LAYERS.get(c["model"])
    model = prune_neurons(dense, uniform_spec(c["pr"], len(weight_layers(dense)), layers))
    if c["arm"].endswith("+orthp"):
        orthp(model, gain_for(dense))
    start = os.path.join(folder, "jsv_epoch0.json")
    if not os.path.isfile(start):                      # the state right after pruning/OrthP (kept for resume)
        write_json(start, {"jsv": jsv_stats(jsv(model, x_probe)), "test_acc": evaluate(model, *data["test"])[1]})
    epoch0 = read_json(start)
    table = scale_table(ARM_TABLES[c["arm"].split("+")[0]], c["epochs"])
    schedule = parse_schedule(table, c["epochs"])
    opt = optim.SGD(model.parameters(), lr=schedule(0), momentum=c["momentum"], weight_decay=c["weight_decay"])
    history = fit(model, opt, schedule, data, c["epochs"], c["batch_size"], seed=c["seed"], out_dir=folder,
                  resume=True, quiet=True, callbacks=[JSVMonitor(x_probe, at_start=False)])
    return {"arm": c["arm"], "seed": c["seed"], "schedule": table, "epoch0": epoch0, "history": history,
            "final_jsv_mean": history[-1]["jsv_mean"], **summarize(history)}
