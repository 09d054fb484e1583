"""Runs you can follow and trust: every folder says how it was made (provenance.json and the report's line), long
work shows where it is, and a result.json read back is checked for its values, not only its types."""
import json
import os

import pytest
from click.testing import CliRunner

from minidi.cli import main
from minidi.errors import MinidiError
from minidi.lab import grid
from minidi.lab.results import TEXT, check_values
from minidi.testing import cells as test_cells

PAI = ["pai", "--dataset", "synthetic", "--synthetic-samples", "300", "--epochs", "2", "--methods", "random",
       "--variants", "original", "--sparsities", "0.5", "--no-control", "--probe", "10", "--curvature", "0"]
FIELDS = ("command", "minidi", "git_commit", "python", "numpy", "scipy", "cupy", "blas", "device", "host",
          "started", "ended", "wall_seconds", "outcome")


def test_a_study_folder_says_how_it_was_made_and_a_resume_adds_an_entry(tmp_path):
    out, cache = str(tmp_path / "p"), str(tmp_path / "c")
    assert CliRunner().invoke(main, [*PAI, "--out", out, "--cache", cache, "--quiet"]).exit_code == 0
    doc = json.load(open(os.path.join(out, "provenance.json")))
    entry = doc["invocations"][0]
    assert set(FIELDS) <= set(entry) and entry["outcome"] == "done" and entry["device"] == "cpu"
    assert "--synthetic-samples 300" in entry["command"] and entry["wall_seconds"] >= 0
    second = open(os.path.join(out, "report.md")).read().split("\n")[2]
    assert second.startswith("_Made by `") and "minidi 0.1.0" in second and "provenance.json" in second
    assert CliRunner().invoke(main, [*PAI, "--out", out, "--cache", cache, "--quiet", "--resume"]).exit_code == 0
    assert len(json.load(open(os.path.join(out, "provenance.json")))["invocations"]) == 2


def test_a_train_run_folder_says_how_it_was_made(tmp_path, device):
    out = str(tmp_path / "t")
    r = CliRunner().invoke(main, ["train", "--dataset", "synthetic", "--synthetic-samples", "300", "--epochs", "1",
                                  "--quiet", "--out", out, "--device", device])
    assert r.exit_code == 0, r.output
    entry = json.load(open(os.path.join(out, "provenance.json")))["invocations"][0]
    assert set(FIELDS) <= set(entry) and entry["outcome"] == "done" and entry["device"] == device
    assert entry["command"].split()[1:3] == ["train", "--dataset"]


def test_a_study_shows_its_progress_inside_cells_and_quiet_silences_it(tmp_path, device):
    r = CliRunner().invoke(main, [*PAI, "--out", str(tmp_path / "p"), "--cache", str(tmp_path / "c"),
                                  "--device", device])
    assert r.exit_code == 0, r.output
    # stderr is not a terminal here: one line per epoch, with the cell, the epoch, loss, accuracy and times
    assert "dense lenet300-100 s0: epoch 1/2  loss " in r.output and "dense lenet300-100 s0: epoch 2/2" in r.output
    assert "spent, ~" in r.output and " left" in r.output
    assert "[1/4] dense lenet300-100 s0 done in" in r.output                   # cells done/total with the estimate
    q = CliRunner().invoke(main, [*PAI, "--out", str(tmp_path / "q"), "--cache", str(tmp_path / "c2"), "--quiet"])
    assert q.exit_code == 0 and "epoch 1/2" not in q.output and "done in" not in q.output


RESULT = {"final_test_acc": 0.9, "history": [{"epoch": 0, "test_acc": 0.9, "jsv_mean": 1.2}],
          "jsv_init": {"mean": 0.5}, "arm": "lr0.01", "schedule": "0:0.01", "seconds": 1.0}
CONFIG = {"arm": "lr0.01", "seed": 0}


@pytest.mark.parametrize("change, message", [
    ({"final_test_acc": float("nan")}, "final_test_acc is nan"),
    ({"final_test_acc": 7.5}, "final_test_acc = 7.5 is an accuracy outside [0, 1]"),
    ({"history": [{"epoch": 0, "test_acc": 1.5}]}, "history.test_acc = 1.5 is an accuracy outside [0, 1]"),
    ({"jsv_init": {"mean": -0.1}}, "jsv_init.mean = -0.1 is negative"),
    ({"history": [{"epoch": 0, "test_acc": 0.9, "jsv_mean": float("inf")}]}, "history.jsv_mean is inf"),
    ({"last5_std": -1.0}, "last5_std = -1 is negative"),
    ({"best_test_acc": "0.99"}, "best_test_acc holds text where the cell writes none"),
    ({"arm": "lr0.001"}, "its result's arm = \"lr0.001\" is not its configuration's \"lr0.01\""),
])
def test_result_values_are_checked_against_their_ranges(change, message):
    with pytest.raises(MinidiError) as info:
        check_values("result.json", {**RESULT, **change}, CONFIG, {"schedule": TEXT}, "delete it")
    assert message in str(info.value) and "delete it" in str(info.value)


def test_a_result_within_its_ranges_passes_ties_and_edges_included():
    edge = {**RESULT, "final_test_acc": 1.0, "best_test_acc": 0.0, "jsv_init": {"mean": 0.0}, "trace": -3.5}
    check_values("result.json", edge, CONFIG, {"schedule": TEXT}, "delete it")       # a trace may be negative


def test_a_config_that_is_not_its_folders_is_refused(tmp_path):
    cell = grid.Cell(test_cells.sum_cell, {"value": 1})
    folders = grid.run([cell], str(tmp_path), str(tmp_path / "cache"), quiet=True)
    path = os.path.join(folders[cell.key], grid.RESULT)
    doc = json.load(open(path))
    doc["config"]["value"] = 2                               # the folder's name is the hash of value 1
    json.dump(doc, open(path, "w"))
    with pytest.raises(MinidiError, match="its configuration is not the one its folder's name is the hash of"):
        grid.result_of(cell, folders)
