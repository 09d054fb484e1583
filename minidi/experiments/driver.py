"""The one driver of every study: check, run the grid of cells, write the report; and sweeps of any study.

A study is a package `minidi.experiments.<name>` with the same three parts (see docs/grid.md):
    spec.py     `configure(**options)` → the resolved, checked configuration; `grid(config)` → (groups, cells);
                `point_name(config)`, the name of a sweep point's folder
    cells.py    the cell functions (`fn(config, folder, deps, context) -> dict`)
    report.py   `claims(...)`: pure functions that compute each claim line from the results; `write_report(
                out_dir, config, groups, folders, seconds)` → summary, writing the CSVs, report.md and figures
and its `__init__` names them: NAME, configure, grid, point_name, write_report, and optionally warnings(summary)
(lines printed as `Warning: ...` after the run).

`run(study, config, out_dir, ...)` runs one configuration; `sweep(study, points, out_dir, ...)` runs the cells of
several configurations as one grid (shared cells once), each point's report in out_dir/<point name>/, and a
report.md of the claim lines of every point at the top. Both write the merged cells.csv.
"""
import itertools
import os
import time

import click

from ..lab import grid, provenance
from ..backend import resolve_device
from ..errors import MinidiError
from ..lab.executors import Runner
from ..files import read_json, write_text
from ..lab.rundir import check_folder_path, check_run_dir, locked, write_config
from . import compat
from .studydata import cache_root, study_data


def echo(quiet):
    return (lambda msg: None) if quiet else (lambda msg: click.echo(msg, err=True))


def points_of(study, lists, fixed):
    """Every combination of the values in `lists` ({option: [values]}) with the `fixed` options: configurations."""
    names = list(lists)
    combos = list(itertools.product(*lists.values()))
    points = [study.configure(**fixed, **dict(zip(names, values))) for values in combos]
    folders = [study.point_name(p) for p in points]
    twice = next((f for f in folders if folders.count(f) > 1), None)
    if twice is not None:
        same = [", ".join(f"{n}={v!r}" for n, v in zip(names, values) if len(lists[n]) > 1)
                for values, f in zip(combos, folders) if f == twice]
        raise MinidiError(f"the sweep names one point twice: {' and '.join(same)} give the same folder {twice!r} "
                          "(folder names keep 6 significant digits): give values that differ there, each once")
    return points


def check_data(points, device, data_dir):
    """The data are there, and the probe and the batch fit in the training set (before anything is written)."""
    for p in points:
        data = study_data(p, {"device": device, "data_dir": data_dir})
        for split in ("train", "test"):
            n, have = p.get(f"{split}_samples"), len(data[split][1])
            if n is not None and n > have:
                raise MinidiError(f"--{split}-samples {n} is more than the {split} set holds ({have} images): give at "
                                  f"most {have}")
        n_train = min(len(data["train"][1]), p.get("train_samples") or len(data["train"][1]))   # the cells' subset
        for what, n in (("--probe", p.get("probe", 1)), ("batch size", p.get("batch_size", 1))):
            if n > n_train:
                raise MinidiError(f"{what} {n} is larger than the training set the cells use ({n_train} images): give "
                                  f"at most {n_train}")


def execute(study, points, out_dir, folder_config, subfolders, device=None, data_dir=None, resume=False,
            quiet=False, cache=None, workers=None, scheduler=None, worker_threads=1, rerun=False):
    """Check everything, write the folder's config.json, run the grid of all `points`, write each point's report
    and cells.csv; returns the summaries. seconds = {"wall": this invocation, "compute": the sum of every cell's
    own time, from its result.json, whichever run computed it}."""
    device = resolve_device(device)
    if not out_dir:
        raise MinidiError("--out is empty: give a folder")
    if cache is not None:
        check_folder_path(cache, "--cache")
    check_run_dir(out_dir, folder_config, resume, upgrade=lambda saved: compat.upgraded(study, saved))
    if getattr(study, "NEEDS_DATA", True):
        check_data(points, device, data_dir)
    # absolute before any cell is submitted: workers elsewhere (a Dask cluster) must write where we read
    out_dir, cache = os.path.abspath(out_dir), os.path.abspath(cache_root(cache))
    data_dir = os.path.abspath(data_dir) if data_dir else data_dir
    with locked(out_dir):
        with provenance.recorded(out_dir, device) as made:
            summaries = _execute(study, points, out_dir, folder_config, subfolders, device, data_dir, quiet, cache,
                                 workers, scheduler, worker_threads, rerun)
        entry = made["entry"]
        reports = [os.path.join(out_dir, study.point_name(p), "report.md") for p in points] if subfolders else \
            [os.path.join(out_dir, "report.md")]
        for path in reports:
            stamp(path, provenance.line(entry))
        return summaries


