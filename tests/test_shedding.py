"""Weight shedding: σ and dead units on constructed weights and activations, the implicit-sparsity check, GMP's
exact counts, gradual GMP's steps, the decay mechanism with and without weight decay, the study end to end."""
import csv
import os

import numpy as np
import pytest
from click.testing import CliRunner

from minidi import optim, prune
from minidi.measure import shedding
from minidi.backend import to_device, to_numpy
from minidi.cli import main
from minidi.errors import MinidiError
from minidi.models import build
from minidi.models.mlp import MLP
from minidi.nn import Linear, ReLU, SoftmaxCrossEntropy
from minidi.prune import prunable


def mlp(weights, biases=None):
    layers = []
    for i, w in enumerate(weights):
        layers.append(Linear(np.array(w, dtype=float), None if biases is None else np.array(biases[i], dtype=float)))
        if i < len(weights) - 1:
            layers.append(ReLU())
    return MLP(layers, "relu")


def test_shed_fraction_on_constructed_weights(device):
    model = to_device(mlp([[[0.001, 0.5], [0.2, -0.0001]], [[1.0, 0.002]]]), device)
    prune.apply_masks(model, {"layers.0.weight": np.array([[1, 1], [0, 1]])})     # 0.2 is pruned: not counted
    s = shedding.shed_fraction(model, 0.01)
    assert s["layers.0.weight"] == pytest.approx(2 / 3) and s["layers.2.weight"] == pytest.approx(1 / 2)
    assert s["overall"] == pytest.approx(3 / 5)
    assert shedding.shed_fraction(model, 0.0)["overall"] == 0.0


def test_dead_units_by_weights_and_by_activations(device):
    # unit 0: all inputs shed; unit 1: live weights but a ReLU that never fires (bias −10); unit 2: alive
    w0 = [[1e-6, -1e-6], [1.0, 1.0], [1.0, -1.0]]
    model = to_device(mlp([w0, [[1.0, 1.0, 1.0]]], [[0.0, -10.0, 0.0], [0.0]]), device)
    assert shedding.dead_units(model, tau=1e-3) == {"layers.0.weight": [0], "layers.2.weight": []}
    x = to_device(np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]]), device)
    assert shedding.dead_units(model, x, tau=1e-3)["layers.0.weight"] == [0, 1]
    assert shedding.dead_units(model)["layers.0.weight"] == []                      # τ = 0: exact zeros only
    monitor = shedding.ShedMonitor({"k": 1e-3}, probe=x)
    row = {"epoch": 0}
    monitor.on_epoch_end(model, row)                                  # a unit dead by either definition counts once
    assert row["dead_by_weights"]["layers.0.weight"] == 1 and row["dead_by_activations"]["layers.0.weight"] == 1
    assert row["dead_units"]["layers.0.weight"] == 2 and row["dead_total"] == 2


def test_implicit_sparsity_leaves_accuracy_unchanged_when_removed_weights_are_zero(device):
    model = to_device(build("lenet300-100", seed=0), device)
    prunable(model)["layers.0.weight"].data[:, :300] = 0                       # exactly zero, not masked
    x = to_device(np.random.default_rng(0).standard_normal((200, 784)).astype(np.float32), device)
    y = to_device(np.arange(200) % 10, device)
    before, after, removed = shedding.implicit_sparsity(model, 1e-30, x, y)
    assert removed == 300 * 300 and before == after


def test_remove_shed_respects_the_limit_smallest_first(device):
    model = to_device(mlp([[[0.001, 0.002, 0.003, 0.5]]]), device)
    assert shedding.remove_shed(model, 0.01, limit=2) == 2
    np.testing.assert_array_equal(to_numpy(prunable(model)["layers.0.weight"].mask), [[0, 0, 1, 1]])


@pytest.mark.parametrize("sparsity", [0.0, 0.5, 0.8, 0.95, 0.999])
def test_gmp_exact_counts_and_nested(sparsity, device):
    model = to_device(build("lenet300-100", seed=0), device)
    n = sum(p.size for p in prunable(model).values())
    prune.gmp(model, 0.3)
    first = {k: to_numpy(p.mask).copy() for k, p in prunable(model).items()}
    if sparsity >= 0.3:
        threshold = prune.gmp(model, sparsity)
        kept = sum(int(to_numpy(p.mask).sum()) for p in prunable(model).values())
        assert kept == round((1 - sparsity) * n)
        assert all(np.all(to_numpy(p.mask) <= first[k]) for k, p in prunable(model).items())
        survivors = np.concatenate([np.abs(to_numpy(p.data))[to_numpy(p.mask) == 1] for p in prunable(model).values()])
        assert survivors.min() >= threshold


