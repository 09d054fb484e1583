"""Trustworthy grids (issue 22): a poisoned cell is never reused, every file read back is checked, cells.csv is
reproducible, relative folders work on a cluster, workers die with their runner, a folder has one runner at a
time, and the API's errors are one-line MinidiErrors."""
import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

from minidi.lab import grid
from minidi import models, prune
from minidi.measure import shedding
from minidi.backend import to_device
from minidi.cli import main
from minidi.errors import MinidiError
from minidi.files import load_npz, read_json, save_npz
from minidi.experiments.isometry import arms
from minidi.measure import curvature
from minidi.measure.hessian import hvp
from minidi.measure.layerspectra import layer_spectra
from minidi.recover import TPPRegularizer, approximate_isometry, orthp
from minidi.models.mlp import MLP
from minidi.nn import Identity, Linear, ReLU
from minidi.testing import cells as test_cells

RETRAIN = ["retrain", "--dataset", "synthetic", "--synthetic-samples", "200", "--epochs", "4", "--budgets", "1",
           "--schedules", "ft", "--probe", "20", "--quiet"]


def _retrain(tmp_path, *extra):
    return CliRunner().invoke(main, [*RETRAIN, "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache"),
                                     *extra])


def _cells(tmp_path):
    rows = list(csv.DictReader(open(tmp_path / "out" / "cells.csv")))
    dense = [r for r in rows if r["kind"] == "dense"][0]
    folder = os.path.join(tmp_path, "cache", dense["folder"].split(":", 1)[1])
    downstream = [os.path.join(tmp_path, "out", r["folder"]) for r in rows if r["kind"] == "retrain"]
    return folder, downstream


def _forget(folders):
    for f in folders:
        os.remove(os.path.join(f, grid.RESULT))


def _poison_checkpoint(folder):
    path = os.path.join(folder, "checkpoint.npz")
    arrays = load_npz(path)
    arrays["model/layers.0.weight"][0, 0] = np.nan
    save_npz(path, arrays)
    os.remove(os.path.join(folder, grid.RESULT))


def _poison_result(folder):
    path = os.path.join(folder, grid.RESULT)
    doc = read_json(path)
    doc["result"] = {"last5_acc": "abc"}
    open(path, "w").write(json.dumps(doc))


