"""The grid runner: cell hashing, dependency order, failures that lose nothing, resume after a dead worker,
and the same results in this process, on a process pool and on a Dask cluster."""
import csv
import json
import os
import subprocess
import sys

import pytest

from minidi.lab import grid
from minidi.errors import MinidiError
from minidi.lab.executors import BLAS_ENV
from minidi.lab.grid import Cell

from minidi.testing import cells as K


def cell(value, deps=None, kind="sum_cell", **extra):
    return Cell(getattr(K, kind), {"value": value, **extra}, deps=deps, defaults={"sleep": 0, "scale": 1},
                label=f"{kind} {value}")


def executions(root):
    path = os.path.join(root, "executions.log")
    return open(path).read().split("\n")[:-1] if os.path.exists(path) else []


def test_same_configuration_same_folder_any_change_a_new_one(tmp_path):
    a, b = cell(1), cell(1)
    assert a.key == b.key and a.folder("o", "c") == b.folder("o", "c")
    assert cell(2).key != a.key                                   # a changed value
    assert cell(1, kind="fail_cell").key != a.key                 # another kind
    assert cell(1, extra=3).key != a.key                          # a new field at a non-default value
    assert cell(1, sleep=0).key == a.key and cell(1, scale=1).key == a.key   # a new field at its default
    assert cell(1, sleep=1).key != a.key
    top, top_other = cell(5, deps={"x": a}), cell(5, deps={"x": cell(2)})
    assert top.key != top_other.key                               # a dependency's change
    assert cell(5, deps={"x": cell(1)}).key == top.key
    shared = Cell(K.sum_cell, {"value": 1}, shared=True)
    assert shared.folder("o", "c").startswith(os.path.join("c", "cells")) and a.folder("o", "c").startswith("o")


def test_cells_run_in_dependency_order_once_and_are_reused(tmp_path):
    out, cache = str(tmp_path / "out"), str(tmp_path / "cache")
    base = Cell(K.sum_cell, {"value": 1}, shared=True, label="base")
    tops = [cell(10 * i, deps={"base": base}) for i in range(1, 4)]
    folders = grid.run(tops, out, cache, quiet=True)
    assert [grid.read_result(folders[t.key])["value"] for t in tops] == [11, 21, 31]
    assert len(executions(out)) == 3 and len(executions(cache)) == 1          # the shared cell ran once
    saved = json.load(open(os.path.join(folders[tops[0].key], grid.RESULT)))
    assert saved["config"] == {"value": 10} and saved["deps"] == {"base": os.path.basename(folders[base.key])}
    assert saved["minidi"] and saved["seconds"] >= 0
    grid.run(tops + [cell(40, deps={"base": base})], out, cache, quiet=True)   # a bigger grid later
    assert len(executions(out)) == 4 and len(executions(cache)) == 1          # only the new cell ran


def test_a_failing_cell_loses_no_other_and_skips_what_needs_it(tmp_path):
    out = str(tmp_path / "out")
    bad = cell(7, kind="fail_cell")
    cells = [cell(1), bad, cell(2, deps={"bad": bad}), cell(3)]
    with pytest.raises(MinidiError, match=r"2 of 4 cells did not finish: fail_cell 7: ValueError: this cell always "
                                          r"fails \(value 7\) \(see .*status.json\)"):
        grid.run(cells, out, out, quiet=True)
    folders = {c.key: c.folder(out, out) for c in cells}
    assert grid.is_done(folders[cells[0].key]) and grid.is_done(folders[cells[3].key])
    assert not grid.is_done(folders[bad.key]) and not os.path.exists(folders[cells[2].key])
    status = json.load(open(os.path.join(folders[bad.key], grid.STATUS)))
    assert status["state"] == "failed" and "Traceback" in status["traceback"] and status["config"] == {"value": 7}
    runs = executions(out)
    with pytest.raises(MinidiError):
        grid.run(cells, out, out, quiet=True)                     # again: only the failed cell is retried
    assert executions(out)[len(runs):] == [f"fail {os.path.basename(folders[bad.key])}"]


def test_a_dead_worker_is_replaced_and_only_unfinished_cells_run_again(tmp_path):
    out = str(tmp_path / "out")
    first = [cell(i, sleep=0.3) for i in range(2)]                 # finished before the crash cell starts
    crash = cell(100, kind="crash_once_cell", deps={f"d{i}": c for i, c in enumerate(first)})
    cells = first + [crash, cell(5, deps={"c": crash})]
    folders = grid.run(cells, out, out, workers=2, quiet=True)
    assert grid.read_result(folders[cells[-1].key])["value"] == 106
    name = lambda c: os.path.basename(folders[c.key])  # noqa: E731
    log = executions(out)
    assert log.count(f"crash {name(crash)}") == 1 and log.count(f"run {name(crash)}") == 1   # killed, then again
    for c in first + cells[-1:]:
        assert log.count(f"run {name(c)}") == 1                   # finished cells are not computed again
    assert len({grid.read_result(folders[c.key])["pid"] for c in first}) == 2           # two worker processes


