"""The core study end to end on real MNIST, in its quickest form (1 epoch, a 100-image probe)."""
import json
import os

import pytest
from click.testing import CliRunner

from minidi.cli import main


@pytest.fixture
def quick_run(tmp_path, mnist_dir):
    out, cache = str(tmp_path / "iso"), str(tmp_path / "cache")
    args = ["isometry", "--epochs", "1", "--prs", "0,0.5,0.9", "--probe", "100", "--out", out, "--cache", cache,
            "--quiet", "--data-dir", mnist_dir]
    r = CliRunner().invoke(main, args, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return out, args


def test_quick_isometry_study_writes_everything(quick_run):
    out, _ = quick_run
    for name in ("config.json", "summary.json", "history.csv", "jsv_vs_pr.csv", "report.md", "singular_values.npz",
                 "jsv_vs_pr.png", "jsv_vs_epoch.png", "acc_vs_epoch.png", "sv_hist.png", "curvature.png"):
        assert os.path.isfile(os.path.join(out, name)), name
    summary = json.load(open(os.path.join(out, "summary.json")))
    assert summary["widths"] == [1024, 20, 20, 20, 20, 20, 20, 10]
    sweep = [r["pruned"]["mean"] for r in summary["sweep"]]
    assert sweep[0] > sweep[1] > sweep[2]                                    # pruning lowers mean JSV
    assert all(r["orthp_max_abs_dev"] < 1e-5 for r in summary["sweep"])      # OrthP: every JSV is 1
    arms = summary["arms"]
    assert sorted(arms) == sorted(["lr0.01", "lr0.001", "lr0.01+orthp", "lr0.001+orthp"])
    for arm, per_seed in arms.items():
        result = per_seed["0"]
        assert len(result["history"]) == 1 and "jsv_mean" in result["history"][0]
        if arm.endswith("orthp"):
            assert abs(result["epoch0"]["jsv"]["mean"] - 1) < 1e-5
    curv = summary["curvature"]                                              # the curvature lens, per state
    assert list(curv) == ["dense", "pruned", "orthp"] + [f"{arm} end" for arm in arms]
    assert abs(curv["dense"]["jsv_mean"] - summary["dense_jsv"]["mean"]) < 1e-6 * summary["dense_jsv"]["mean"]
    assert abs(curv["orthp"]["jsv_mean"] - 1) < 1e-5                          # a linear net after OrthP
    assert all(r["top_eigenvalue"] > 0 and r["trace"] > 0 for r in curv.values())
    report = open(os.path.join(out, "report.md")).read()
    assert "## The curvature lens" in report
    assert "## What this run shows" in report and report.count("**yes**") + report.count("**no**") >= 5
    lines = open(os.path.join(out, "history.csv")).read().splitlines()
    assert len(lines) == 1 + 4 * 2                                           # header + 4 arms × epochs 0 and 1


def test_rerun_needs_resume_and_then_reuses_everything(quick_run):
    out, args = quick_run
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 1 and "already holds a run" in r.output
    r = CliRunner().invoke(main, args + ["--resume"], catch_exceptions=False)
    assert r.exit_code == 0
    r = CliRunner().invoke(main, [a if a != "1" else "2" for a in args] + ["--resume"])
    assert r.exit_code == 1 and "different configuration" in r.output


def test_bad_prs_is_a_clear_error(tmp_path):
    r = CliRunner().invoke(main, ["isometry", "--prs", "0,x", "--out", str(tmp_path / "o")])
    assert r.exit_code == 1 and "--prs must be comma-separated numbers" in r.output
