"""Pruning at initialization: the scores against their closed forms and finite differences, exact mask counts,
SynFlow's rounds, shuffle / reinit / invert, layer collapse, layer statistics."""
import copy

import numpy as np
import pytest
from scipy import stats

from minidi import models
from minidi.backend import to_device, to_numpy
from minidi.errors import MinidiError
from minidi.nn import Linear, SoftmaxCrossEntropy
from minidi.models.mlp import MLP
from minidi.nn import Identity, ReLU, Tanh
from minidi.prune import (collapse_report, keep_top, layer_collapse, layer_stats, per_class_batch, prune_at_init,
                          reinit_kept, scores, shuffle_masks, wd_ratios)
from minidi.measure.hessian import Hessian, hvp
from minidi.prune.scores import scoring_copy, weight_grads
from minidi.prune import prunable

from minidi.testing.gradcheck import numerical_grad, rel_error


def bias_free_mlp(widths, act=Identity, seed=0, bias=False):
    rng = np.random.default_rng(seed)
    layers = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        layers.append(Linear(rng.standard_normal((b, a)) / np.sqrt(a), rng.standard_normal(b) * 0.1 if bias else None))
        if i < len(widths) - 2:
            layers.append(act())
    return MLP(layers, "linear" if act is Identity else "relu")


def small_batch(n=20, d=6, classes=4, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), np.arange(n) % classes


def test_synflow_equals_the_closed_form_on_a_bias_free_linear_mlp(device):
    model = to_device(bias_free_mlp([5, 4, 3, 2]), device)
    s = scores(model, "synflow")
    W = [np.abs(to_numpy(m.weight.data)) for m in model.linear_layers()]
    for l, name in enumerate(["layers.0.weight", "layers.2.weight", "layers.4.weight"]):
        left = np.ones(2)                                          # 1ᵀ |W_L| ... |W_{l+1}|
        for w in reversed(W[l + 1:]):
            left = left @ w
        right = np.ones(5)                                         # |W_{l-1}| ... |W_1| 1
        for w in W[:l]:
            right = w @ right
        np.testing.assert_allclose(to_numpy(s[name]), W[l] * np.outer(left, right), rtol=1e-12)


def test_snip_is_abs_weight_times_the_backprop_gradient_and_that_gradient_is_right(device):
    model = to_device(bias_free_mlp([6, 5, 4], ReLU, bias=True), device)
    x, y = (to_device(a, device) for a in small_batch())
    s = scores(model, "snip", x, y)
    work = scoring_copy(model, training=True)
    g = weight_grads(work, x, y)
    loss = SoftmaxCrossEntropy()
    for name, p in prunable(work).items():
        np.testing.assert_allclose(to_numpy(s[name]), np.abs(to_numpy(p.data) * to_numpy(g[name])), rtol=1e-12)
        numeric = numerical_grad(lambda: loss.forward(work.forward(x), y), p.data)
        assert rel_error(g[name], numeric) < 1e-7
    assert model.layers.layers[0].weight.grad is None             # the model itself is untouched


def test_grasp_hessian_gradient_product_matches_a_second_difference_of_the_loss(device):
    """On a smooth (Tanh) network, gᵀ(Hg) from the R-operator equals (L(θ+hg) − 2L(θ) + L(θ−hg)) / h²."""
    model = to_device(bias_free_mlp([6, 8, 4], act=Tanh, bias=True), device)
    x, y = (to_device(a, device) for a in small_batch())
    work = scoring_copy(model, training=True)
    T = 2.0
    g = weight_grads(work, x, y, T)
    hg = hvp(work, x, y, g, temperature=T)
    ghg = sum(float((g[k] * hg[k]).sum()) for k in g)
    loss = SoftmaxCrossEntropy()
    weights = prunable(work)
    theta = {k: p.data.copy() for k, p in weights.items()}

    def L(h):
        for k, p in weights.items():
            p.data = theta[k] + h * g[k]
        return float(loss.forward(work.forward(x) / T, y))
    h = 1e-3
    second = (L(h) - 2 * L(0.0) + L(-h)) / h ** 2
    assert abs(ghg - second) < 1e-5 * max(abs(second), 1e-3)
    s = scores(model, "grasp", x, y)                                # the score is −θ ⊙ Hg with T = 200
    H = Hessian(model, x, y, 200.0, training=True)
    hg200 = H @ H.gradient()
    for k, p in prunable(model).items():
        np.testing.assert_array_equal(to_numpy(s[k]), -to_numpy(p.data).astype(np.float64) * to_numpy(hg200[k]))