def test_rerun_moves_finished_cells_aside_and_computes_them_again(tmp_path):
    out = str(tmp_path / "out")
    cells = [cell(1), cell(2)]
    grid.run(cells, out, out, quiet=True)
    grid.run(cells, out, out, rerun=True, quiet=True)
    assert len(executions(out)) == 4
    assert len(os.listdir(os.path.join(out, "cells", ".replaced"))) == 2


def test_scheduler_errors_are_one_clear_line(tmp_path, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_distributed(name, *args, **kwargs):
        if name == "distributed" or name.startswith("distributed."):
            raise ImportError("No module named 'distributed'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_distributed)
    with pytest.raises(MinidiError, match=r'needs the "dist" extra: pip install "minidi\[dist\]"'):
        grid.run([cell(1)], str(tmp_path), str(tmp_path), scheduler="tcp://127.0.0.1:1", quiet=True)
    monkeypatch.setattr(builtins, "__import__", real_import)
    pytest.importorskip("distributed", reason="the dist extra is not installed")
    monkeypatch.setenv("MINIDI_SCHEDULER_TIMEOUT", "1")
    with pytest.raises(MinidiError, match="cannot reach the Dask scheduler tcp://127.0.0.1:9"):
        grid.run([cell(1)], str(tmp_path), str(tmp_path), scheduler="tcp://127.0.0.1:9", quiet=True)


def test_a_small_grid_on_a_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed", reason="the dist extra is not installed (pip install minidi[dist])")
    out = str(tmp_path / "out")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        base = cell(1)
        cells = [cell(10 * i, deps={"base": base}) for i in range(1, 4)]
        folders = grid.run(cells, out, out, scheduler=cluster.scheduler_address, quiet=True)
    assert [grid.read_result(folders[c.key])["value"] for c in cells] == [11, 21, 31]
    assert len(executions(out)) == 4


def test_the_isometry_grid_gives_identical_results_serially_on_workers_and_on_dask(tmp_path, mnist_dir,
                                                                                   monkeypatch):
    """One small isometry grid (1 epoch, two replicates) three ways, each with its own cache, every cell with one
    BLAS thread (the order of a matrix product's sums depends on the thread count): the merged CSVs (every cell's
    configuration and results) are byte-identical."""
    distributed = pytest.importorskip("distributed", reason="the dist extra is not installed (pip install minidi[dist])")
    for var in BLAS_ENV:
        monkeypatch.setenv(var, "1")                    # for the serial subprocess and the cluster's worker processes
    args = [sys.executable, "-m", "minidi.cli", "sweep", "isometry", "--model", "mlp7-linear", "--epochs", "1",
            "--seeds", "2", "--prs", "0,0.5", "--probe", "50", "--arms", "lr0.01,lr0.001,orthp", "--quiet",
            "--data-dir", mnist_dir]
    ways = {"serial": [], "workers": ["--workers", "2"]}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        ways["dask"] = ["--scheduler", cluster.scheduler_address]
        for way, extra in ways.items():
            p = subprocess.run(args + ["--out", str(tmp_path / way), "--cache", str(tmp_path / f"cache-{way}"), *extra],
                               capture_output=True, text=True, timeout=600)
            assert p.returncode == 0, p.stderr
    merged = {way: open(tmp_path / way / "cells.csv").read() for way in ways}
    assert merged["serial"] == merged["workers"] == merged["dask"]
    rows = merged["serial"].splitlines()
    assert len(rows) == 1 + 2 * (1 + 1 + 4 + 1 + 1)        # per replicate: pretrain, sweep, 4 arms, curvature, layers
    report = open(tmp_path / "serial" / "report.md").read()
    assert "| mlp7-linear | 0.8 | 1 | lr0.01 | 2 |" in report
    point = open(tmp_path / "serial" / "mlp7-linear-pr0.8-e1" / "report.md").read()
    assert "2 independent pretrainings (seeds 0–1)" in point and "| lr0.01 | 2 | " in point
    table = list(csv.DictReader(open(tmp_path / "serial" / "cells.csv")))
    pre = [r for r in table if r["kind"] == "pretrain"]
    assert sorted(r["config.seed"] for r in pre) == ["0", "1"] and pre[0]["final_test_acc"] != pre[1]["final_test_acc"]
    assert {r["config.seed"] for r in table if r["kind"] == "finetune"} == {"0", "1"}
