"""The core study end to end on real MNIST, in its quickest form (1 epoch, a 100-image probe)."""
import json
import os

import pytest
from click.testing import CliRunner

from minidi.cli import main
from minidi.experiments.isometry import ARMS


@pytest.fixture(scope="module")
def mnist_dir_once():
    here = os.path.dirname(os.path.abspath(__file__))
    for root in filter(None, [os.environ.get("MINIDI_DATA"), os.path.join(here, "..", "..", "shared", "data")]):
        if os.path.isfile(os.path.join(root, "mnist", "train-images-idx3-ubyte.gz")):
            return os.path.abspath(os.path.join(root, "mnist"))
    pytest.skip("MNIST files not found: set MINIDI_DATA to the folder that holds mnist/")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, mnist_dir_once):
    tmp_path, mnist_dir = tmp_path_factory.mktemp("quick"), mnist_dir_once
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
    assert list(arms) == list(ARMS) and len(ARMS) == 12                      # every arm by default
    for arm, per_seed in arms.items():
        result = per_seed["0"]
        epochs = 2 if arm.endswith("scratch-b") else 1                       # FLOPs rule 6.8 epochs, capped at 2 × 1
        assert len(result["history"]) == epochs and "jsv_mean" in result["history"][0]
        assert [r["layer"] for r in result["history"][-1]["layers"]] == [f"layers.{2 * k}" for k in range(7)]
        assert len(result["epoch0"]["layers"]) == 7
        if arm.endswith("orthp"):
            assert abs(result["epoch0"]["jsv"]["mean"] - 1) < 1e-5
    assert arms["lr0.01+tpp"]["0"]["epoch0"]["tpp_lambda_end"] == 1.0
    assert all(v[1] < v[0] for v in arms["lr0.001+ai"]["0"]["epoch0"]["ai_loss"].values())
    assert summary["layers"]["closed_form_max_gap"] < 1e-6                   # linear: W_l's singular values
    curv = summary["curvature"]                                              # the curvature lens, per state
    assert list(curv) == ["dense", "pruned", "orthp"] + [f"{arm} end" for arm in arms]
    assert abs(curv["dense"]["jsv_mean"] - summary["dense_jsv"]["mean"]) < 1e-6 * summary["dense_jsv"]["mean"]
    assert abs(curv["orthp"]["jsv_mean"] - 1) < 1e-5                          # a linear net after OrthP
    assert all(r["top_eigenvalue"] > 0 and r["trace"] > 0 for r in curv.values())
    report = open(os.path.join(out, "report.md")).read()
    assert "## The curvature lens" in report and "## Where isometry breaks: per-layer spectra" in report
    assert "## What this run shows" in report and "The value of pruning" in report
    shows = report.split("## What this run shows")[1].split("\n## ")[0]
    lines = [line for line in shows.splitlines() if line.startswith("- ")]
    assert len(lines) >= 9
    # one replicate: every comparative claim is undecided (an interval needs a spread); OrthP's is a check
    assert all("**undecided**" in line or "check **passed**" in line for line in lines), lines
    assert "**held**" not in shows and "**not held**" not in shows
    assert os.path.isfile(os.path.join(out, "layers_vs_epoch.png"))
    lines = open(os.path.join(out, "history.csv")).read().splitlines()
    assert len(lines) == 1 + 10 * 2 + 2 * 3                                  # header + epochs 0..1 (Scratch-B 0..2)


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
    assert r.exit_code == 1 and "--prs: cannot read '0,x'" in r.output
