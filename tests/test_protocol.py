"""One study protocol: cells by reference (their kinds, and the folders of results computed before the studies
became packages), and `minidi sweep STUDY` for every study."""
import csv
import json
import os

import pytest
from click.testing import CliRunner

from minidi.lab import grid
from minidi.cli import main
from minidi.errors import MinidiError
from minidi.experiments import driver, isometry, pai, retrain, shedding
from minidi.testing import cells as test_cells


def test_a_cell_holds_its_function_and_derives_its_kind():
    c = grid.Cell(test_cells.sum_cell, {"value": 1})
    assert c.fn is test_cells.sum_cell and c.kind == "minidi.testing.cells:sum_cell"
    with pytest.raises(MinidiError, match="takes its function itself"):
        grid.Cell("minidi.testing.cells:sum_cell", {"value": 1})


def test_a_moved_cell_function_keeps_the_kind_its_results_are_stored_under():
    @grid.stored_as("some.old.module:old_cell")
    def new_cell(config, folder, deps, context):
        return {}
    assert grid.Cell(new_cell, {}).kind == "some.old.module:old_cell"
    assert grid.Cell(new_cell, {}).folder("o", "c") == os.path.join("o", "cells", "old-" + grid.Cell(new_cell, {}).key)


# Folders of the quick MNIST runs made by the code before the studies became packages (commit 79600d1):
# isometry --epochs 2, pai --epochs 2 --sparsities 0.968, retrain --epochs 4, shedding --epochs 2
# --sparsities 0.9 --steps 2. The same configurations must name the same folders, so old results are reused.
OLD_FOLDERS = {
    "isometry": (isometry, dict(model_name="mlp7-linear", epochs=2),
                 {"pretrain-453980e2d2cb", "sweep-19789a0cba35", "finetune-fbc53bc6fd2a"}),
    "pai": (pai, dict(epochs=2, sparsities=[0.968]),
            {"dense-44373c3d7a91", "collapse-ce3ca26ce11f", "mask-c7220837931f", "train-42806d744ca1"}),
    "retrain": (retrain, dict(epochs=4), {"dense-c34931da855d", "retrain-405299be53e2"}),
    "shedding": (shedding, dict(epochs=2, sparsities=[0.9], steps=2),
                 {"dense-c567205798ea", "cascade-6593d4c8d3c7"}),
}


@pytest.mark.parametrize("name", OLD_FOLDERS)
def test_the_studies_find_the_folders_of_results_computed_before_the_change(name):
    study, options, old = OLD_FOLDERS[name]
    _, cells = study.grid(study.configure(**options))
    names = {os.path.basename(c.folder("out", "cache")) for c in cells}
    assert old <= names


def test_shedding_route_cells_of_the_old_protocol_get_new_folders():
    # issue 21 put every route on the same prune steps and epochs: a route computed before is never reused
    _, cells = shedding.grid(shedding.configure(**OLD_FOLDERS["shedding"][1]))
    names = {os.path.basename(c.folder("out", "cache")) for c in cells}
    assert "route-37abd0d6ae62" not in names and any(n.startswith("route_steps-") for n in names)


# GraSP's cells of that pai run, computed with the finite-difference H g that issue 19 replaced: never reused.
OLD_GRASP = {"collapse-362fde8741f0", "mask-4e9e70f389a8", "mask-bf553cd52663", "train-8ca31ffcf493",
             "train-d184d0c49251", "train-9e34023ab9cd", "train-0479dd5cd6cb"}


def test_grasp_cells_computed_with_the_finite_difference_get_new_folders():
    _, cells = pai.grid(pai.configure(epochs=2, sparsities=[0.968]))
    names = {os.path.basename(c.folder("out", "cache")): c for c in cells}
    assert not OLD_GRASP & set(names)
    grasp = [c for c in cells if c.config.get("method") == "grasp" and c.kind.endswith(("mask_cell", "collapse_cell"))]
    assert grasp and all(c.config["grasp_hvp"] == "r-operator" for c in grasp)
    assert not any("grasp_hvp" in c.config for c in cells if c.config.get("method") not in (None, "grasp"))


def test_a_finished_cell_folder_is_reused_not_recomputed(tmp_path):
    cell = grid.Cell(test_cells.sum_cell, {"value": 2})
    grid.run([cell], str(tmp_path / "a"), str(tmp_path / "cache"), quiet=True)
    assert open(tmp_path / "a" / "executions.log").read().count("run") == 1
    grid.run([grid.Cell(test_cells.sum_cell, {"value": 2})], str(tmp_path / "a"), str(tmp_path / "cache"), quiet=True)
    assert open(tmp_path / "a" / "executions.log").read().count("run") == 1


