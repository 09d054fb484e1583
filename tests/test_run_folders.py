"""Run folders: no command ever overwrites results it did not make, and --resume never silently starts over.

Each data-loss case of issue #9 is reproduced through the CLI; every pre-existing byte must survive.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import snapshot
from minidi.cli import main

TRAIN = ["train", "--dataset", "synthetic", "--synthetic-samples", "600", "--lr", "0.01", "--quiet"]


def cli(*args):
    r = CliRunner().invoke(main, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception   # never a traceback
    return r


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished 2-epoch synthetic run (made once, copied by the tests that change folders)."""
    out = str(tmp_path_factory.mktemp("finished") / "run")
    r = cli(*TRAIN, "--epochs", "2", "--out", out)
    assert r.exit_code == 0, r.output
    return out


def _copy(src, dst, names):
    os.makedirs(dst, exist_ok=True)
    for name in names:
        shutil.copy(os.path.join(src, name), os.path.join(dst, name))
    return dst


def _refused(args, folder, *needles):
    before = snapshot(folder) if os.path.isdir(folder) else None
    r = cli(*args)
    assert r.exit_code != 0
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert (snapshot(folder) if os.path.isdir(folder) else None) == before
    return lines[0]


def test_results_without_config_are_never_overwritten(finished, tmp_path):
    out = _copy(finished, str(tmp_path / "orphans"), ["model.npz", "checkpoint.npz", "results.json"])
    line = _refused([*TRAIN, "--epochs", "2", "--out", out], out, "checkpoint.npz", "model.npz", "results.json",
                    "no config.json")
    assert "choose another folder" in line
    _refused([*TRAIN, "--epochs", "2", "--out", out, "--resume"], out, "no config.json")


def test_another_runs_weights_alone_are_never_overwritten(finished, tmp_path):
    out = _copy(finished, str(tmp_path / "weights-only"), ["model.npz"])
    _refused([*TRAIN, "--epochs", "1", "--out", out], out, "model.npz")


def test_resume_without_checkpoint_does_not_start_over(finished, tmp_path):
    out = str(tmp_path / "lost-checkpoint")
    shutil.copytree(finished, out)
    os.remove(os.path.join(out, "checkpoint.npz"))
    _refused([*TRAIN, "--epochs", "2", "--out", out, "--resume"], out, "nothing to resume from", "checkpoint.npz",
             "results.json")
    _refused([*TRAIN, "--epochs", "3", "--out", out, "--resume"], out, "nothing to resume from")


@pytest.mark.parametrize("state", ["absent", "empty"])
def test_resume_with_nothing_there_is_an_error(tmp_path, state):
    out = str(tmp_path / "nothing")
    if state == "empty":
        os.makedirs(out)
    _refused([*TRAIN, "--epochs", "1", "--out", out, "--resume"], out, "nothing to resume",
             "does not exist" if state == "absent" else "is empty")
    assert os.listdir(tmp_path) == ([] if state == "absent" else ["nothing"])


def test_another_configuration_is_refused_with_and_without_resume(finished, tmp_path):
    out = str(tmp_path / "other")
    shutil.copytree(finished, out)
    _refused([*TRAIN, "--epochs", "2", "--momentum", "0.5", "--out", out], out, "another configuration", "momentum")
    _refused([*TRAIN, "--epochs", "2", "--seed", "3", "--out", out, "--resume"], out, "different configuration",
             "seed")


def test_fewer_epochs_than_the_checkpoint_holds_is_refused(finished, tmp_path):
    out = str(tmp_path / "shorter")
    shutil.copytree(finished, out)
    _refused([*TRAIN, "--epochs", "1", "--out", out, "--resume"], out, "fewer than the 2 epochs")


def test_resume_of_a_finished_run_changes_no_result(finished, tmp_path):
    out = str(tmp_path / "again")
    shutil.copytree(finished, out)
    before = snapshot(out)
    r = cli(*TRAIN, "--epochs", "2", "--out", out, "--resume")
    assert r.exit_code == 0, r.output
    after = snapshot(out)
    assert set(after) == set(before)
    for name in ("checkpoint.npz", "log.jsonl", "results.json", "config.json"):
        assert after[name] == before[name], name


def test_a_diverged_epoch_keeps_the_good_checkpoint_and_exits_non_zero(tmp_path):
    out = str(tmp_path / "diverge")
    r = cli(*TRAIN[:-3], "--epochs", "3", "--lr", "0:0.01,2:1e6", "--out", out, "--quiet")
    assert r.exit_code == 1
    lines = r.output.strip().splitlines()
    assert len(lines) == 1, r.output                                    # no screen of NumPy warnings
    assert "training diverged in epoch 3/3" in lines[0] and "still holds epoch 2/3, the last good state" in lines[0]
    with np.load(os.path.join(out, "checkpoint.npz")) as f:
        assert json.loads(str(f["meta"]))["epoch"] == 1
        assert all(np.isfinite(f[k]).all() for k in f.files if k != "meta")
    for line in open(os.path.join(out, "log.jsonl")):
        json.loads(line, parse_constant=lambda token: pytest.fail(f"bare {token} in log.jsonl"))
    assert not os.path.exists(os.path.join(out, "results.json"))


