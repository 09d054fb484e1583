"""The core study on convolutional networks, each piece against an oracle of its own: the layers the authors'
scheme prunes (read off the plan's names), the CNN Jacobian's singular values against an SVD of central
differences on a small residual net with BatchNorm in eval mode, the arms' widths and weights, TPP's conv penalty
and BatchNorm term against the note's formulas computed in the test, and the whole study for one epoch on
CIFAR-10 files the test writes, with every arm."""
import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from minidi import models
from minidi.backend import to_device, to_numpy
from minidi.cli import main
from minidi.data import cifar
from minidi.experiments.isometry import ARMS, arms, configure, grid
from minidi.experiments.isometry.protocol import RECIPES, pretrain_epochs, study_spec
from minidi.measure.spectrum import jsv
from minidi.models.convnets import Init
from minidi.models.resnet import ResNet
from minidi.nn import BasicBlock, Identity, Sequential, ZeroPadShortcut
from minidi.prune import prune_neurons
from minidi.recover import TPPRegularizer, as_matrix
from minidi.testing.gradcheck import numerical_grad

from test_cifar import write_cifar


def pruned_names(name, pr=0.5):
    model = models.build(name)
    spec = study_spec(model, pr)
    return [e.name for i, e in enumerate(model.pruning_plan()) if spec[i] > 0]


def test_the_authors_scheme_prunes_the_layers_the_note_names():
    assert pruned_names("resnet20") == [f"layer{k}.{b}.conv1" for k in (1, 2, 3) for b in range(3)]
    assert len(pruned_names("resnet56")) == 27                        # 9 blocks a stage
    vgg = models.build("vgg19").pruning_plan()
    assert pruned_names("vgg19") == [e.name for e in vgg[1:-1]] and len(vgg) == 17   # every conv but the first
    assert pruned_names("conv4") == ["features.3", "features.7", "features.10"]
    assert pruned_names("lenet5-relu") == ["features.0", "features.3", "features.6"]  # the note's 0-2
    assert pruned_names("mlp7-linear") == [f"layers.{2 * k}" for k in range(6)]      # all but the output layer
    assert study_spec(models.build("resnet20"), 0.0) == {i: 0.0 for i in range(20)}     # 19 convs + the linear


def tiny_resnet(seed=0):
    """Two residual blocks (an identity and a zero-padded stride-2 shortcut), BN after every conv, float64."""
    i = Init(seed, dtype=np.float64)
    block = lambda c, p, s, short: BasicBlock(i.conv(c, p, 3, s, 1, False), i.bn(p), i.conv(p, p, 3, 1, 1, False),  # noqa: E731
                                             i.bn(p), short)
    stages = [Sequential(block(4, 4, 1, Identity())), Sequential(block(4, 8, 2, ZeroPadShortcut(4, 8, 2)))]
    return ResNet(i.conv(3, 4, 3, 1, 1, False), i.bn(4), stages, i.linear(8, 5), side=6)


def test_cnn_jsv_equals_the_svd_of_central_differences(device, xp):
    model = to_device(tiny_resnet(), device)
    model.train()
    rng = np.random.default_rng(3)
    for _ in range(3):                                     # running statistics far from the init's 0 and 1
        model.forward(xp.asarray(2 + 3 * rng.standard_normal((16, 3, 6, 6))))
    x = xp.asarray(rng.standard_normal((3, 3, 6, 6)))
    s = to_numpy(jsv(model, x))                            # the study's measurement: one backward per logit
    assert model.training                                  # eval inside, restored after
    model.eval()
    for n in range(3):
        xn = x[n:n + 1].copy()
        rows = [to_numpy(numerical_grad(lambda: model.forward(xn)[0, k], xn)).reshape(-1) for k in range(5)]
        want = np.linalg.svd(np.stack(rows), compute_uv=False)
        np.testing.assert_allclose(np.sort(s[n])[::-1], want, rtol=1e-6)


