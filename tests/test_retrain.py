"""Retraining after pruning: each schedule at its key points, WR's rewound weights, random structured pruning's
counts, the study end to end on synthetic data, `minidi schedules`."""
import csv
import os

import numpy as np
import pytest
from click.testing import CliRunner

from minidi import models, optim, prune
from minidi.backend import to_device, to_numpy
from minidi.files import load_npz
from minidi.cli import main
from minidi.data import load_dataset
from minidi.errors import MinidiError
from minidi.experiments.dense import SaveAt
from minidi.experiments.retrain.cells import pruned_start
from minidi.schedules import Constant, dense_step, retraining_schedule
from minidi.train import fit

E, T = 40, 20


def test_ft_is_constant_eta_min_and_lrw_equals_ft_when_t_at_most_e_over_4():
    ft = retraining_schedule("ft", E, T)
    assert isinstance(ft, Constant) and ft(0) == ft(19) == 0.001
    for budget in (1, 5, 10):                                   # T ≤ E/4 = 10
        lrw = retraining_schedule("lrw", E, budget)
        assert [lrw(t) for t in range(budget)] == [0.001] * budget
    lrw = retraining_schedule("lrw", E, E)                       # T = E replays the whole dense schedule
    assert [lrw(t) for t in range(E)] == [dense_step(e, E) for e in range(E)]
    assert [dense_step(e, E) for e in (0, 19, 20, 29, 30, 39)] == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    lrw = retraining_schedule("lrw", E, T)                       # η(t) = η_dense(E − T + t): 0.01 then 0.001
    assert lrw(0) == pytest.approx(0.01) and lrw(9) == pytest.approx(0.01) and lrw(10) == pytest.approx(0.001)
    wr = retraining_schedule("wr", E, T)
    assert [wr(t) for t in range(T)] == [lrw(t) for t in range(T)]


def test_slr_warm_up_end_and_drops():
    s = retraining_schedule("slr", E, T)                         # t_w = 2; the rest [2, 20): drops at 11 and 15.5
    assert s.per_iteration
    assert s(0) == pytest.approx(0.001)
    assert s(1) == pytest.approx(0.001 + (0.1 - 0.001) / 2)      # half-cosine: halfway at t_w / 2
    assert s(1.999) < 0.1 and s(2) == pytest.approx(0.1)
    assert s(10.999) == pytest.approx(0.1) and s(11) == pytest.approx(0.01)
    assert s(15.499) == pytest.approx(0.01) and s(15.5) == pytest.approx(0.001)
    assert s(19.99) == pytest.approx(0.001)


def test_clr_start_peak_and_end_for_lr_and_momentum():
    s = retraining_schedule("clr", E, T)
    assert s.per_iteration
    assert s(0) == pytest.approx(0.1 / 100) and s.momentum(0) == pytest.approx(0.95)
    assert s(0.1 * T) == pytest.approx(0.1) and s.momentum(0.1 * T) == pytest.approx(0.85)
    assert s(T) == pytest.approx(0.1 / 1e4) and s.momentum(T) == pytest.approx(0.95)
    assert s(0.05 * T) == pytest.approx((0.001 + 0.1) / 2)       # cosine: halfway up at half the warm-up


@pytest.mark.parametrize("args, message", [
    (("sgdr", 40, 10), "unknown retraining schedule 'sgdr'"),
    (("lrw", 40, 50), "budget 50 is longer than the dense run"),
    (("ft", 40, 0), "budget must be"),
    (("clr", 0, 10), "dense epochs must be"),
    (("slr", 40, 2.5), "budget must be"),
])
def test_bad_schedule_arguments(args, message):
    with pytest.raises(MinidiError, match=message):
        retraining_schedule(*args)


@pytest.mark.parametrize("name, spec", [("lenet300-100", "0-1:0.7,2:0"), ("resnet20", "layer*.conv1:0.5"),
                                        ("lenet5-relu", "0-3:0.6,4:0")])
def test_random_structured_pruning_has_the_l1_counts(name, spec, device):
    model = to_device(models.build(name, seed=0), device)
    a, b = prune.prune_neurons(model, spec), prune.random_neurons(model, spec, seed=3)
    assert [p.shape for p in a.parameters()] == [p.shape for p in b.parameters()]
    differs = [not np.array_equal(prune.random_keep(model, spec, 3)[i], k) for i, k in prune.l1_keep(model, spec).items()]
    assert any(differs)                                          # a different choice with the same counts
    c = prune.random_neurons(model, spec, seed=3)
    assert all(np.array_equal(to_numpy(p.data), to_numpy(q.data)) for p, q in zip(b.parameters(), c.parameters()))


