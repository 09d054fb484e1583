"""The command line: a training run end to end on synthetic data, and one-line errors with exit status 1."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from minidi.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_train_writes_a_complete_run_and_eval_reads_it(tmp_path):
    out = str(tmp_path / "run")
    r = run("train", "--model", "mlp7-relu", "--dataset", "synthetic", "--epochs", "2", "--lr", "0.01",
            "--out", out, "--quiet")
    assert r.exit_code == 0, r.output
    assert sorted(os.listdir(out)) == ["checkpoint.npz", "config.json", "log.jsonl", "model.npz", "provenance.json",
                                       "results.json"]
    config = json.load(open(os.path.join(out, "config.json")))
    assert config["model"] == "mlp7-relu" and config["epochs"] == 2 and config["weight_decay"] == 1e-4
    results = json.loads(r.output.strip().splitlines()[-1])
    assert results["epochs"] == 2
    with np.load(os.path.join(out, "model.npz")) as f:
        assert f["layers.0.weight"].shape == (100, 1024)
    e = run("eval", out)
    assert e.exit_code == 0
    assert json.loads(e.output)["test_acc"] == pytest.approx(results["final_test_acc"])
    again = run("train", "--model", "mlp7-relu", "--dataset", "synthetic", "--epochs", "3", "--lr", "0.01",
                "--out", out, "--resume", "--quiet")
    assert again.exit_code == 0 and json.loads(again.output.strip().splitlines()[-1])["epochs"] == 3


@pytest.mark.parametrize("args, message", [
    (["train", "--model", "resnet9000"], "unknown model 'resnet9000'"),
    (["train", "--device", "tpu"], "unknown device 'tpu'"),
    (["train", "--lr", "0:0.1,30"], "malformed schedule"),
    (["train", "--dataset", "imagenet", "--out", "X"], "unknown dataset 'imagenet'"),
    (["train", "--init", "zeros", "--out", "X"], "unknown init 'zeros'"),
])
def test_bad_input_is_one_line_and_exit_1(tmp_path, args, message):
    args = [a if a != "X" else str(tmp_path / "x") for a in args]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 1
    assert r.output.strip().splitlines() == [r.output.strip()] and message in r.output
    assert "Traceback" not in r.output


def test_gpu_without_cupy_or_gpu_is_one_line(monkeypatch):
    from minidi import backend
    if backend.gpu_available() and not backend.STANDIN:
        pytest.skip("this machine has a GPU")
    monkeypatch.setattr(backend, "_cupy", None)                 # what a user without CuPy has (no stand-in)
    r = CliRunner().invoke(main, ["train", "--device", "gpu"])
    assert r.exit_code == 1 and 'device "gpu"' in r.output and len(r.output.strip().splitlines()) == 1


def test_existing_run_needs_resume_and_the_same_config(tmp_path):
    out = str(tmp_path / "run")
    base = ["train", "--dataset", "synthetic", "--epochs", "1", "--out", out, "--quiet"]
    assert run(*base).exit_code == 0
    r = CliRunner().invoke(main, base)
    assert r.exit_code == 1 and "already holds a run" in r.output
    r = CliRunner().invoke(main, base + ["--resume", "--momentum", "0.5"])
    assert r.exit_code == 1 and "different configuration" in r.output and "momentum" in r.output


def test_eval_with_the_wrong_model_is_a_clear_error(tmp_path):
    out = str(tmp_path / "run")
    assert run("train", "--dataset", "synthetic", "--epochs", "1", "--out", out, "--quiet").exit_code == 0
    r = CliRunner().invoke(main, ["eval", out, "--model", "mlp7-relu", "--dataset", "synthetic"])
    assert r.exit_code == 0                                   # same architecture: loads fine
    r = CliRunner().invoke(main, ["eval", os.path.join(out, "model.npz"), "--model", "lenet300-100",
                                  "--dataset", "synthetic"])
    assert r.exit_code == 1 and "state_dict" in r.output and "Traceback" not in r.output


def test_console_script_error_has_no_traceback():
    p = subprocess.run([sys.executable, "-m", "minidi.cli", "train", "--model", "nope"], capture_output=True, text=True)
    assert p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1
    assert p.stderr.startswith("Error: unknown model 'nope': choose one of ") and "mlp7-linear" in p.stderr


def test_info_reports_backend_and_data():
    r = run("info")
    assert r.exit_code == 0 and "NumPy" in r.output and "device: cpu" in r.output and "MNIST:" in r.output
