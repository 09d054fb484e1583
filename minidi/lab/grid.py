"""The grid runner: a study is a set of cells, run in this process, on a local process pool or on a Dask
cluster, resumable, each result computed once and reused.

A **cell** is one unit of work: its function `fn(config, folder, deps, context) -> dict` (the Cell holds the
function itself, so a reader or an editor follows it from the grid to its code), a resolved configuration (a
plain dict) and the cells it depends on. The function's **kind** is the name "module:function" its results
are stored under: derived from the function, or fixed by `@stored_as(...)` where the function moved after
results were computed (so old result folders are found again). Its folder is
named by a hash of the kind, of its configuration without the fields that sit at their defaults (so an option
added later, at its default, keeps old results valid) and of the hashes of its dependencies (a finetuning
cell changes when its pretraining does). So a result is computed once and found again by every study and grid
that needs it. Cells that many studies share (dense pretraining) live in the cache folder, the others under
the study's folder.

A cell is **done** when its `result.json` exists; it is written last, atomically, with the result, the cell's
configuration, its dependencies' keys, the minidi version and the wall time. A cell that raises leaves
`status.json` with its error and traceback and costs no other cell its result; the cells that need it are
skipped, and the run ends with one error naming the failed cells. Running the same grid again computes only
the cells that are not done. A change of minidi's code does not invalidate results (the version is recorded,
not hashed): `rerun=True` (`--rerun`) moves the grid's finished cell folders aside, under `.replaced/`, and
computes them again. Long cells checkpoint every epoch through `fit` and resume from it.

Runners, all through the `concurrent.futures.Executor` interface (`minidi.lab.executors.Runner`): this process (default),
a local process pool of K workers with one BLAS thread each (`workers=K`), or a Dask distributed scheduler
(`scheduler="tcp://host:port"`, the optional extra `minidi[dist]`). A cell is submitted only once the cells
it needs are done. Workers receive the cell's kind, configuration, folder and context (data folder, device)
and read everything else from disk, so on a cluster the results and cache folders must be on a filesystem
that every worker sees.
"""
import concurrent.futures as cf
import hashlib
import json
import os
import shutil
import socket
import time
import traceback

import click

from .. import __version__
from ..files import write_json
from ..errors import MinidiError
from ..train.callbacks import duration, reporting
from .executors import Runner
from .results import (DICT, LIST, NUMBER, OPTIONAL_NUMBER, RESULT, STATUS, TEXT, is_done, is_timing,  # noqa: F401
                      ordered_cells, read_result, result_of, returns, write_cells_csv)

MAX_CRASHES = 3                       # a cell whose worker dies this often is reported as failed


def stored_as(kind):
    """Decorator: the cell function's results are stored under `kind` ("module:function"), the name it had when
    they were computed; a function that moves keeps its kind, so the hashes and folders of old results hold."""
    def mark(fn):
        fn.cell_kind = kind
        return fn
    return mark


def kind_of(fn):
    """The kind of a cell function: its `@stored_as` name, else "module:qualname"."""
    if not callable(fn):
        raise MinidiError(f"a grid cell takes its function itself, not {fn!r}")
    return getattr(fn, "cell_kind", None) or f"{fn.__module__}:{fn.__qualname__}"


