"""The core study's new arms, each against an oracle of its own: scratch arms are fresh draws of the pruned widths
(not the inherited weights) from the preset's init distribution; Scratch-B's epochs follow the FLOPs rule on a
constructed case; AI makes every pruned layer orthogonal with its masks kept; TPP's penalty and λ schedule equal
the research note's formulas; the closed form of a pruned linear MLP's layer spectra; claims follow the numbers."""
import copy
import math

import numpy as np
import pytest

from minidi.measure import layerspectra
from minidi import models
from minidi.backend import device_of, to_device, to_numpy
from minidi.data import synthetic
from minidi.errors import MinidiError
from minidi.train import train_sgd
from minidi.experiments.isometry import arms, claims, configure, grid
from minidi.recover import TPPRegularizer, approximate_isometry, isometry_loss
from minidi.models.plan import weight_layers
from minidi.prune import l1_keep, prune_neurons, uniform_spec


def _small(name="mlp7-relu", device="cpu", seed=0, **over):
    """A preset at laptop size (the same builder, init and activation): width 12 on 30 inputs."""
    return to_device(models.build(name, seed=seed, **{"width": 12, "in_dim": 30, **over}), device)


def _spec(model, pr=0.5):
    return uniform_spec(pr, len(weight_layers(model)))


def _data(device, n=200, d=30):
    x, y = synthetic(n, d, classes=10, seed=0)
    return {"train": (to_device(x, device), to_device(y, device)), "test": (to_device(x[:50], device), to_device(y[:50], device))}


def test_arms_parse_routes_alone_for_both_lrs_and_refuse_unknown_names():
    assert arms.parse_arms("all") == arms.ALL_ARMS and len(arms.ALL_ARMS) == 12
    assert arms.parse_arms("lr0.01,scratch-e,lr0.01") == ("lr0.01", "lr0.01+scratch-e", "lr0.001+scratch-e")
    assert arms.split("lr0.001+tpp") == ("lr0.001", "tpp") and arms.split("lr0.01") == ("lr0.01", "")
    with pytest.raises(MinidiError, match="unknown arm 'tpp2'"):
        arms.parse_arms("tpp2")
    with pytest.raises(MinidiError, match="empty entry"):
        arms.parse_arms("lr0.01, ,ai")


def test_a_scratch_arm_is_a_fresh_draw_of_the_pruned_widths(device):
    dense = _small(device=device)
    pruned = prune_neurons(dense, _spec(dense))
    c = {"arm": "lr0.01+scratch-e", "scratch_seed": 10_003, "batch_size": 100}
    model, _ = arms.starting_network(c, dense, _spec(dense), _data(device), None, None)
    assert model.widths == pruned.widths == [30, 6, 6, 6, 6, 6, 6, 10]
    assert device_of(model.linear_layers()[0].weight.data) == device_of(dense.linear_layers()[0].weight.data)
    oracle = models.mlp(7, [6] * 6, act="relu", in_dim=30, n_classes=10, seed=10_003)   # the builder, directly
    for got, want, inherited in zip(model.linear_layers(), oracle.linear_layers(), pruned.linear_layers()):
        w = to_numpy(got.weight.data)
        np.testing.assert_array_equal(w, want.weight.data)
        assert not np.allclose(w, to_numpy(inherited.weight.data))                      # none inherited
        bound = 1 / math.sqrt(w.shape[1])                                               # U(±1/√fan_in) at its own fan-in
        assert np.abs(w).max() <= bound
    wide = to_numpy(models.fresh(prune_neurons(models.build("mlp7-relu"), uniform_spec(0.8, 7)), 5).linear_layers()[0].weight.data)
    assert wide.shape == (20, 1024) and abs(wide.std() - 1 / math.sqrt(3 * 1024)) < 0.03 / math.sqrt(3 * 1024)


def test_fresh_lenet5_has_the_pruned_channels_and_kaiming_normal_at_their_fan_in():
    dense = models.build("lenet5-relu")
    pruned = prune_neurons(dense, uniform_spec(0.5, 5, (0, 2)))
    fresh = models.fresh(pruned, 7)
    assert fresh.widths == pruned.widths == [3, 8, 60, 84, 10]
    w = fresh.pruning_plan()[2].layer.weight.data                      # conv3: 60 × 8 × 5 × 5, fan-in 200
    assert abs(w.std() - math.sqrt(2 / 200)) < 0.05 * math.sqrt(2 / 200)
    hand_built = models.ConvNet(models.build("conv4").features, models.build("conv4").classifier)
    hand_built.name, hand_built.build_overrides = "conv4", {}
    with pytest.raises(MinidiError, match="cannot be rebuilt at other widths"):
        models.fresh(hand_built, 0)


