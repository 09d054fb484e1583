"""fit/evaluate: learning, callbacks, checkpoints and resume, divergence, summaries."""
import json
import math
import os
import warnings

import numpy as np
import pytest

from minidi import models, optim
from minidi.backend import to_device, to_numpy
from minidi.train.checkpoint import load_checkpoint
from minidi.data import synthetic
from minidi.errors import Interrupted, MinidiError
from minidi.schedules import parse_schedule
from minidi.schedules import Schedule
from minidi.train import TrainingDiverged, evaluate, fit, summarize


def _data(device, n=600, dim=20):
    x, y = synthetic(n, dim, classes=4, seed=0)
    split = n * 5 // 6
    return {"train": (to_device(x[:split], device), to_device(y[:split], device)),
            "test": (to_device(x[split:], device), to_device(y[split:], device))}


def _setup(device, lr="0:0.05,3:0.01", epochs=6, seed=0):
    model = to_device(models.mlp(3, 32, "relu", in_dim=20, n_classes=4, seed=seed), device)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    return model, opt, parse_schedule(lr, epochs)


def test_fit_learns_and_records_history(device):
    data = _data(device)
    model, opt, sched = _setup(device)
    before = evaluate(model, *data["test"])
    history = fit(model, opt, sched, data, epochs=6, batch_size=50)
    assert [r["epoch"] for r in history] == list(range(6))
    assert [r["lr"] for r in history] == [0.05] * 3 + [0.01] * 3
    assert history[-1]["train_loss"] < history[0]["train_loss"] < before[0]
    assert history[-1]["test_acc"] > 0.9 > before[1]
    assert evaluate(model, *data["test"])[1] == history[-1]["test_acc"]


def test_evaluate_counts_correct_predictions():
    model = models.mlp(1, 0, "linear", in_dim=2, n_classes=2)
    model.load_state_dict({"layers.0.weight": np.array([[1.0, 0.0], [0.0, 1.0]], np.float32),
                           "layers.0.bias": np.zeros(2, np.float32)})
    x = np.array([[2.0, 1.0], [0.0, 3.0], [5.0, 1.0], [1.0, 0.0]], np.float32)
    loss, acc = evaluate(model, x, np.array([0, 1, 1, 1]), batch_size=3)
    assert acc == 0.5
    z = x - x.max(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    assert loss == pytest.approx(-logp[np.arange(4), [0, 1, 1, 1]].mean(), rel=1e-6)


def test_callbacks_see_epoch_zero_and_every_epoch(device):
    data = _data(device)
    model, opt, sched = _setup(device)
    seen = []

    class Probe:
        def on_start(self, model, history):
            seen.append("start")

        def on_epoch_end(self, model, row):
            seen.append(row["epoch"])
            row["probe"] = len(seen)

    history = fit(model, opt, sched, data, epochs=3, batch_size=100, callbacks=[Probe()])
    assert seen == ["start", 0, 1, 2] and [r["probe"] for r in history] == [2, 3, 4]


def test_resume_gives_exactly_the_uninterrupted_run(tmp_path, device):
    data = _data(device)
    model, opt, sched = _setup(device)
    full = fit(model, opt, sched, data, epochs=5, batch_size=64, out_dir=str(tmp_path / "full"))
    m1, o1, s1 = _setup(device)
    fit(m1, o1, s1, data, epochs=2, batch_size=64, out_dir=str(tmp_path / "cut"))   # "interrupted" after 2
    m2, o2, s2 = _setup(device, seed=99)                     # a fresh process: other weights, empty optimizer
    resumed = fit(m2, o2, s2, data, epochs=5, batch_size=64, out_dir=str(tmp_path / "cut"), resume=True)
    strip = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h]  # noqa: E731
    assert strip(resumed) == strip(full)
    for a, b in zip(model.parameters(), m2.parameters()):
        assert np.array_equal(to_numpy(a.data), to_numpy(b.data))
    lines = open(tmp_path / "cut" / "log.jsonl").read().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [0, 1, 2, 3, 4]
    meta = load_checkpoint(str(tmp_path / "cut" / "checkpoint.npz"), m1)
    assert meta["epoch"] == 4