def test_gradual_sparsities_first_next_to_last_and_last_steps(device):
    s = prune.gradual_sparsities(0.9, 5)
    assert s[0] == pytest.approx(0.9 * (1 - 0.8 ** 3)) and s[-2] == pytest.approx(0.9 * (1 - 0.2 ** 3))
    assert s[-1] == 0.9 and all(a < b for a, b in zip(s, s[1:]))
    model = to_device(build("lenet300-100", seed=0), device)
    n = sum(p.size for p in prunable(model).values())
    for target in s:                                                   # each step hits its target exactly
        prune.gmp(model, target)
        assert sum(int(to_numpy(p.mask).sum()) for p in prunable(model).values()) == round((1 - target) * n)
    with pytest.raises(MinidiError, match="steps"):
        prune.gradual_sparsities(0.9, 0)


@pytest.mark.parametrize("wd", [1e-2, 0.0])
def test_a_unit_with_all_inputs_masked_sheds_its_outgoing_weights_only_under_weight_decay(wd, device):
    rng = np.random.default_rng(0)
    w0, w1 = rng.standard_normal((4, 3)), rng.standard_normal((2, 4))
    model = to_device(mlp([w0, w1], [[0.1, 0.0, 0.1, 0.1], [0.0, 0.0]]), device)  # unit 1: bias 0 → output 0
    mask = np.ones((4, 3))
    mask[1] = 0                                                          # all inputs of unit 1 pruned
    prune.apply_masks(model, {"layers.0.weight": mask})
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.0, weight_decay=wd)
    x = to_device(rng.standard_normal((16, 3)), device)
    y = to_device(np.arange(16) % 2, device)
    loss = SoftmaxCrossEntropy()
    out0 = to_numpy(model.layers.layers[2].weight.data)[:, 1].copy()
    for _ in range(50):
        loss.forward(model.forward(x), y)
        opt.zero_grad()
        model.backward(loss.backward())
        opt.step()
    out = to_numpy(model.layers.layers[2].weight.data)
    np.testing.assert_allclose(out[:, 1], out0 * (1 - 0.1 * wd) ** 50, rtol=1e-10)   # θ(t) = (1 − ηλ)^t θ(0)
    assert not np.allclose(out[:, 0], w1[:, 0])                          # a live unit's weights learn