def test_scratch_b_epochs_follow_the_flops_rule():
    assert arms.flops(models.mlp(3, [5, 4], in_dim=6, n_classes=3)) == 6 * 5 + 5 * 4 + 4 * 3
    assert arms.scratch_b_epochs(1000, 100, 10, 10, cap=100) == 100          # 10 epochs × 10× fewer FLOPs
    assert arms.scratch_b_epochs(1000, 100, 10, 10, cap=2) == 20             # capped at 2 × the epochs
    assert arms.scratch_b_epochs(1000, 990, 10, 10, cap=2) == 10             # never fewer than Scratch-E's
    # MLP-7-Linear at PR 0.8: 1024·100 + 5·100² + 100·10 = 153 400 against 1024·20 + 5·20² + 20·10 = 22 680
    c = configure("mlp7-linear", epochs=90, scratch_b_cap=10, arms="scratch-b")
    cells = grid(c)[0]["finetune"]
    assert {cell.config["epochs"] for cell in cells.values()} == {round(90 * 153400 / 22680)}
    assert {cell.config["epochs"] for cell in grid(configure("mlp7-linear", epochs=90, arms="scratch-b"))[0]["finetune"].values()} == {180}


def test_approximate_isometry_makes_every_pruned_layer_orthogonal_with_masks_kept(device):
    dense = _small(device=device, dtype=np.float64)
    c = {"arm": "lr0.001+ai", **arms.AI}
    model, facts = arms.starting_network(c, dense, _spec(dense), None, None, None)
    for layer in model.linear_layers():                                    # ReLU: rows orthogonal with norm √2
        assert float(isometry_loss(layer.weight.data / math.sqrt(2))[0]) < arms.AI["ai_tol"]
    assert all(last < arms.AI["ai_tol"] for _, last, _ in facts["ai_loss"].values())
    masked = to_device(models.mlp(2, 6, "linear", in_dim=12, n_classes=3, seed=1, dtype=np.float64), device)
    mask = np.ones((6, 12))
    mask[:3, :4] = 0                                                        # zeros that leave room for W Wᵀ = I
    masked.linear_layers()[0].weight.set_mask(to_device(mask, device))
    approximate_isometry(masked, steps=20000, lr=1e-2, tol=1e-9)
    w = to_numpy(masked.linear_layers()[0].weight.data)
    assert not w[mask == 0].any()
    assert np.abs(w @ w.T - np.eye(6)).max() < 1e-4


def test_tpp_penalty_and_lambda_schedule_equal_the_notes_formulas(device):
    model = to_device(models.mlp(2, 6, "relu", in_dim=5, n_classes=3, seed=3, dtype=np.float64), device)
    reg = TPPRegularizer(model, "0:0.5", step=arms.tpp_step(2, 50), every=10)
    assert arms.tpp_step(2, 50) == 1 / 8                   # λ reaches 1 after 80 % of the 100 iterations
    for t, lam in ((0, 0), (9, 0), (10, 0.125), (79, 0.875), (80, 1.0), (99, 1.0)):
        reg.iteration = t
        assert reg.lam == pytest.approx(lam)
    assert arms.tpp_step(125000 / 600, 600) == pytest.approx(1e-4)     # the paper's 1e-4 per 10 iterations
    reg.iteration = 40                                      # λ = 0.5
    layer = model.linear_layers()[0]
    w, b = to_numpy(layer.weight.data), to_numpy(layer.bias.data)
    gone = np.setdiff1d(np.arange(6), np.argsort(-np.abs(w).sum(axis=1), kind="stable")[:3])
    assert sorted(reg.pruned[0]) == sorted(gone)            # L1's choice, fixed
    g = w @ w.T
    t = g.copy()
    t[gone, :] = 0
    t[:, gone] = 0
    expected = 1000 * 0.5 * np.mean((g - t) ** 2) + 0.5 * 0.5 * ((w[gone] ** 2).sum() + (b[gone] ** 2).sum())
    assert float(reg.penalty_and_grads(model)[0]) == pytest.approx(expected, rel=1e-12)
    reg.on_resume(model, [{}] * 3)                          # without steps_per_epoch nothing is known: unchanged
    assert reg.iteration == 40
    resumed = TPPRegularizer(model, "0:0.5", step=0.125, every=10, steps_per_epoch=50)
    resumed.on_resume(model, [{}] * 1)                      # a resumed phase restarts λ where it stood
    assert resumed.iteration == 50 and resumed.lam == pytest.approx(0.625)


def test_the_tpp_route_removes_the_units_l1_chose_on_the_dense_model(device, tmp_path):
    dense = _small(device=device)
    data = _data(device, n=2000)                            # 20 steps an epoch: λ grows every 10
    c = {"arm": "lr0.01+tpp", "tpp_epochs": 2, "tpp_lr": 0.01, "tpp_step": arms.tpp_step(2, 20), "batch_size": 100}
    train = lambda m, sched, epochs, folder, cbs: train_sgd(m, sched, data, epochs, 100, 0.9, 1e-4, 0, folder,  # noqa: E731
                                                              callbacks=cbs, weights=None)
    model, facts = arms.starting_network(c, dense, _spec(dense), data, str(tmp_path), train)
    assert model.widths == prune_neurons(dense, _spec(dense)).widths
    assert facts["tpp_lambda_end"] == 1.0
    keep = l1_keep(dense, _spec(dense))
    assert all(len(k) == 6 for k in keep.values())
    assert (tmp_path / "tpp-phase" / "checkpoint.npz").is_file()            # the phase is its own resumable run