def test_divergence_stops_with_a_clear_message(tmp_path, device):
    data = _data(device)
    model, opt, _ = _setup(device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                        # no screen of NumPy overflow warnings first
        with pytest.raises(TrainingDiverged, match=r"diverged in epoch 1/3 \(not finite: train loss (nan|inf), "
                                                   r".*no checkpoint was written"):
            fit(model, opt, parse_schedule("1e6", 3), data, epochs=3, batch_size=50, out_dir=str(tmp_path))
    assert not os.path.exists(tmp_path / "checkpoint.npz")   # the diverged state is never saved


class _BlowUpAtTheLastStep(Schedule):
    """LR 0.05, except at the very last iteration of epoch `at`: there 1e300 (inf in float32), so that epoch's
    training loss (measured before each step) is finite while the weights it ends with are not."""
    per_iteration = True

    def __init__(self, at, n_batches):
        self.at, self.last = at, at + (n_batches - 1) / n_batches

    def __call__(self, t):
        return 1e300 if abs(t - self.last) < 1e-9 else 0.05


def test_a_diverged_epoch_never_replaces_the_good_checkpoint(tmp_path, device):
    data = _data(device)                                      # 500 training samples: 10 batches of 50
    model, opt, _ = _setup(device)
    out = str(tmp_path / "run")
    fit(model, opt, _BlowUpAtTheLastStep(99, 10), data, epochs=2, batch_size=50, out_dir=out)
    good = {name: open(os.path.join(out, name), "rb").read() for name in ("checkpoint.npz", "log.jsonl")}
    m2, o2, _ = _setup(device)
    with pytest.raises(TrainingDiverged) as info:
        fit(m2, o2, _BlowUpAtTheLastStep(2, 10), data, epochs=4, batch_size=50, out_dir=out, resume=True)
    message = str(info.value)
    assert "diverged in epoch 3/4" in message and "train loss" not in message           # the loss was finite
    assert "test loss nan" in message and "layers.0.weight" in message
    assert f"{os.path.join(out, 'checkpoint.npz')} still holds epoch 2/4, the last good state" in message
    for name, content in good.items():
        assert open(os.path.join(out, name), "rb").read() == content, name
    assert load_checkpoint(os.path.join(out, "checkpoint.npz"), m2)["epoch"] == 1


def _strict_json(line):
    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")
    return json.loads(line, parse_constant=refuse)


def test_log_and_checkpoint_stay_standard_json_when_a_callback_reports_nan(tmp_path, device):
    class NanMetric:
        def on_epoch_end(self, model, row):
            row["metric"] = float("nan")
            row["nested"] = {"inf": float("inf"), "ok": 1.5}

    data = _data(device)
    model, opt, sched = _setup(device)
    history = fit(model, opt, sched, data, epochs=2, batch_size=100, out_dir=str(tmp_path), callbacks=[NanMetric()])
    rows = [_strict_json(line) for line in open(tmp_path / "log.jsonl")]
    assert [r["metric"] for r in rows] == [None, None] and rows[1]["nested"] == {"inf": None, "ok": 1.5}
    assert math.isnan(history[0]["metric"])                    # the in-memory history keeps the value
    meta = load_checkpoint(str(tmp_path / "checkpoint.npz"), model)
    assert meta["history"][1]["metric"] is None


def test_interrupt_says_which_epoch_the_checkpoint_holds(tmp_path, device):
    class StopInEpoch:
        def __init__(self, epoch):
            self.epoch, self.seen = epoch, 0

        def before_step(self, model):
            self.seen += 1
            if self.seen == self.epoch * 5 + 2:               # 5 steps per epoch: the 3rd step of that epoch
                raise KeyboardInterrupt

    data = _data(device)
    model, opt, sched = _setup(device)
    with pytest.raises(Interrupted, match=r"interrupted in epoch 3/6; .*checkpoint.npz holds epoch 2/6: rerun with "
                                          r"--resume"):
        fit(model, opt, sched, data, epochs=6, batch_size=100, out_dir=str(tmp_path), callbacks=[StopInEpoch(2)])
    assert load_checkpoint(str(tmp_path / "checkpoint.npz"), model)["epoch"] == 1
    model, opt, sched = _setup(device)
    with pytest.raises(Interrupted, match="interrupted in epoch 1/6, before any checkpoint was written"):
        fit(model, opt, sched, data, epochs=6, batch_size=100, callbacks=[StopInEpoch(0)])


def test_fit_refuses_a_negative_seed(device):
    data = _data(device)
    model, opt, sched = _setup(device)
    with pytest.raises(MinidiError, match="seed must be in \\[0, inf\\), got -1"):
        fit(model, opt, sched, data, epochs=1, seed=-1)


def test_onecycle_sets_lr_and_momentum_every_iteration(device):
    data = _data(device)
    model, opt, _ = _setup(device)
    sched = parse_schedule("onecycle:max=0.1", 2)
    lrs = []
    original_step = opt.step

    def spy():
        lrs.append((opt.lr, opt.momentum))
        original_step()
    opt.step = spy
    fit(model, opt, sched, data, epochs=2, batch_size=100)
    assert len(lrs) == 10 and lrs[0] == pytest.approx((0.001, 0.95))
    assert max(lr for lr, _ in lrs) == pytest.approx(0.1, rel=0.05)


def test_summarize_best_and_last_five():
    history = [{"test_acc": a} for a in (0.1, 0.9, 0.5, 0.6, 0.7, 0.8, 0.6)]
    s = summarize(history)
    assert s["best_test_acc"] == 0.9
    assert s["last5_mean"] == pytest.approx(0.64) and s["last5_std"] == pytest.approx(np.std([0.5, 0.6, 0.7, 0.8, 0.6]))