def test_wr_restores_exactly_the_recorded_weights_of_epoch_e_minus_t_on_the_kept_units(tmp_path, device):
    data = load_dataset("synthetic", None, models.input_of("lenet300-100"), synthetic_samples=300)
    data = {k: (to_device(x, device), to_device(y, device)) for k, (x, y) in data.items()}
    model = to_device(models.build("lenet300-100", seed=0), device)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    folder = str(tmp_path)
    fit(model, opt, Constant(0.1), data, 3, 100, seed=0, out_dir=folder, callbacks=[SaveAt(folder, [0, 2])])
    assert sorted(f for f in os.listdir(folder) if f.startswith("rewind")) == ["rewind-0.npz", "rewind-2.npz"]
    init = load_npz(os.path.join(folder, "rewind-0.npz"))
    fresh = models.build("lenet300-100", seed=0).state_dict()
    assert all(np.array_equal(init[k], fresh[k]) for k in fresh)           # epoch 0 = the initialization
    rewound = to_device(models.build("lenet300-100", seed=0), device)
    rewound.load_state_dict(load_npz(os.path.join(folder, "rewind-2.npz")))
    saved = load_npz(os.path.join(folder, "rewind-2.npz"))
    start = pruned_start(model, rewound, "structured", "l1", 0.5, seed=0)
    keep = prune.l1_keep(model, "0-1:0.5,2:0")                            # chosen on the final weights
    w0 = saved["layers.0.weight"][keep[0]]
    np.testing.assert_array_equal(to_numpy(start.layers.layers[0].weight.data), w0)
    np.testing.assert_array_equal(to_numpy(start.layers.layers[2].weight.data),
                                  saved["layers.2.weight"][keep[1]][:, keep[0]])
    assert not np.array_equal(w0, to_numpy(model.layers.layers[0].weight.data)[keep[0]])


def test_unstructured_arms_prune_the_same_count(device):
    model = to_device(models.build("lenet300-100", seed=0), device)
    n = sum(p.size for p in prune.prunable(model).values())
    for arm in ("magnitude", "random"):
        m = pruned_start(models.build("lenet300-100", seed=0), to_device(models.build("lenet300-100", seed=0), device),
                         "unstructured", arm, 0.8, seed=1)
        kept = sum(int(to_numpy(p.mask).sum()) for p in prune.prunable(m).values())
        assert kept == round(0.2 * n)


def test_retrain_study_end_to_end_on_synthetic(tmp_path, device):
    out = str(tmp_path / "out")
    args = ["retrain", "--dataset", "synthetic", "--synthetic-samples", "300", "--epochs", "4", "--probe", "20",
            "--device", device,
            "--out", out, "--cache", str(tmp_path / "cache"), "--quiet"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    with open(os.path.join(out, "accuracy.csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 5 * 3                                 # arms × schedules × budgets (1, 2, 4)
    acc = {(r["arm"], r["schedule"], r["budget"]): r["final_test_acc"] for r in rows}
    assert acc[("l1", "lrw", "1")] == acc[("l1", "ft", "1")]       # T = E/4: the same run
    text = open(os.path.join(out, "report.md")).read()
    claims = [line for line in text.splitlines() if line[:3] in ("1. ", "2. ", "3. ", "4. ")]
    assert len(claims) == 4 and all("**undecided**" in c for c in claims)                 # one replicate
    assert "LRW identical to FT at T ≤ E/4, true by construction: check **passed**" in claims[0]
    for fig in ("acc_vs_budget.png", "schedules.png", "jsv_vs_epoch.png"):
        assert os.path.getsize(os.path.join(out, fig)) > 1000
    assert CliRunner().invoke(main, [*args, "--resume"]).exit_code == 0


def test_resnet_retrain_on_synthetic_runs_end_to_end(tmp_path, device):
    r = CliRunner().invoke(main, ["retrain", "--device", device, "--model", "resnet20", "--dataset", "synthetic", "--synthetic-samples",
                                  "128", "--epochs", "4", "--budgets", "1", "--schedules", "ft,clr", "--probe", "4",
                                  "--out", str(tmp_path / "o"), "--cache", str(tmp_path / "c"), "--quiet"])
    assert r.exit_code == 0, r.output


def test_schedules_command_prints_and_plots(tmp_path):
    r = CliRunner().invoke(main, ["schedules", "--epochs", "40", "--budget", "20", "--plot", str(tmp_path / "s.png")])
    assert r.exit_code == 0, r.output
    assert "SLR" in r.output and os.path.getsize(tmp_path / "s.png") > 1000