def test_a_pruned_linear_mlp_has_the_closed_form_layer_spectra(device):
    dense = _small("mlp7-linear", device=device, dtype=np.float64)
    spec = _spec(dense, 0.5)
    keep = l1_keep(dense, spec)
    pruned = prune_neurons(dense, spec)
    x = to_device(np.random.default_rng(0).standard_normal((9, 30)), device)
    measured = layerspectra.layer_spectra(pruned, x)
    rows_in = np.arange(30)
    for k, (row, layer) in enumerate(zip(measured, dense.linear_layers())):
        rows_out = keep.get(k, np.arange(layer.out_features))
        restricted = to_numpy(layer.weight.data)[np.ix_(rows_out, rows_in)]      # W_l on the kept units, from the dense
        s = np.linalg.svd(restricted, compute_uv=False)
        for key, value in (("mean", s.mean()), ("min", s.min()), ("max", s.max())):
            assert abs(row["local"][key] - value) < 1e-10, (k, key)
        rows_in = rows_out
    for (name, s), row in zip(layerspectra.linear_closed_form(pruned), measured):
        assert abs(float(to_numpy(s).mean()) - row["local"]["mean"]) < 1e-10
    with pytest.raises(MinidiError, match="linear networks only"):
        layerspectra.linear_closed_form(_small(device=device))


def _summary(values, epochs=3):
    """A constructed summary: {arm: [last-5 per replicate]}, flat histories, no per-layer spectra."""
    arms_ = {arm: {str(i): {"last5_mean": v, "epoch0": {"jsv": {"mean": 0.5}, "test_acc": 0.1},
                            "history": [{"epoch": e, "jsv_mean": 1.0, "test_acc": v} for e in range(epochs)]}
                   for i, v in enumerate(vs)} for arm, vs in values.items()}
    return {"arms": arms_, "config": {"finetune_epochs": epochs, "scratch_b_cap": 2, "pr": 0.8}}


def test_the_value_of_pruning_claim_follows_the_numbers():
    ahead = _summary({"lr0.01": [0.95, 0.96, 0.97], "lr0.001+orthp": [0.955, 0.965, 0.975],
                      "lr0.01+scratch-e": [0.90, 0.91, 0.92], "lr0.001+scratch-e": [0.85, 0.86, 0.87],
                      "lr0.001": [0.80, 0.81, 0.82]})
    line = claims.value_of_pruning(ahead)[0]
    assert "(the better Scratch-E): **held**" in line and "+5.00 pts" in line
    behind = copy.deepcopy(ahead)
    for r in behind["arms"]["lr0.01+scratch-e"].values():
        r["last5_mean"] = 0.97 + r["last5_mean"] - 0.90
    assert "(the better Scratch-E): **not held**" in claims.value_of_pruning(behind)[0]
    assert claims.value_of_pruning(_summary({"lr0.01": [0.9]})) == []            # no scratch arm: no claim
    lr_line = claims.value_of_pruning(ahead)[1]                 # leads +5.00 at 0.01, −5.00 at 0.001: +10 points
    assert "decides the value of pruning" in lr_line and "+10.00 pts" in lr_line and "**held**" in lr_line
    small_lr_wins = copy.deepcopy(ahead)
    for r in small_lr_wins["arms"]["lr0.001"].values():
        r["last5_mean"] += 0.19                                   # the lead at 0.001 now +14 points
    assert "**not held**" in claims.value_of_pruning(small_lr_wins)[1]


def test_the_layer_line_names_the_layer_furthest_from_isometry():
    row = lambda name, d: {"layer": name, "local": {"dist_to_one": d, "mean": 1, "min": 1, "max": 1},  # noqa: E731
                           "product": {"dist_to_one": d, "mean": 1, "min": 1, "max": 1}}
    summary = _summary({"lr0.01": [0.9]})
    summary["layers"] = {"dense": [row("layers.0", 0.1), row("layers.2", 0.2)],
                         "pruned": [row("layers.0", 0.1), row("layers.2", 3.0)], "closed_form_max_gap": 1e-12}
    r = summary["arms"]["lr0.01"]["0"]
    r["epoch0"]["layers"] = summary["layers"]["pruned"]
    for h in r["history"]:
        h["layers"] = [row("layers.0", 0.1), row("layers.2", 0.5)]
    text = "\n".join(claims.layer_table(summary))
    assert "furthest from isometry is **layers.2** (mean (s−1)² 3" in text and "lr0.01 3 → 0.5" in text
    assert "< 1e-6: check **passed**" in text