@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.75, 0.9, 0.968, 0.999])
@pytest.mark.parametrize("scope", ["global", "local"])
def test_exact_counts_at_every_scope_and_sparsity(sparsity, scope, device):
    model = to_device(models.build("lenet300-100", seed=0), device)
    prune_at_init(model, "magnitude", sparsity, scope)
    weights = prunable(model)
    kept = {k: int(to_numpy(p.mask).sum()) for k, p in weights.items()}
    if scope == "local":
        assert kept == {k: int(round((1 - sparsity) * p.size)) for k, p in weights.items()}
    else:
        assert sum(kept.values()) == int(round((1 - sparsity) * sum(p.size for p in weights.values())))
    for p in weights.values():                                      # the invariant: masked weights are exactly 0
        assert not np.any(to_numpy(p.data)[to_numpy(p.mask) == 0])


def test_keep_top_breaks_ties_by_position_and_keeps_the_highest():
    masks = keep_top({"a": np.array([1.0, 1.0, 1.0, 1.0]), "b": np.array([0.5, 2.0])}, 0.5)
    np.testing.assert_array_equal(masks["a"], [1, 1, 0, 0])
    np.testing.assert_array_equal(masks["b"], [0, 1])


@pytest.mark.parametrize("method", ["random", "magnitude", "snip", "grasp", "synflow"])
def test_every_method_keeps_the_exact_count_and_invert_keeps_the_complement_priority(method, device):
    model = to_device(models.build("lenet300-100", seed=0), device)
    x, y = (to_device(a, device) for a in (np.random.default_rng(0).standard_normal((40, 784)), np.arange(40) % 10))
    n = sum(p.size for p in prunable(model).values())
    a, b = copy.deepcopy(model), copy.deepcopy(model)
    prune_at_init(a, method, 0.9, x=x, y=y, rounds=5)
    prune_at_init(b, method, 0.9, x=x, y=y, rounds=5, invert=True)
    for m in (a, b):
        assert sum(int(to_numpy(p.mask).sum()) for p in prunable(m).values()) == round(0.1 * n)
    if method != "synflow":                                         # one shot: inverted = the lowest priorities
        overlap = sum(int((to_numpy(p.mask) * to_numpy(q.mask)).sum())
                      for p, q in zip(prunable(a).values(), prunable(b).values()))
        assert overlap == 0


def test_synflow_rounds_are_nested_and_reach_d_to_the_k_over_rounds(device):
    build = lambda: to_device(models.build("lenet300-100", seed=0), device)  # noqa: E731
    model = build()
    n = sum(p.size for p in prunable(model).values())
    prune_at_init(model, "synflow", 0.99, rounds=1)
    one_shot = {k: to_numpy(p.mask).copy() for k, p in prunable(model).items()}
    model = build()
    prune_at_init(model, "synflow", 1 - 0.01 ** 0.5, rounds=1)        # round 1 of 2 keeps d^(1/2)
    first = {k: to_numpy(p.mask).copy() for k, p in prunable(model).items()}
    model = build()
    prune_at_init(model, "synflow", 0.99, rounds=2)
    final = {k: to_numpy(p.mask) for k, p in prunable(model).items()}
    assert sum(int(m.sum()) for m in first.values()) == round(0.1 * n)
    assert sum(int(m.sum()) for m in final.values()) == round(0.01 * n)
    assert all(np.all(final[k] <= first[k]) for k in final)         # nested: nothing pruned comes back
    assert any(np.any(final[k] != one_shot[k]) for k in final)      # rescoring changed the choice


