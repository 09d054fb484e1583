"""The GPU path end to end: the commands and the example scripts with --device gpu (real CuPy on a GPU, else the
strict stand-in), agreeing with the CPU; no device synchronization per step; and no stand-in for a user."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from minidi import backend, models, optim
from minidi.backend import to_device, to_numpy
from minidi.cli import main
from minidi.data import CropFlip, synthetic
from minidi.recover import TPPRegularizer, approximate_isometry
from minidi.schedules import Constant
from minidi.measure.spectrum import JSVMonitor
from minidi.train import fit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
needs_gpu_path = pytest.mark.skipif(not backend.gpu_available(), reason="no GPU and MINIDI_GPU_STANDIN is not 1")


def cli(*args):
    r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r


@needs_gpu_path
def test_train_and_eval_on_the_gpu_match_the_cpu(tmp_path, mnist_dir):
    runs = {}
    for device in ("cpu", "gpu"):
        out = tmp_path / device
        r = cli("train", "--model", "mlp7-linear", "--epochs", "2", "--lr", "0.01", "--out", out, "--quiet",
                "--device", device, "--data-dir", mnist_dir)
        runs[device] = json.loads(r.output.strip().splitlines()[-1])
        e = json.loads(cli("eval", out, "--device", device, "--data-dir", mnist_dir).output)
        assert e["test_acc"] == runs[device]["final_test_acc"]
    assert json.load(open(tmp_path / "gpu" / "config.json"))["device"] == "gpu"
    assert abs(runs["gpu"]["final_test_acc"] - runs["cpu"]["final_test_acc"]) <= 0.002
    with np.load(tmp_path / "cpu" / "model.npz") as c, np.load(tmp_path / "gpu" / "model.npz") as g:
        for k in c.files:
            np.testing.assert_allclose(g[k], c[k], rtol=1e-3, atol=1e-4)


@needs_gpu_path
def test_lenet5_trains_on_the_gpu_like_on_the_cpu(tmp_path):
    finals = []
    for device in ("cpu", "gpu"):
        r = cli("train", "--model", "lenet5-relu", "--dataset", "synthetic", "--synthetic-samples", "600", "--epochs",
                "2", "--lr", "0.01", "--out", tmp_path / device, "--quiet", "--device", device)
        finals.append(json.loads(r.output.strip().splitlines()[-1]))
    assert abs(finals[0]["final_test_acc"] - finals[1]["final_test_acc"]) <= 0.01
    assert abs(finals[0]["best_test_acc"] - finals[1]["best_test_acc"]) <= 0.01


@needs_gpu_path
@pytest.mark.parametrize("model", ["mlp7-linear", "lenet5-relu"])
def test_isometry_study_on_the_gpu(tmp_path, mnist_dir, model):
    out = tmp_path / "iso"
    cli("isometry", "--model", model, "--epochs", "2", "--prs", "0,0.5,0.9", "--probe", "100", "--out", out,
        "--cache", tmp_path / "cache", "--arms", "lr0.01,lr0.001+orthp,lr0.001+ai,lr0.01+scratch-e", "--quiet",
        "--device", "gpu", "--data-dir", mnist_dir)
    summary = json.load(open(out / "summary.json"))
    assert summary["device"] == "gpu"
    sweep = [r["pruned"]["mean"] for r in summary["sweep"]]
    assert sweep[0] > sweep[2]                                               # pruning lowers the mean JSV
    assert all(len(s["0"]["history"]) == 2 for s in summary["arms"].values())
    if model == "mlp7-linear":
        assert all(r["orthp_max_abs_dev"] < 1e-5 for r in summary["sweep"])  # OrthP exact on the device too
    for name in ("report.md", "jsv_vs_pr.png", "jsv_vs_epoch.png", "singular_values.npz"):
        assert os.path.isfile(out / name)


def _run_example(*args, env=None):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=600, env=env)


@needs_gpu_path
def test_both_examples_run_on_the_gpu(tmp_path, mnist_dir):
    env = {**os.environ, "MINIDI_CACHE": str(tmp_path / "cache"), "MPLCONFIGDIR": str(tmp_path / "mpl")}
    p = _run_example("examples/prune_report.py", "--model", "lenet5-relu", "--spec", "0-2:0.5", "--probe", "8",
                     "--device", "gpu", "--data-dir", mnist_dir, env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("| total |") == 2 and p.stdout.count("JSV: mean") == 2
    p = _run_example("examples/isometry_mlp.py", "--epochs", "1", "--device", "gpu", "--data-dir", mnist_dir,
                     "--out", str(tmp_path / "iso"), env=env)
    assert p.returncode == 0, p.stderr
    assert os.path.isfile(tmp_path / "iso" / "report.md")


def test_a_user_never_gets_the_stand_in():
    if backend.gpu_available() and not backend.STANDIN:
        pytest.skip("this machine has a real GPU")
    for value in (None, "0", "yes"):
        env = {k: v for k, v in os.environ.items() if k != "MINIDI_GPU_STANDIN"}
        if value is not None:
            env["MINIDI_GPU_STANDIN"] = value
        p = subprocess.run([sys.executable, "-m", "minidi.cli", "train", "--device", "gpu", "--epochs", "1"],
                           capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
        assert p.returncode == 1 and p.stderr.strip().splitlines() == [p.stderr.strip()], p.stderr
        assert 'device "gpu"' in p.stderr
        info = subprocess.run([sys.executable, "-m", "minidi.cli", "info"], capture_output=True, text=True,
                              env=env, cwd=ROOT, timeout=120)
        assert "stand-in" not in info.stdout and "GPU available: False" in info.stdout


standin_only = pytest.mark.skipif(not backend.STANDIN, reason="counts transfers through the stand-in")


def _device_data(n, dim, classes=4):
    x, y = synthetic(n, dim, classes=classes, seed=0)
    return {"train": (to_device(x, "gpu"), to_device(y, "gpu")), "test": (to_device(x[:60], "gpu"), to_device(y[:60], "gpu"))}


def _transfers(fn, kind="device_to_host"):
    """How many transfers of `kind` fn() makes ("both": (device→host, host→device))."""
    from minidi.testing.fakecupy import STATS
    before = dict(STATS)
    fn()
    if kind == "both":
        return tuple(STATS[k] - before[k] for k in ("device_to_host", "host_to_device"))
    return STATS[kind] - before[kind]


@standin_only
@pytest.mark.parametrize("callbacks", ["none", "jsv", "tpp"])
def test_training_does_not_wait_for_the_device_once_per_step(callbacks):
    """The host reads from the device a fixed number of times per epoch, however many steps the epoch has."""
    data = _device_data(480, 12)
    counts = []
    for batch_size in (120, 12):                                    # 4 or 40 steps per epoch
        model = to_device(models.mlp(3, 16, "relu", in_dim=12, n_classes=4, seed=0), "gpu")
        extra = {"none": [], "jsv": [JSVMonitor(data["train"][0][:8])], "tpp": [TPPRegularizer(model, "0:0.5")]}
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        counts.append(_transfers(lambda: fit(model, opt, Constant(0.05), data, 2, batch_size,
                                             callbacks=extra[callbacks]), "both"))
    assert counts[0] == counts[1] and counts[0][0] <= 2 * (6 + (1 if callbacks == "jsv" else 0)), counts


@standin_only
def test_augmented_training_moves_data_to_the_device_once_per_epoch():
    x, y = synthetic(240, 3 * 8 * 8, classes=4, seed=0, image_shape=(3, 8, 8))
    data = {"train": (to_device(x, "gpu"), to_device(y, "gpu")), "test": (to_device(x[:40], "gpu"), to_device(y[:40], "gpu"))}
    counts = []
    for batch_size in (120, 12):                                    # 2 or 20 steps per epoch
        model = to_device(models.mlp(2, 8, "relu", in_dim=3 * 8 * 8, n_classes=4, seed=0), "gpu")
        flat = _Flat(CropFlip(padding=2))
        opt = optim.SGD(model.parameters(), lr=0.05)
        counts.append(_transfers(lambda: fit(model, opt, Constant(0.05), data, 2, batch_size, augment=flat),
                                 "host_to_device"))
    assert counts[0] == counts[1] and flat.calls == 40, counts


class _Flat:
    """CropFlip on images, then flattened for an MLP (counts its batches)."""

    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    def draw(self, n, rng, xp):
        return self.inner.draw(n, rng, xp)

    def __call__(self, x, draws):
        self.calls += 1
        return self.inner(x, draws).reshape(len(x), -1)


def test_epoch_draws_sliced_per_batch_equal_one_whole_epoch_augmentation(xp):
    x = xp.asarray(np.random.default_rng(0).standard_normal((10, 2, 6, 6)).astype(np.float32))
    aug = CropFlip(padding=1)
    draws = aug.draw(10, np.random.default_rng(3), xp)
    whole = to_numpy(aug(x, draws))
    parts = np.concatenate([to_numpy(aug(x[i:i + 4], draws[:, i:i + 4])) for i in range(0, 10, 4)])
    np.testing.assert_array_equal(parts, whole)
    assert not np.array_equal(whole, to_numpy(x))


@standin_only
def test_approximate_isometry_reads_its_loss_only_at_checks():
    model = to_device(models.mlp(2, 8, "linear", in_dim=8, n_classes=8, seed=0), "gpu")
    n = _transfers(lambda: approximate_isometry(model, steps=300, lr=1e-3, tol=0.0, check_every=100))
    assert n == 2 * (1 + 3 + 1)                                     # per layer: first, 3 checks, last


@standin_only
def test_the_gpu_benchmark_runs(tmp_path):
    p = _run_example("benchmarks/bench_gpu.py", "--samples", "200", "--cifar-samples", "128", "--jsv-samples", "8",
                     "--rounds", "1", "--repeats", "1")
    assert p.returncode == 0, p.stderr
    rows = [line for line in p.stdout.splitlines() if " s" in line and "  minidi " in line]
    assert [r.split("  ")[0] for r in rows] == ["MLP-7-Linear epoch, 200 samples", "JSV of 8 samples, MLP-7-ReLU",
                                               "ResNet-20 fwd+bwd, batch 128", "ResNet-20 epoch, 128 images"]