def _truncate_model(folder):
    path = os.path.join(folder, "model.npz")
    data = open(path, "rb").read()
    open(path, "wb").write(data[:len(data) // 2])


@pytest.mark.parametrize("poison, named", [(_poison_checkpoint, "checkpoint.npz"), (_poison_result, "result.json"),
                                            (_truncate_model, "model.npz")])
def test_a_poisoned_cell_is_never_reused_and_nothing_downstream_is_written_from_it(poison, named, tmp_path):
    assert _retrain(tmp_path).exit_code == 0
    dense, downstream = _cells(tmp_path)
    poison(dense)
    _forget(downstream)                                           # so that they would be computed from it
    r = _retrain(tmp_path, "--resume")
    lines = r.output.strip().splitlines()
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert lines[-1].startswith("Error: ") and named in lines[-1] and "delete" in lines[-1]
    assert not any(os.path.exists(os.path.join(f, grid.RESULT)) for f in downstream)
    import shutil
    shutil.rmtree(dense)                                          # what the message says to do: then it works
    assert _retrain(tmp_path, "--resume").exit_code == 0
    assert all(os.path.exists(os.path.join(f, grid.RESULT)) for f in downstream)


def test_a_truncated_checkpoint_says_what_to_delete_not_to_resume(tmp_path):
    out = str(tmp_path / "run")
    args = ["train", "--dataset", "synthetic", "--synthetic-samples", "200", "--quiet", "--out", out]
    assert CliRunner().invoke(main, [*args, "--epochs", "1"]).exit_code == 0
    _truncate = os.path.join(out, "checkpoint.npz")
    data = open(_truncate, "rb").read()
    open(_truncate, "wb").write(data[:100])
    r = CliRunner().invoke(main, [*args, "--epochs", "2", "--resume"])
    assert r.exit_code == 1 and len(r.output.strip().splitlines()) == 1
    assert "checkpoint.npz" in r.output and "delete it" in r.output


def test_two_clean_runs_give_the_same_cells_csv_and_timings_go_to_their_own_file(tmp_path):
    args = ["pai", "--dataset", "synthetic", "--synthetic-samples", "200", "--epochs", "1", "--sparsities", "0.9",
            "--methods", "random,snip", "--variants", "original", "--no-control", "--probe", "20", "--quiet",
            "--curvature", "2"]
    for k in (1, 2):
        r = CliRunner().invoke(main, [*args, "--out", str(tmp_path / f"o{k}"), "--cache", str(tmp_path / f"c{k}")])
        assert r.exit_code == 0, r.output
    first, second = (open(tmp_path / f"o{k}" / "cells.csv").read() for k in (1, 2))
    assert first == second and "seconds" not in first.splitlines()[0]
    timings = list(csv.DictReader(open(tmp_path / "o1" / "timings.csv")))
    assert {"kind", "label", "folder", "seconds", "score_seconds"} <= set(timings[0])


def test_relative_folders_are_absolute_before_a_cluster_sees_them(tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed", reason="the dist extra is not installed")
    elsewhere, here = tmp_path / "workers", tmp_path / "here"
    elsewhere.mkdir()
    here.mkdir()
    monkeypatch.chdir(elsewhere)                                  # the workers start (and stay) in another folder
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        monkeypatch.chdir(here)
        r = CliRunner().invoke(main, [*RETRAIN, "--out", "rel", "--cache", "relcache", "--scheduler",
                                      cluster.scheduler_address])
    assert r.exit_code == 0, r.output
    assert (here / "rel" / "cells.csv").exists() and (here / "relcache" / "cells").is_dir()
    assert not (elsewhere / "rel").exists() and not (elsewhere / "relcache").exists()


def _children(pid):
    try:
        return [int(p) for p in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        return []


def _alive(pid):
    try:
        os.kill(pid, 0)
        state = open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_their_runner(tmp_path):
    args = [sys.executable, "-m", "minidi.cli", *RETRAIN[:-1], "--epochs", "40", "--budgets", "1,40", "--workers", "2",
            "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache")]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline, workers = time.time() + 120, []
        while time.time() < deadline and len(workers) < 2:      # the pool's processes, once they compute
            workers = [c for c in _children(p.pid) if "spawn_main" in open(f"/proc/{c}/cmdline").read()]
            time.sleep(0.2)
        assert len(workers) >= 2, "the pool did not start"
        time.sleep(1.0)
        os.kill(p.pid, signal.SIGKILL)                            # only the main process
        p.wait()
        deadline = time.time() + 10
        while time.time() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.2)
        assert not any(_alive(w) for w in workers), "a worker outlived its runner"
    finally:
        if p.poll() is None:
            p.kill()


def test_a_folder_has_one_runner_at_a_time(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".minidi-lock").write_text(json.dumps({"pid": os.getpid(), "host": os.uname().nodename, "started": time.time()}))
    r = _retrain(tmp_path)
    assert r.exit_code == 1 and "in use by another minidi command" in r.output
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (out / ".minidi-lock").write_text(json.dumps({"pid": dead.pid, "host": os.uname().nodename, "started": 0}))
    r = _retrain(tmp_path)
    assert r.exit_code == 0 and "Warning: " in r.output and "is gone; taking over" in r.output
    assert not (out / ".minidi-lock").exists()                    # released at the end


# --- the API: one-line MinidiErrors, no silent accepts --------------------------------------------------------
def no_weights():
    return MLP([Identity()], "linear")


DEVICE = {"name": "cpu"}                 # set by the test for each backend


def lenet():
    return to_device(models.build("lenet300-100", seed=0), DEVICE["name"])


def on(a):
    return to_device(np.asarray(a), DEVICE["name"])


_X, _Y = np.random.default_rng(0).standard_normal((20, 784)).astype(np.float32), np.arange(20) % 10

API = {
    "prune_at_init-no-weights": (lambda: prune.prune_at_init(no_weights(), "magnitude", 0.5), "no prunable weights"),
    "gmp-no-weights": (lambda: prune.gmp(no_weights(), 0.5), "no prunable weights"),
    "synflow-no-weights": (lambda: prune.scores(no_weights(), "synflow"), "no prunable weights"),
    "random-scores-no-weights": (lambda: prune.scores(no_weights(), "random"), "no prunable weights"),
    "magnitude-scores-no-weights": (lambda: prune.scores(no_weights(), "magnitude"), "no prunable weights"),
    "shed_fraction-no-weights": (lambda: shedding.shed_fraction(no_weights(), 0.1), "no prunable weights"),
    "thresholds-no-weights": (lambda: shedding.thresholds(no_weights()), "no prunable weights"),
    "snip-wrong-width": (lambda: prune.scores(lenet(), "snip", on(_X[:, :100]), on(_Y)), "takes (784,)"),
    "snip-label-99": (lambda: prune.scores(lenet(), "snip", on(_X), on(np.full(20, 99))), "label 99 is outside 0..9"),
    "snip-lists": (lambda: prune.scores(lenet(), "snip", _X.tolist(), _Y.tolist()), "x must be an array"),
    "snip-all-nan": (lambda: prune.scores(lenet(), "snip", on(np.full((20, 784), np.nan, np.float32)), on(_Y)),
                     "NaN or infinite"),
    "hvp-label-out-of-range": (lambda: hvp(lenet(), on(_X), on(np.full(20, -1)), {}), "outside 0..9"),
    "gmp-nan-weight": (lambda: _nan_gmp(), "hold NaN"),
    "dead_units-wrong-shape": (lambda: shedding.dead_units(lenet(), on(_X[:, :10])), "takes (784,)"),
    "implicit_sparsity-wrong-shape": (lambda: shedding.implicit_sparsity(lenet(), 0.1, on(_X[:, :10]), on(_Y)),
                                      "takes (784,)"),
    "cell-config-not-json": (lambda: grid.Cell(test_cells.sum_cell, {"value": {1, 2}}), "not plain JSON"),
    "apply_masks-half": (lambda: prune.apply_masks(lenet(), {"layers.0.weight": on(np.full((300, 784), 0.5))}),
                         "must hold only 0 and 1"),
    "thresholds-negative-kappa": (lambda: shedding.thresholds(lenet(), kappas=(-1,)), "kappa must be in (0, inf)"),
    "thresholds-nan-prune": (lambda: shedding.thresholds(lenet(), prune_threshold=float("nan")), "must be finite"),
    "gradual-astronomic-steps": (lambda: prune.gradual_sparsities(0.9, 10 ** 30), "steps must be in [1, 10000]"),
    # issue 28's misuse cases: each was a raw exception or a silent wrong answer
    "lanczos-zero-steps": (lambda: curvature.lanczos(_hessian(), 0), "Lanczos steps must be in [1, inf), got 0"),
    "top_eigenvalues-k-negative": (lambda: curvature.top_eigenvalues(_hessian(), k=-1), "k must be in [1, 30], got -1"),
    "hutchinson-zero-probes": (lambda: curvature.hutchinson_trace(_hessian(), probes=0), "probes must be in [1, inf)"),
    "curvature-all-weights-masked": (lambda: curvature.summary(_hessian(masked=True)), "every weight is masked"),
    "power_iteration-zero-iters": (lambda: curvature.power_iteration(_hessian(), iters=0), "iterations must be in"),
    "hvp-nan-direction": (lambda: hvp(lenet(), on(_X), on(_Y), {"layers.0.weight": np.full((300, 784), np.nan)}),
                          "v['layers.0.weight'] holds NaN or infinite values"),
    "hvp-complex-direction": (lambda: hvp(lenet(), on(_X), on(_Y), {"layers.0.weight": np.ones((300, 784)) * 1j}),
                              "v['layers.0.weight'] must hold real numbers"),
    "hvp-v-not-a-dict": (lambda: hvp(lenet(), on(_X), on(_Y), [1.0]), "v must be a dict"),
    "layer_spectra-all-nan": (lambda: layer_spectra(lenet(), on(np.full((5, 784), np.nan, np.float32))),
                              "the probe batch: x holds NaN or infinite values"),
    "layer_spectra-not-an-mlp": (lambda: layer_spectra(models.build("conv4"), _X), "fully connected chains (MLPs)"),
    "layer_spectra-list": (lambda: layer_spectra(lenet(), _X.tolist()), "x must be an array"),
    "orthp-nan-gain": (lambda: orthp(lenet(), gain=float("nan")), "gain must be finite"),
    "orthp-not-a-model": (lambda: orthp(object()), "expected a minidi model with a pruning plan"),
    "approximate_isometry-zero-steps": (lambda: approximate_isometry(lenet(), steps=0), "steps must be in [1, inf)"),
    "tpp-not-a-model": (lambda: TPPRegularizer(object(), "0:0.5"), "expected a minidi model with a pruning plan"),
    "tpp-negative-step": (lambda: TPPRegularizer(lenet(), "0:0.5", step=-1), "step must be in [0, inf)"),
    "flops-not-a-model": (lambda: arms.flops(object()), "expected a minidi model with a pruning plan"),
    "fresh-not-built-by-build": (lambda: models.fresh(Linear(np.ones((2, 3), np.float32)), 0), "fresh needs a model built by minidi.models.build"),
    "scratch_b-zero-flops": (lambda: arms.scratch_b_epochs(10.0, 0, 90, 10, 2), "pruned FLOPs must be in (0, inf)"),
    "scratch_b-cap-below-one": (lambda: arms.scratch_b_epochs(10.0, 5.0, 90, 10, 0.5), "cap must be in [1, inf)"),
    "linear-from-sizes": (lambda: Linear(3, 2), "layers take their weight arrays, not sizes"),
    "linear-forward-wrong-width": (lambda: Linear(on(np.ones((2, 3), np.float32))).forward(on(np.ones((4, 5), np.float32))),
                                   "Linear(3, 2) takes x of shape (N, 3)"),
    "load_state_dict-nan-weight": (lambda: lenet().load_state_dict(_state(lenet(), "layers.0.weight", np.nan)),
                                   "layers.0.weight holds NaN or infinite values"),
    "load_state_dict-negative-variance": (lambda: _bn().load_state_dict(_state(_bn(), "features.1.running_var", -1.0)),
                                          "features.1.running_var holds a negative variance"),
}


def _hessian(masked=False):
    model = lenet()
    if masked:
        prune.apply_masks(model, {k: on(np.zeros(p.shape, np.float32)) for k, p in prune.prunable(model).items()})
    from minidi.measure.hessian import Hessian
    return Hessian(model, on(_X[:10]), on(_Y[:10]))


def _bn():
    return to_device(models.build("conv4"), DEVICE["name"])


def _state(model, key, value):
    state = {k: np.array(v.get() if hasattr(v, "get") else v) for k, v in model.state_dict().items()}
    state[key] = np.full(state[key].shape, value, dtype=state[key].dtype)
    return state


def _nan_gmp():
    model = lenet()
    w = model.layers.layers[0].weight
    w.data = w.data + on(np.where(np.arange(w.size).reshape(w.shape) == 0, np.nan, 0).astype(np.float32))
    prune.gmp(model, 0.5)


@pytest.mark.parametrize("case", list(API))
def test_api_errors_are_one_line_minidi_errors(case, device, monkeypatch):
    monkeypatch.setitem(DEVICE, "name", device)
    call, needle = API[case]
    with pytest.raises(MinidiError) as info:
        call()
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_foreign_warnings_are_one_line_too():
    import warnings

    import click

    from minidi.cli.tools import Command, friendly

    @click.command(cls=Command)
    @friendly
    def noisy():
        warnings.warn("Data has no positive values, and therefore cannot be\nlog-scaled.", UserWarning)
    r = CliRunner().invoke(noisy, [])
    assert r.exit_code == 0 and r.output.strip().splitlines() == [
        "Warning: Data has no positive values, and therefore cannot be log-scaled. (UserWarning)"]