class Cell:
    """One unit of work. fn: the cell function; config: its resolved configuration; deps: {name: Cell};
    defaults: the configuration's default values (dropped before hashing); shared: lives in the cache;
    label: a short readable name; work: its size for the progress bar (epochs, where known)."""

    def __init__(self, fn, config, deps=None, defaults=None, shared=False, label="", work=1):
        self.fn, self.kind = fn, kind_of(fn)
        if not isinstance(config, dict):
            raise MinidiError(f"a cell's configuration must be a dict, got {type(config).__name__}")
        try:
            json.dumps(config, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise MinidiError(f"the configuration of cell {label or self.kind} is not plain JSON ({exc})") from None
        self.config, self.deps = dict(config), dict(deps or {})
        self.defaults, self.shared, self.label, self.work = dict(defaults or {}), shared, label or self.kind, work

    def hashed_config(self):
        return {k: v for k, v in sorted(self.config.items()) if not (k in self.defaults and self.defaults[k] == v)}

    @property
    def key(self):
        """sha1 of the kind, the non-default configuration and the dependencies' keys (first 12 hex digits)."""
        text = json.dumps({"kind": self.kind, "config": self.hashed_config(),
                           "deps": {name: dep.key for name, dep in sorted(self.deps.items())}}, sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    def folder(self, out, cache):
        name = self.kind.rsplit(":", 1)[-1].replace("_cell", "")
        return os.path.join(cache if self.shared else out, "cells", f"{name}-{self.key}")

    def __repr__(self):
        return f"Cell({self.label}, {self.key})"


def execute(fn, config, folder, dep_folders, context):
    """Run one cell where it was sent (this process, a pool worker, a Dask worker; `fn` travels by reference):
    returns a small dict, {"ok": True, "seconds": ...} or {"ok": False, "error": ...}; the result goes to disk."""
    kind = kind_of(fn)
    if is_done(folder):
        return {"ok": True, "seconds": 0.0, "reused": True}
    os.makedirs(folder, exist_ok=True)
    status = {"state": "running", "kind": kind, "config": config, "host": socket.gethostname(), "pid": os.getpid(),
              "minidi": __version__, "started": time.time()}
    write_json(os.path.join(folder, STATUS), status)
    t0 = time.perf_counter()
    try:
        deps = {dep: {"folder": f, "result": read_result(f)} for dep, f in dep_folders.items()}
        with reporting(context.get("label") if context.get("progress") else None):
            result = fn(config, folder, deps, context)
    except Exception as exc:                               # the cell's error is data: kept, reported, not fatal
        write_json(os.path.join(folder, STATUS), {**status, "state": "failed", "error": f"{type(exc).__name__}: {exc}",
                                                  "traceback": traceback.format_exc()})
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    seconds = time.perf_counter() - t0
    write_json(os.path.join(folder, RESULT), {"kind": kind, "config": config,
                                              "deps": {d: os.path.basename(f) for d, f in dep_folders.items()},
                                              "minidi": __version__, "seconds": seconds, "result": result})
    write_json(os.path.join(folder, STATUS), {**status, "state": "done", "seconds": seconds})
    return {"ok": True, "seconds": seconds}


def run(cells, out, cache, context=None, workers=None, scheduler=None, worker_threads=1, rerun=False,
        quiet=False, runner=None):
    """Run every cell that is not done (and its dependencies), in dependency order; returns {key: folder}.

    runner: a `Runner` made beforehand (e.g. to check that the Dask scheduler answers before anything is
    written); else one is made from workers / scheduler / worker_threads. It is closed at the end.
    Raises MinidiError at the end, after every cell that could run has run, if some cells failed."""
    out, cache = os.path.abspath(out), os.path.abspath(cache)     # workers may run in another working directory
    cells = ordered_cells(cells)
    folders = {c.key: c.folder(out, cache) for c in cells}
    log = (lambda msg: None) if quiet else (lambda msg: click.echo(msg, err=True))
    todo, failed = plan(cells, folders, rerun, log)
    if not todo:
        if runner is not None:
            runner.close()
        if failed:
            _raise_failed(failed, cells, folders)
        log(f"{len(cells)} cells, all already done")
        return folders
    runner = runner or Runner(workers, scheduler, worker_threads)
    log(f"{len(cells)} cells: {len(cells) - len(todo)} already done, {len(todo)} to run on {runner.name}")
    aborted = True
    try:
        schedule(todo, folders, dict(context or {}, progress=not quiet), runner, failed, log)
        aborted = False
    finally:
        runner.close(abort=aborted)
    if failed:
        _raise_failed(failed, cells, folders)
    return folders


def plan(cells, folders, rerun, log):
    """(the cells to run, {key: (cell, why)} of the finished cells whose result.json does not check out).
    With `rerun`, finished cells are first moved aside (under cells/.replaced/) and so are all to run."""
    if rerun:
        for c in cells:
            _move_aside(folders[c.key])
    todo = [c for c in cells if not is_done(folders[c.key])]
    failed = {}
    for c in cells:                                   # a finished cell is reused only if its result.json checks out
        if is_done(folders[c.key]):
            try:
                result_of(c, folders)
            except MinidiError as exc:
                failed[c.key] = (c, str(exc))
                log(f"[failed] {c.label}: {exc}")
    return todo, failed


def schedule(todo, folders, context, runner, failed, log):
    """Submit each cell once the cells it needs are done (at most `runner.capacity` at a time), collect the
    outcomes as they come, and record the failures in `failed`; a cell whose needs failed is skipped."""
    waiting, running, crashes = list(todo), {}, {}
    count = {"done": 0, "total": len(todo), "work": 0, "all_work": sum(c.work for c in todo), "t0": time.monotonic()}
    while waiting or running:
        _submit_ready(waiting, running, folders, context, runner, failed)
        if not running:
            break
        finished, _ = cf.wait(list(running), return_when=cf.FIRST_COMPLETED)
        for future in finished:
            c = running.pop(future)
            try:
                outcome = future.result()
            except cf.process.BrokenProcessPool:
                _worker_died(c, waiting, running, crashes, failed, runner, log)
                break
            except Exception as exc:                        # e.g. Dask's KilledWorker
                outcome = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            _collect(c, outcome, folders, failed, count, log)


def _submit_ready(waiting, running, folders, context, runner, failed):
    for c in list(waiting):
        if len(running) >= runner.capacity:
            break
        deps = [d.key for d in c.deps.values()]
        if any(k in failed for k in deps):
            failed[c.key] = (c, "skipped: a cell it needs failed")
            waiting.remove(c)
        elif all(is_done(folders[k]) for k in deps):
            running[_submit(runner, c, folders, context)] = c
            waiting.remove(c)


def _worker_died(c, waiting, running, crashes, failed, runner, log):
    """A pool worker died (killed, out of memory): the cell is tried again, up to MAX_CRASHES times; every
    other future of the broken pool is lost too and goes back to waiting; the pool restarts."""
    crashes[c.key] = crashes.get(c.key, 0) + 1
    log(f"a worker died while running {c.label} (crash {crashes[c.key]} of {MAX_CRASHES})")
    if crashes[c.key] >= MAX_CRASHES:
        failed[c.key] = (c, f"its worker process died {MAX_CRASHES} times")
    else:
        waiting.append(c)
    waiting.extend(running.values())
    running.clear()
    runner.restart()


def _collect(c, outcome, folders, failed, count, log):
    if outcome["ok"]:
        count["done"] += 1
        count["work"] += c.work
        spent = time.monotonic() - count["t0"]
        left = spent / count["work"] * (count["all_work"] - count["work"]) if count["work"] else 0.0
        log(f"[{count['done']}/{count['total']}] {c.label} done in {outcome['seconds']:.1f} s ({duration(spent)} "
            f"spent, ~{duration(left)} left)")
    else:
        failed[c.key] = (c, outcome["error"])
        log(f"[failed] {c.label}: {outcome['error']} (config {json.dumps(c.config)}; "
            f"{os.path.join(folders[c.key], STATUS)})")


def _raise_failed(failed, cells, folders):
    first_cell, first_error = next(iter(failed.values()))
    raise MinidiError(f"{len(failed)} of {len(cells)} cells did not finish: {first_cell.label}: {first_error} (see "
                      f"{os.path.join(folders[first_cell.key], STATUS)}). The others are kept: once that is fixed, run "
                      "the same command again, with --resume, to compute only what is missing")


def _submit(runner, cell, folders, context):
    dep_folders = {name: folders[dep.key] for name, dep in cell.deps.items()}
    return runner.executor.submit(execute, cell.fn, cell.config, folders[cell.key], dep_folders,
                                  dict(context, label=cell.label))


def _move_aside(folder):
    """--rerun: keep the old result, out of the way, under <cells>/.replaced/<name>-<time>."""
    if os.path.isdir(folder) and is_done(folder):
        target = os.path.join(os.path.dirname(folder), ".replaced",
                              f"{os.path.basename(folder)}-{time.strftime('%Y%m%d-%H%M%S')}")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.move(folder, target)