def test_cnn_arms_keep_the_widths_and_start_where_the_note_says(device, tmp_path):
    dense = to_device(models.build("resnet20", dtype=np.float64), device)
    spec = study_spec(dense, 0.5)
    l1 = prune_neurons(dense, spec)
    assert l1.architecture()["widths"] == [8] * 3 + [16] * 3 + [32] * 3
    start = lambda arm, **c: arms.starting_network({"arm": arm, "batch_size": 100, **c}, dense, spec, None,  # noqa: E731
                                                   str(tmp_path), None)[0]
    for arm in ("lr0.01", "lr0.01+orthp"):
        assert start(arm).architecture() == l1.architecture()
    inherited = l1.pruning_plan()[1].layer.weight.data
    np.testing.assert_array_equal(to_numpy(start("lr0.01").pruning_plan()[1].layer.weight.data), to_numpy(inherited))
    for e in start("lr0.01+orthp").pruning_plan():        # every flattened kernel: √2 × orthonormal rows or columns
        w = to_numpy(as_matrix(e.layer.weight.data))
        gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
        np.testing.assert_allclose(gram, 2 * np.eye(len(gram)), atol=1e-10)
    scratch = start("lr0.01+scratch-e", scratch_seed=10_000)
    assert scratch.architecture() == l1.architecture() and scratch.build_overrides["seed"] == 10_000
    oracle = models.resnet(20, widths=l1.architecture()["widths"], seed=10_000, dtype=np.float64)
    for got, want in zip(scratch.pruning_plan(), oracle.pruning_plan()):
        np.testing.assert_array_equal(to_numpy(got.layer.weight.data), want.layer.weight.data)
    ai = start("lr0.01+ai", ai_steps=20, ai_lr=1e-3, ai_tol=0.0)
    assert ai.architecture() == l1.architecture()


def test_vgg_and_conv4_are_rebuilt_at_their_pruned_widths(device):
    for name, pr in (("vgg19", 0.5), ("conv4", 0.9)):
        dense = to_device(models.build(name), device)
        pruned = prune_neurons(dense, study_spec(dense, pr))
        fresh = models.fresh(pruned, 3)
        assert fresh.widths == pruned.widths and fresh.widths[0] == dense.widths[0]
        for got, kept in zip(fresh.pruning_plan(), pruned.pruning_plan()):
            assert got.layer.weight.shape == kept.layer.weight.shape      # every kernel, the inputs included


def test_tpp_conv_penalty_and_batchnorm_term_equal_the_notes_formulas(device):
    model = to_device(models.conv4(channels=(4, 6, 5, 3), seed=2, dtype=np.float64), device)
    plan = model.pruning_plan()
    for e in plan[:4]:                                     # BN scales and shifts away from 1 and 0
        e.bn.weight.data = e.bn.weight.data + to_device(np.linspace(0.5, 1.5, e.bn.weight.shape[0]), device)
        e.bn.bias.data = e.bn.bias.data + to_device(np.linspace(-1, 1, e.bn.bias.shape[0]), device)
    spec = study_spec(model, 0.5)                          # conv4: features.3, .7, .10 at 0.5
    reg = TPPRegularizer(model, spec, step=0.25, every=1)
    reg.iteration = 2                                      # λ = 0.5
    expected = 0.0
    for i in (1, 2, 3):
        w = to_numpy(plan[i].layer.weight.data).reshape(plan[i].layer.weight.shape[0], -1)
        scores = np.abs(w).mean(axis=1)
        gone = np.argsort(scores, kind="stable")[:int(np.ceil(0.5 * len(scores)))]
        assert sorted(reg.pruned[i]) == sorted(gone)
        g = w @ w.T
        t = g.copy()
        t[gone, :] = 0
        t[:, gone] = 0
        gamma, beta = to_numpy(plan[i].bn.weight.data), to_numpy(plan[i].bn.bias.data)
        expected += 1000 * 0.5 * np.mean((g - t) ** 2)
        expected += 0.5 * 0.5 * ((w[gone] ** 2).sum() + (gamma[gone] ** 2).sum() + (beta[gone] ** 2).sum())
    penalty, grads = reg.penalty_and_grads(model)
    assert float(penalty) == pytest.approx(expected, rel=1e-12)
    for i, (dw, l2) in grads.items():                      # the penalty's gradient: a polynomial, so differences hold
        w = plan[i].layer.weight.data
        numeric = numerical_grad(lambda: reg.penalty_and_grads(model)[0], w)
        np.testing.assert_allclose(to_numpy(dw), to_numpy(numeric), rtol=1e-5, atol=1e-8)
        for name, p in (("bn_weight", plan[i].bn.weight), ("bn_bias", plan[i].bn.bias)):
            numeric = numerical_grad(lambda: reg.penalty_and_grads(model)[0], p.data)
            np.testing.assert_allclose(to_numpy(l2[name]), to_numpy(numeric), rtol=1e-5, atol=1e-8)