def test_failed_validation_writes_nothing(tmp_path):
    out = str(tmp_path / "never")
    for bad in (["--momentum", "nan"], ["--seed", "-1"], ["--weight-decay", "-1"], ["--lr", "onecycle:max=0.1,div=0"]):
        r = cli(*TRAIN, "--epochs", "1", "--out", out, *bad)
        assert r.exit_code != 0 and len(r.output.strip().splitlines()) == 1, (bad, r.output)
        assert not os.path.exists(out), bad
    r = cli(*TRAIN, "--epochs", "1", "--out", out)                        # the folder is not locked
    assert r.exit_code == 0, r.output


def test_failed_data_lookup_writes_nothing_for_the_study(tmp_path):
    out, empty = str(tmp_path / "study"), str(tmp_path / "nodata")
    os.makedirs(empty)
    _refused(["isometry", "--epochs", "1", "--out", out, "--data-dir", empty, "--cache", str(tmp_path / "c")], out,
             "MNIST not found")
    assert sorted(os.listdir(tmp_path)) == ["nodata"]


def test_a_run_stopped_before_its_first_checkpoint_can_start_again(tmp_path):
    out = str(tmp_path / "early")
    r = cli(*TRAIN, "--epochs", "1", "--out", out)
    assert r.exit_code == 0
    for name in ("checkpoint.npz", "log.jsonl", "model.npz", "results.json"):
        os.remove(os.path.join(out, name))                               # what a stop in epoch 1 leaves
    open(os.path.join(out, ".tmp-123-abcd-checkpoint.npz"), "wb").close()   # and a half-written temporary file
    assert cli(*TRAIN, "--epochs", "1", "--out", out).exit_code == 0
    for name in ("checkpoint.npz", "log.jsonl", "model.npz", "results.json"):
        os.remove(os.path.join(out, name))
    assert cli(*TRAIN, "--epochs", "1", "--out", out, "--resume").exit_code == 0


def test_files_get_the_users_umask(tmp_path):
    out = str(tmp_path / "modes")
    old = os.umask(0o022)
    try:
        assert cli(*TRAIN, "--epochs", "1", "--out", out).exit_code == 0
    finally:
        os.umask(old)
    modes = {name: os.stat(os.path.join(out, name)).st_mode & 0o777 for name in os.listdir(out)}
    assert modes == {name: 0o644 for name in modes} and len(modes) == 6          # provenance.json too


def test_eval_rebuilds_exactly_the_runs_synthetic_data(tmp_path):
    out = str(tmp_path / "synthetic")
    r = cli("train", "--dataset", "synthetic", "--synthetic-samples", "300", "--seed", "3", "--epochs", "2",
            "--lr", "0.001", "--out", out, "--quiet")
    assert r.exit_code == 0, r.output
    final = json.loads(r.output.strip().splitlines()[-1])["final_test_acc"]
    e = cli("eval", out)
    assert e.exit_code == 0 and json.loads(e.output)["test_acc"] == final


@pytest.mark.parametrize("sig, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_sigint_and_sigterm_say_the_same_line_and_keep_the_checkpoint(tmp_path, sig, status):
    out = str(tmp_path / "signal")
    args = [sys.executable, "-m", "minidi.cli", "train", "--dataset", "synthetic", "--synthetic-samples", "3000",
            "--model", "mlp7-relu", "--epochs", "100000", "--lr", "0.01", "--out", out, "--quiet"]
    # a job started in the background (nohup, &) inherits SIGINT ignored, and Python then installs no Ctrl-C
    # handler: give the child the default disposition, as a terminal would
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 60
    while not os.path.exists(os.path.join(out, "checkpoint.npz")) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    assert p.returncode == status, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("Interrupted in epoch ") and lines[0].endswith("rerun with --resume to continue")
    with np.load(os.path.join(out, "checkpoint.npz")) as f:
        held = json.loads(str(f["meta"]))["epoch"] + 1
    assert f"holds epoch {held}/100000" in lines[0]
    r = cli("train", "--dataset", "synthetic", "--synthetic-samples", "3000", "--model", "mlp7-relu", "--epochs",
            str(held + 1), "--lr", "0.01", "--out", out, "--quiet", "--resume")
    assert r.exit_code == 0 and json.loads(r.output.strip().splitlines()[-1])["epochs"] == held + 1