def test_shuffle_keeps_per_layer_counts_moves_positions_and_writes_back(device):
    model = to_device(models.build("lenet300-100", seed=0), device)
    dense = {k: v.copy() for k, v in model.state_dict().items()}
    prune_at_init(model, "magnitude", 0.9, "local")
    before = {k: to_numpy(p.mask).copy() for k, p in prunable(model).items()}
    shuffle_masks(model, seed=3, init=dense)
    for k, p in prunable(model).items():
        mask, data = to_numpy(p.mask), to_numpy(p.data)
        assert mask.sum() == before[k].sum()
        assert (mask != before[k]).mean() > 0.1                      # positions really moved
        np.testing.assert_array_equal(data, to_numpy(dense[k]) * mask)  # written back: init values at new positions
    moved = to_device(models.build("lenet300-100", seed=0), device)
    prune_at_init(moved, "magnitude", 0.9, "local")
    kept_before = sorted(np.concatenate([to_numpy(p.data)[to_numpy(p.mask) == 1] for p in prunable(moved).values()]))
    shuffle_masks(moved, seed=3)                                     # without init: values travel with the mask
    kept_after = sorted(np.concatenate([to_numpy(p.data)[to_numpy(p.mask) == 1] for p in prunable(moved).values()]))
    np.testing.assert_array_equal(kept_before, kept_after)


def test_reinit_keeps_the_mask_and_draws_from_the_init_distribution(device):
    model = to_device(models.build("lenet300-100", seed=0), device)
    prune_at_init(model, "magnitude", 0.75)
    masks = {k: to_numpy(p.mask).copy() for k, p in prunable(model).items()}
    old = {k: to_numpy(p.data).copy() for k, p in prunable(model).items()}
    reinit_kept(model, seed=10000)
    for k, p in prunable(model).items():
        np.testing.assert_array_equal(to_numpy(p.mask), masks[k])
        w, kept = to_numpy(p.data), masks[k] == 1
        assert not np.any(w[~kept])
        assert np.mean(w[kept] != old[k][kept]) > 0.99
        bound = 1 / np.sqrt(p.shape[1])                              # PyTorch's Linear default: U(±1/√fan_in)
        assert stats.kstest(w[kept], stats.uniform(-bound, 2 * bound).cdf).pvalue > 1e-3
        # magnitude kept the large |w|; the re-drawn ones are uniform again (the old kept ones are not)
        assert stats.kstest(old[k][kept], stats.uniform(-bound, 2 * bound).cdf).pvalue < 1e-6


def test_collapse_detected_on_a_constructed_case(device):
    model = to_device(bias_free_mlp([4, 3, 3, 2]), device)
    w = prunable(model)
    masks = {k: np.ones(p.shape) for k, p in w.items()}
    masks["layers.2.weight"][:, 0] = 0                 # unit 0 of layer 1 feeds nothing; the others are cut:
    masks["layers.0.weight"][1:, :] = 0                # only unit 0 has inputs, so layer 2 reads only dead units
    from minidi.prune import apply_masks
    apply_masks(model, masks)
    report = {r["name"]: r for r in collapse_report(model)}
    assert layer_collapse(model) == ["layers.0.weight", "layers.2.weight", "layers.4.weight"]
    assert report["layers.2.weight"]["kept"] == 6 and report["layers.2.weight"]["connected"] == 0
    masks["layers.2.weight"][:, 0] = 1                 # reconnect unit 0: one path through every layer again
    apply_masks(to_device(model, device), masks)
    assert layer_collapse(model) == []
    assert {r["name"]: r["connected"] for r in collapse_report(model)} == {
        "layers.0.weight": 4, "layers.2.weight": 3, "layers.4.weight": 6}


def test_collapse_of_an_empty_layer_in_a_resnet(device):
    model = to_device(models.build("resnet20", seed=0), device)
    name = "layer2.0.conv1.weight"
    masks = {name: np.zeros(prunable(model)[name].shape)}
    from minidi.prune import apply_masks
    apply_masks(model, masks)
    assert name in layer_collapse(model)                              # the shortcut still carries the signal,
    assert "layer3.0.conv1.weight" not in layer_collapse(model)       # so later layers stay connected