def test_a_sweep_names_each_point_once():
    with pytest.raises(MinidiError, match="names one point twice"):
        driver.points_of(pai, {"rounds": [3, 3]}, dict(dataset="synthetic", epochs=1))


SWEEPS = {
    "pai": (["--rounds", "2,3", "--dataset", "synthetic", "--synthetic-samples", "200", "--epochs", "1",
             "--sparsities", "0.9", "--methods", "random,synflow", "--variants", "original", "--no-control",
             "--probe", "20"], ["lenet300-100-e1-global-r2", "lenet300-100-e1-global-r3"], "accuracy.csv"),
    "retrain": (["--ratio", "0.5,0.8", "--dataset", "synthetic", "--synthetic-samples", "200", "--epochs", "4",
                 "--budgets", "1", "--schedules", "ft,lrw,slr", "--probe", "20"],
                ["lenet300-100-e4-structured-r0.5", "lenet300-100-e4-structured-r0.8"], "accuracy.csv"),
    "shedding": (["--steps", "1,2", "--dataset", "synthetic", "--synthetic-samples", "300", "--epochs", "1",
                  "--sparsities", "0.5", "--probe", "20"],
                 ["lenet300-100-f0.2-e1-k1", "lenet300-100-f0.2-e1-k2"], "routes.csv"),
}


@pytest.mark.parametrize("name", SWEEPS)
def test_every_study_sweeps_a_two_point_grid(name, tmp_path, device):
    args, points, table = SWEEPS[name]
    out = str(tmp_path / "sweep")
    r = CliRunner().invoke(main, ["sweep", name, *args, "--device", device, "--out", out,
                                  "--cache", str(tmp_path / "cache"), "--quiet"])
    assert r.exit_code == 0, r.output
    for point in points:
        assert os.path.isfile(os.path.join(out, point, "report.md")) and os.path.isfile(os.path.join(out, point, table))
    report = open(os.path.join(out, "report.md")).read()
    assert all(f"## {p}" in report for p in points)
    assert report.count("\n1. ") == 2                                          # each point's claim lines
    rows = list(csv.DictReader(open(os.path.join(out, "cells.csv"))))
    dense = [row for row in rows if row["kind"] == "dense"]
    assert len(dense) == 1                                   # the points share their dense model: one cell
    again = CliRunner().invoke(main, ["sweep", name, *args, "--device", device, "--out", out,
                                      "--cache", str(tmp_path / "cache"), "--resume"])
    assert again.exit_code == 0 and "all already done" in again.output


def test_the_isometry_study_sweeps_two_ratios(tmp_path, mnist_dir):
    out = str(tmp_path / "sweep")
    r = CliRunner().invoke(main, ["sweep", "isometry", "--pr", "0.5,0.8", "--epochs", "1", "--prs", "0,0.5",
                                  "--probe", "50", "--sweep-only", "--data-dir", mnist_dir, "--out", out,
                                  "--cache", str(tmp_path / "cache"), "--quiet"])
    assert r.exit_code == 0, r.output
    for point in ("mlp7-linear-pr0.5-e1", "mlp7-linear-pr0.8-e1"):
        assert os.path.isfile(os.path.join(out, point, "report.md"))
    rows = list(csv.DictReader(open(os.path.join(out, "cells.csv"))))
    assert sorted(r["kind"] for r in rows) == ["curvature", "curvature", "pretrain", "sweep", "sweep"]   # one pretraining


def test_a_folder_written_before_an_option_existed_is_still_resumed(tmp_path):
    """Results folders made before --curvature existed hold a config.json without it: still their own run."""
    args = ["pai", "--dataset", "synthetic", "--synthetic-samples", "200", "--epochs", "1", "--sparsities", "0.9",
            "--methods", "random", "--variants", "original", "--no-control", "--probe", "20", "--quiet",
            "--out", str(tmp_path / "o"), "--cache", str(tmp_path / "c")]
    assert CliRunner().invoke(main, args).exit_code == 0
    path = tmp_path / "o" / "config.json"
    config = json.loads(path.read_text())
    del config["curvature"]                                       # as the older minidi wrote it
    path.write_text(json.dumps(config))
    r = CliRunner().invoke(main, [*args, "--resume"])
    assert r.exit_code == 0, r.output
    config["curvature"] = 30                                      # a real difference is still refused
    path.write_text(json.dumps(config))
    r = CliRunner().invoke(main, [*args, "--resume"])
    assert r.exit_code == 1 and "different configuration" in r.output and "curvature" in r.output
