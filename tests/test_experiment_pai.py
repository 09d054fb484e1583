"""The pai study end to end on synthetic data: every cell, the merged CSV, the report with its three computed
claim lines, the figures, the collapse warning, and a resume that computes nothing again."""
import csv
import os

import numpy as np
import pytest
from click.testing import CliRunner

from minidi.files import load_npz, read_json
from minidi.cli import main
from minidi.experiments import pai

QUICK = ["--dataset", "synthetic", "--epochs", "1", "--rounds", "3", "--probe", "20"]


def _run(args, tmp_path, name):
    out = str(tmp_path / name)
    r = CliRunner().invoke(main, ["pai", *QUICK, *args, "--out", out, "--cache", str(tmp_path / "cache")])
    assert r.exit_code == 0, r.output
    return out, r


def test_pai_grid_on_synthetic_mlp(tmp_path, device):
    out, r = _run(["--sparsities", "0.99", "--synthetic-samples", "300", "--device", device], tmp_path, "mlp")
    config = read_json(os.path.join(out, "config.json"))
    groups, _ = pai.grid(config)
    # 5 methods × 4 variants + the control's 3 variants, per sparsity and seed
    assert len(groups["train"]) == 5 * 4 + 3
    with open(os.path.join(out, "accuracy.csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 23 and {r["variant"] for r in rows} == {"original", "shuffle", "reinit", "invert"}
    text = open(os.path.join(out, "report.md")).read()
    claims = [line for line in text.splitlines() if line[:3] in ("1. ", "2. ", "3. ")]
    assert len(claims) == 3 and all("**undecided**" in c for c in claims)                # one replicate
    for fig in ("acc_vs_sparsity.png", "layer_density.png", "wd_ratios.png", "jsv.png"):
        assert os.path.getsize(os.path.join(out, fig)) > 1000
    summary = read_json(os.path.join(out, "summary.json"))
    # at 99% global magnitude at init empties the 784-input layer of LeNet-300-100 (PyTorch's U(±1/√fan_in))
    assert "layers.0.weight" in summary["collapsed"]["magnitude|0.99|False|0"]
    assert "Warning: layer collapse: magnitude at sparsity 0.99" in r.stderr
    # the trained networks really differ between the variants, and masks survive training
    folders = {(m, sp, v): os.path.join(out, "cells", f"train-{cell.key}") for (m, sp, v, s), cell in groups["train"].items()}
    a, b = (load_npz(os.path.join(folders[("snip", 0.99, v)], "model.npz")) for v in ("original", "shuffle"))
    assert (a["layers.0.weight"] != 0).sum() == (b["layers.0.weight"] != 0).sum()     # per-layer density kept
    assert not np.array_equal(a["layers.0.weight"] != 0, b["layers.0.weight"] != 0)
    ratios = summary["wd_ratios"]["snip|0.99"]
    assert set(ratios) == {"shuffle", "reinit"} and set(ratios["shuffle"]) == {"layers.0.weight", "layers.2.weight", "layers.4.weight"}
    # the same command again: every cell is reused
    r2 = CliRunner().invoke(main, ["pai", *QUICK, "--sparsities", "0.99", "--synthetic-samples", "300", "--device",
                                   device, "--out", out, "--cache", str(tmp_path / "cache"), "--resume"])
    assert r2.exit_code == 0 and "all already done" in r2.stderr


@pytest.mark.parametrize("model", ["conv4", "resnet20"])
def test_pai_cnn_on_synthetic_runs_end_to_end(model, tmp_path, device):
    out, _ = _run(["--model", model, "--device", device, "--sparsities", "0.9", "--synthetic-samples", "200", "--methods",
                   "random,magnitude,snip,grasp,synflow", "--variants", "original,shuffle",
                   "--curvature", "2" if model == "conv4" else "0"], tmp_path, model)      # the lens: cheap, or off
    text = open(os.path.join(out, "report.md")).read()
    assert f"# Pruning at initialization: {model} on synthetic" in text
    assert ("## The curvature lens at init" in text) == (model == "conv4")
    with open(os.path.join(out, "accuracy.csv")) as f:
        assert len(list(csv.DictReader(f))) == 5 * 2 + 3