def test_layer_stats_and_wd_ratios_on_known_values(device):
    model = bias_free_mlp([3, 2, 2])
    from minidi.prune import apply_masks
    prunable(model)["layers.0.weight"].data[...] = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    model = to_device(model, device)
    apply_masks(model, {"layers.0.weight": np.array([[1, 1, 0], [0, 1, 1]])})
    st = layer_stats(model)["layers.0.weight"]
    assert st["density"] == pytest.approx(4 / 6) and st["mean"] == pytest.approx(3.5)
    assert st["std"] == pytest.approx(np.std([1, 2, 5, 6]))
    orig = {"l": np.array([0.0, 1.0])}
    r = wd_ratios(orig, {"shuffle": {"l": np.array([0.0, 1.5])}}, {"l": np.array([0.0, 3.0])})
    assert r["shuffle"]["l"] == pytest.approx(0.5 / 2.0)


def test_per_class_batch_draws_exactly_per_class_by_seed(device):
    y = np.repeat(np.arange(10), 30)
    x = np.arange(300)[:, None].astype(float)
    xb, yb = (to_numpy(a) for a in per_class_batch(to_device(x, device), to_device(y, device), 10, seed=0))
    assert np.array_equal(np.bincount(yb), np.full(10, 10))
    assert np.array_equal(y[xb[:, 0].astype(int)], yb)
    assert not np.array_equal(per_class_batch(x, y, 10, seed=1)[0], xb)
    with pytest.raises(MinidiError, match="fewer than 40"):
        per_class_batch(x, y, 40, seed=0)


@pytest.mark.parametrize("call, message", [
    (lambda m: prune_at_init(m, "magnitude", 1.0), "sparsity"),
    (lambda m: prune_at_init(m, "magnitude", -0.1), "sparsity"),
    (lambda m: prune_at_init(m, "obd", 0.5), "unknown pruning method"),
    (lambda m: prune_at_init(m, "snip", 0.5), "snip scores need data"),
    (lambda m: scores(m, "grasp"), "need data"),
    (lambda m: prune_at_init(m, "magnitude", 0.5, scope="row"), "scope"),
])
def test_api_errors(call, message):
    with pytest.raises(MinidiError, match=message):
        call(models.build("lenet300-100", seed=0))


def test_the_pai_benchmark_runs(device):
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = subprocess.run([sys.executable, "benchmarks/bench_pai.py", "--device", device, "--rounds", "2", "--batch", "10",
                        "--repeats", "1", "--no-baseline"], capture_output=True, text=True, cwd=root, timeout=600,
                       env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert p.returncode == 0, p.stderr
    rows = [line.split("  minidi")[0].strip() for line in p.stdout.splitlines() if "  minidi " in line]
    assert rows == ["lenet300-100 SynFlow 2 rounds", "lenet300-100 snip scores, batch 10", "lenet300-100 grasp scores, batch 10",
                    "resnet20 SynFlow 2 rounds", "resnet20 snip scores, batch 10", "resnet20 grasp scores, batch 10"]


def test_the_linear_time_selection_equals_a_stable_descending_sort():
    from minidi.prune.masks import keep_highest
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(1, 200))
        values = rng.integers(0, 5, n).astype(float)          # many ties
        values[rng.random(n) < 0.2] = -np.inf                  # pruned earlier (SynFlow's rounds)
        density = rng.random()
        expected = np.zeros(n, dtype=np.float32)
        expected[np.argsort(-values, kind="stable")[:int(round(density * n))]] = 1
        np.testing.assert_array_equal(keep_highest(values, density), expected)


@pytest.mark.parametrize("method", ["magnitude", "snip", "grasp"])
def test_scoring_once_and_cutting_at_many_sparsities_gives_prune_at_init_masks(method, device):
    from minidi.prune.at_init import apply_scores
    model = to_device(models.build("lenet300-100", seed=0), device)
    x, y = (to_device(a, device) for a in (np.random.default_rng(0).standard_normal((40, 784)), np.arange(40) % 10))
    once = scores(model, method, x, y)
    for sparsity in (0.5, 0.9, 0.99):
        a, b = copy.deepcopy(model), copy.deepcopy(model)
        prune_at_init(a, method, sparsity, x=x, y=y)
        apply_scores(b, method, once, 1 - sparsity)
        for p, q in zip(prunable(a).values(), prunable(b).values()):
            np.testing.assert_array_equal(to_numpy(p.mask), to_numpy(q.mask))