def test_the_cifar_protocol_configures_the_authors_recipe():
    c = configure("resnet56", dataset="cifar10")
    assert (c["epochs"], c["batch_size"], c["weight_decay"], c["augment"], c["pr"]) == (120, 128, 5e-4, True, 0.9)
    assert c["prs"] == [0.0, 0.3, 0.5, 0.7, 0.9, 0.95] and pretrain_epochs("cifar", 120) == 200
    cells = grid(c)[0]
    pre = cells["pretrain"][0].config
    assert (pre["epochs"], pre["lr"], pre["batch_size"]) == (200, RECIPES["cifar"]["pretrain_table"], 128)
    ft = cells["finetune"][("lr0.001", 0, 0)].config
    assert (ft["epochs"], ft["recipe"], ft["weight_decay"], ft["augment"]) == (120, "cifar", 5e-4, True)
    assert configure("vgg19", dataset="cifar100")["batch_size"] == 256
    short = grid(configure("resnet20", dataset="cifar10", epochs=6, pretrain_epochs=4))[0]
    assert short["pretrain"][0].config["epochs"] == 4 and short["pretrain"][0].config["lr"] == "0:0.1,2:0.01,3:0.001"


@pytest.fixture
def cifar_files(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar, "EXPECTED", {"cifar10": (160, 32), "cifar100": (32, 32)})
    write_cifar(tmp_path / "data" / "cifar10", "cifar10", per_file=32)      # 5 × 32 training, 32 test images
    return str(tmp_path / "data")


def test_a_one_epoch_cnn_core_study_on_cifar_files_runs_every_arm(cifar_files, tmp_path, device):
    out = str(tmp_path / "iso")
    args = ["isometry", "--model", "conv4", "--dataset", "cifar10", "--data-dir", cifar_files, "--epochs", "1",
            "--pretrain-epochs", "1", "--probe", "8", "--prs", "0,0.9", "--curvature", "2", "--out", out,
            "--cache", str(tmp_path / "cache"), "--quiet", "--device", device]
    r = CliRunner().invoke(main, args, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    summary = json.load(open(os.path.join(out, "summary.json")))
    assert summary["widths"] == [32, 3, 6, 6, 10] and summary["config"]["recipe"] == "cifar"   # PR 0.9: ⌈0.9·32⌉ of 32 go
    assert [row["widths"][1] for row in summary["sweep"]] == [32, 3]
    assert list(summary["arms"]) == list(ARMS)
    for arm, per_seed in summary["arms"].items():
        result = per_seed["0"]
        assert len(result["history"]) == (2 if arm.endswith("scratch-b") else 1)
        assert np.isfinite(result["epoch0"]["jsv"]["mean"]) and "jsv_mean" in result["history"][0]
    assert summary["arms"]["lr0.01+tpp"]["0"]["epoch0"]["tpp_lambda_end"] == 1.0   # 2 iterations: λ grows each
    assert list(summary["curvature"])[:3] == ["dense", "pruned", "orthp"]
    layers = summary["layers"]                                  # each conv's FFT spectrum, dense / pruned / every epoch
    assert layers["kind"] == "conv" and [r["layer"] for r in layers["pruned"]] == [
        "features.0", "features.3", "features.7", "features.10", "classifier"]
    assert all(len(r["history"][-1]["layers"]) == 5 for r in summary["arms"]["lr0.01"].values())
    assert os.path.isfile(os.path.join(out, "layers_vs_epoch.png"))
    products = summary["products"]                              # partial products at the cut points, per state
    assert list(products) == ["dense", "pruned", "orthp", "lr0.01 end", "lr0.001 end"]
    assert [r["layer"] for r in products["dense"]] == ["features.0", "features.3", "features.7", "features.10",
                                                       "classifier"]
    assert all(r["top"] ** 2 >= r["ms"] * (1 - 1e-6) > 0 for rows in products.values() for r in rows)   # σ_max² ≥ mean s²
    report = open(os.path.join(out, "report.md")).read()
    assert "Protocol: the CIFAR recipe" in report and "crop + flip" in report and "on cifar10" in report
    assert os.path.isfile(os.path.join(out, "products.png")) and "## Partial products inside the CNN" in report


def test_synthetic_cifar_sized_data_reach_the_cells_with_their_subset():
    c = configure("resnet20", dataset="synthetic", synthetic_samples=300, train_samples=200, epochs=2)
    assert arms.tpp_step(1, 2) == pytest.approx(1.0) and arms.tpp_every(1, 2) == 1    # too short for every 10
    assert arms.tpp_every(2, 50) == 10
    cells = grid(c)[0]
    assert cells["pretrain"][0].config["train_samples"] == 200
    tpp = cells["finetune"][("lr0.01+tpp", 0, 0)].config
    assert tpp["tpp_step"] == arms.tpp_step(tpp["tpp_epochs"], 2)      # ⌈200 / 128⌉ = 2 steps an epoch