def test_shedding_study_end_to_end_on_synthetic(tmp_path, device):
    out = str(tmp_path / "o")
    r = CliRunner().invoke(main, ["shedding", "--device", device, "--dataset", "synthetic", "--synthetic-samples", "300", "--epochs", "2",
                                  "--sparsities", "0.5,0.9", "--steps", "2", "--probe", "20", "--out", out,
                                  "--cache", str(tmp_path / "c"), "--quiet"])
    assert r.exit_code == 0, r.output
    with open(os.path.join(out, "routes.csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 * 2 and {r["route"] for r in rows} == {"gmp", "gradual", "random-shed", "random-noshed"}
    text = open(os.path.join(out, "report.md")).read()
    claims = [line for line in text.splitlines() if line[:3] in ("1. ", "2. ", "3. ")]
    assert len(claims) == 3 and all("**undecided**" in c for c in claims)                 # one replicate
    assert "## The decay law" in text and "| large | never | never |" in text     # no weight decay: never
    assert len({r["epochs_before_final"] for r in rows}) == 1 and rows[0]["epochs_before_final"] == "1"   # equal epochs
    assert "4. Gradual GMP's steps are mostly weights already shed" in text and "removed as shed" in text and "## Per layer" in text
    with open(os.path.join(out, "layers.csv")) as f:
        layers = list(csv.DictReader(f))
    assert {r["layer"] for r in layers} == {"layers.0.weight", "layers.2.weight", "layers.4.weight"}
    for fig in ("shedding.png", "acc_vs_sparsity.png", "jsv_vs_epoch.png"):
        assert os.path.getsize(os.path.join(out, fig)) > 1000


def test_bn_dead_channels_and_their_threshold_on_a_constructed_batchnorm_net(device):
    model = to_device(build("conv4-mnist", seed=0), device)
    bns = [m for _, m in model.named_modules() if type(m).__name__ == "BatchNorm2d"]
    assert len(bns) == 4                                              # BatchNorm after every convolution
    gammas = np.linspace(0.5, 2.0, 32).astype(np.float32)
    gammas[[3, 7]] = [1e-4, -2e-4]                                    # |γ| counts: a negative tiny scale is dead too
    bns[0].weight.data = to_device(gammas, device)
    all_scales = np.concatenate([gammas] + [np.ones(m.num_features) for m in bns[1:]])
    assert shedding.bn_threshold(model) == pytest.approx(0.01 * np.median(np.abs(all_scales)))
    dead = shedding.bn_dead_channels(model, 1e-3)
    assert list(dead.values()) == [[3, 7], [], [], []]
    monitor = shedding.ShedMonitor({"kappa=0.01": 1e-6}, bn_tau=1e-3)
    row = {"epoch": 0}
    monitor.on_epoch_end(model, row)
    assert list(row["dead_bn"].values()) == [2, 0, 0, 0]
    assert shedding.bn_threshold(to_device(build("lenet300-100"), device)) is None    # no BatchNorm: none


def test_relative_shed_fraction_is_scale_free_while_the_fixed_tau_is_not(device):
    model = to_device(mlp([[[0.001, 0.5, 0.2, -0.3]], [[1.0, 0.002, 0.9, 0.8]]]), device)
    fixed = shedding.shed_fraction(model, 0.01)
    rel = shedding.relative_shed_fraction(model, 0.01)
    # layer 0: median 0.25, 0.001 < 0.0025; layer 2: median 0.85, 0.002 < 0.0085
    assert rel["layers.0.weight"] == 0.25 and rel["layers.2.weight"] == 0.25 and rel["overall"] == 0.25
    assert fixed["layers.0.weight"] == 0.25
    prunable(model)["layers.0.weight"].data *= 1e-3                   # weight decay shrinking a whole layer
    assert shedding.shed_fraction(model, 0.01)["layers.0.weight"] == 1.0
    assert shedding.relative_shed_fraction(model, 0.01)["layers.0.weight"] == 0.25


def test_first_to_shed_names_the_first_epoch_each_layer_reaches_the_level():
    rows = [{"epoch": e, "shed": {"k": {"a": a, "b": b, "overall": 0}}}
            for e, (a, b) in enumerate([(0.0, 0.05), (0.2, 0.05), (0.05, 0.3), (0.3, 0.4)])]
    assert shedding.first_to_shed(rows, "k", 0.1) == {"a": 2, "b": 3}
    assert shedding.first_to_shed(rows, "k", 0.5) == {"a": None, "b": None}


def test_gradual_gmp_step_counts_the_removed_weights_that_were_already_shed(device):
    from minidi.experiments.shedding.cells import gmp_step
    model = to_device(mlp([[[0.001, 0.5, 0.002, 0.6, 0.003, 0.7]]]), device)
    removed, picked, shed_before = gmp_step(model, 0.5, 0.0025)     # removes 0.001, 0.002, 0.003; two were shed
    assert (removed, picked, shed_before) == (3, 2, 2)
    np.testing.assert_array_equal(to_numpy(prunable(model)["layers.0.weight"].mask), [[0, 1, 0, 1, 0, 1]])


def test_map_points_run_seed_0_everywhere_and_later_seeds_at_the_corners():
    from minidi.experiments import shedding as study
    c = study.configure(dataset="synthetic", seeds=3, map=True, map_lrs=[0.01, 0.03, 0.1], map_wds=[0, 1e-3],
                        map_fractions=[0.05, 0.1, 0.2], map_epochs=2)
    points = study.spec.map_points(c)
    assert len([p for p in points if p[3] == 0]) == 3 * 2 * 3
    later = {(lr, wd, f) for lr, wd, f, s in points if s > 0}
    assert later == {(lr, wd, f) for lr in (0.01, 0.1) for wd in (0, 1e-3) for f in (0.05, 0.2)}
    assert len(points) == 18 + 2 * 8
    groups, cells = study.grid(c)
    default_groups, _ = study.grid(study.configure(dataset="synthetic", seeds=3))
    # the map and the default study share their dense models (same hashes: one cached model per seed)
    assert [d.key for d in groups["dense"]] == [d.key for d in default_groups["dense"]]
    assert len({cell.key for cell in groups["map"].values()}) == len(points)


def test_shedding_map_end_to_end_on_synthetic_reuses_dense_cells(tmp_path, device):
    cache = str(tmp_path / "c")
    args = ["shedding", "--device", device, "--dataset", "synthetic", "--synthetic-samples", "300", "--map",
            "--map-lrs", "0.1", "--map-wds", "0,0.05", "--map-epochs", "3", "--seeds", "2", "--probe", "20",
            "--cache", cache]
    r = CliRunner().invoke(main, args + ["--map-fractions", "0.1,0.2", "--out", str(tmp_path / "a"), "--quiet"])
    assert r.exit_code == 0, r.output
    out = str(tmp_path / "a")
    with open(os.path.join(out, "map.csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == (4 + 4) * 3                                  # 4 points, all corners: 2 seeds; 3 epochs each
    text = open(os.path.join(out, "report.md")).read()
    claims = [line for line in text.splitlines() if line[:3] in ("1. ", "2. ", "3. ", "4. ")]
    assert len(claims) == 4 and all(any(f"**{v}**" in c for v in ("held", "not held", "undecided")) or
                                    "nothing to judge" in c for c in claims)
    assert "| 0.1 | 0 |" in text and "never |" in text               # wd 0: the decay law never sheds
    assert os.path.getsize(os.path.join(out, "phase_map.png")) > 1000
    r = CliRunner().invoke(main, args + ["--map-fractions", "0.3", "--out", str(tmp_path / "b")])
    assert r.exit_code == 0, r.output
    assert "2 already done" in r.output                              # both dense models came from the cache


def test_the_map_region_and_the_picked_setting_follow_constructed_sigmas():
    from minidi.experiments.shedding import mapreport
    c = dict(map_lrs=[0.01, 0.1], map_wds=[0.0, 0.5], map_fractions=[0.1, 0.2], map_epochs=3)
    sig = {(0.1, 0.5, 0.1): [0.1, 0.35, 0.4],        # 3f = 0.3: from epoch 2
           (0.1, 0.5, 0.2): [0.1, 0.3, 0.7],         # 3f = 0.6: from epoch 3
           (0.01, 0.5, 0.1): [0.4, 0.2, 0.5]}        # reaches it, dips, reaches it again: from epoch 3
    stats = {(lr, wd, f, e): {"sigma": {"kappa=0.01": (sig.get((lr, wd, f), [0.0] * 3)[e - 1], 0.0)},
                              "acc": (0.9, 0.0)}
             for lr in c["map_lrs"] for wd in c["map_wds"] for f in c["map_fractions"] for e in (1, 2, 3)}
    reg = mapreport.region(c, stats)
    assert sorted(reg) == [(0.01, 0.5, 0.1, 3), (0.1, 0.5, 0.1, 2), (0.1, 0.5, 0.2, 3)]
    assert mapreport.pick(c, stats, reg) == (0.1, 0.5, 3, 0.9, [0.1, 0.2])      # in the region at both fractions
    assert mapreport.pick(c, stats, []) is None
    # the claims on replicates: two per point, σ a hair apart (an interval), the same constructed values
    results = {(lr, wd, f, s): {"steps_per_epoch": 469, "history": [
        {"shed": {"kappa=0.01": {"overall": v * (1 + 0.001 * s)}}} for v in sig.get((lr, wd, f), [0.0] * 3)]}
        for lr in c["map_lrs"] for wd in c["map_wds"] for f in c["map_fractions"] for s in (0, 1)}
    lines = mapreport.map_claims(c, results, stats, reg)
    assert "point: **held**" in lines[0]
    assert "every wd = 0 point: **held** (per point: 4 not held;" in lines[1]
    # wd 0.5 sheds a zero-gradient weight within an epoch at both LRs: the law allows all 4 wd-0.5 points and
    # bars the 4 wd-0 points, none of which sheds
    assert "necessary" in lines[2] and "**held** (4 such point(s): 4 not held)" in lines[2]
    assert "sheds: **not held** (4 allowed point(s): 3 held, 1 not held)" in lines[3]      # LR 0.01 wd 0.5 f 0.2
    assert mapreport.snapshots(40) == [1, 5, 10, 20, 40] and mapreport.snapshots(3) == [1, 3]