def stamp(report, text):
    """Put `text` (the provenance line) under the title of a report.md."""
    lines = open(report, encoding="utf-8").read().split("\n")
    write_text(report, "\n".join(lines[:1] + ["", text] + lines[1:]))


def write_reports(study, where, config, groups, folders, seconds, device):
    """The study's report in `where`; if writing it fails half way, report.md says so in its first line (the
    figures and tables already written are not those of a finished run), and the error goes on."""
    try:
        return study.write_report(where, config, groups, folders, seconds, device)
    except Exception as exc:
        write_text(os.path.join(where, "report.md"), f"# INCOMPLETE: the report failed while it was written "
                   f"({type(exc).__name__}: {exc}); nothing in this folder is a finished report\n")
        raise


def _execute(study, points, out_dir, folder_config, subfolders, device, data_dir, quiet, cache, workers, scheduler,
             worker_threads, rerun):
    runner = Runner(workers, scheduler, worker_threads)               # a scheduler that does not answer fails here
    try:
        write_config(out_dir, folder_config)
        t0 = time.perf_counter()
        grids = [study.grid(p) for p in points]
        every = [c for _, cells in grids for c in cells]
        folders = grid.run(every, out_dir, cache, {"device": device, "data_dir": data_dir},
                           quiet=quiet, rerun=rerun, runner=runner)
    finally:
        runner.close(abort=True)                                      # a no-op when grid.run has closed it
    summaries = []
    for config, (groups, cells) in zip(points, grids):
        where = os.path.join(out_dir, study.point_name(config)) if subfolders else out_dir
        os.makedirs(where, exist_ok=True)
        compute = sum(read_json(os.path.join(folders[c.key], grid.RESULT))["seconds"] for c in cells)
        seconds = {"wall": time.perf_counter() - t0, "compute": compute}
        summaries.append(write_reports(study, where, config, groups, folders, seconds, device))
    grid.write_cells_csv(os.path.join(out_dir, "cells.csv"), every, folders, out_dir, cache)
    for summary in summaries:
        for line in getattr(study, "warnings", lambda s: [])(summary):
            echo(quiet)(f"Warning: {line}")
    echo(quiet)(f"done in {time.perf_counter() - t0:.1f} s: {out_dir}")
    return summaries


def run(study, config, out_dir, **runner):
    """Run one configuration of `study` into `out_dir`; returns the report's summary."""
    return execute(study, [config], out_dir, config, False, **runner)[0]


def sweep(study, lists, fixed, out_dir, **runner):
    """The grid of every combination of `lists` with `fixed` options; returns the summaries, one per point."""
    points = points_of(study, lists, fixed)
    summaries = execute(study, points, out_dir, {"sweep": study.NAME, "points": points}, True, **runner)
    write_sweep_report(study, out_dir, points, summaries, [k for k, v in sorted(lists.items()) if len(v) > 1])
    last = read_json(os.path.join(out_dir, provenance.FILE))["invocations"][-1]
    stamp(os.path.join(out_dir, "report.md"), provenance.line(last))
    return summaries


def write_sweep_report(study, out_dir, points, summaries, swept):
    """report.md of a sweep: per point, the swept values, its claim lines and a link to its own report."""
    lines = [f"# Sweep of the {study.NAME} study", "",
             f"{len(points)} grid point(s) over {', '.join(swept)}. Each point's full report is in its folder; "
             "`cells.csv` lists every cell.", ""]
    lines += getattr(study, "sweep_table", lambda p, s: [])(points, summaries)
    for config, summary in zip(points, summaries):
        name = study.point_name(config)
        lines += [f"## {name}", "", f"[report]({name}/report.md)", ""] + list(summary.get("claims", [])) + [""]
    write_text(os.path.join(out_dir, "report.md"), "\n".join(lines).rstrip() + "\n")
