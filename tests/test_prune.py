"""L1 neuron pruning with physical removal, ratio specs, unstructured masks and the layer report."""
import numpy as np
import pytest

from minidi import models
from minidi.backend import to_device, to_numpy
from minidi.errors import MinidiError
from minidi.prune import (format_report, kept_units, l1_scores, layer_report, load_masks, magnitude_masks,
                          n_to_prune, parse_spec, prune_neurons, random_masks, save_masks, sparsity_of)


def test_l1_score_is_mean_abs_incoming_weight():
    w = np.array([[1.0, -1.0, 2.0], [0.0, 0.0, -3.0]])
    np.testing.assert_allclose(l1_scores(w), [4 / 3, 1.0])
    kernel = np.arange(24, dtype=float).reshape(2, 3, 2, 2) - 12
    np.testing.assert_allclose(l1_scores(kernel), np.abs(kernel).reshape(2, -1).mean(1))


@pytest.mark.parametrize("ratio, n, expected", [(0.8, 100, 80), (0.9, 100, 90), (0.1, 100, 10), (0.25, 10, 3),
                                                (0.99, 10, 9), (0.5, 1, 0), (0, 7, 0), (0.3, 7, 3)])
def test_number_removed_is_min_ceil_pr_n_and_n_minus_1(ratio, n, expected):
    assert n_to_prune(ratio, n) == expected


def test_l1_selection_removes_exactly_the_lowest_scores():
    scores = np.array([0.5, 0.1, 0.9, 0.3, 0.7, 0.2])
    np.testing.assert_array_equal(kept_units(scores, 0.5), [0, 2, 4])          # 1, 5, 3 removed
    np.testing.assert_array_equal(kept_units(np.ones(4), 0.5), [2, 3])        # ties: lowest indices go first


def test_prune_neurons_keeps_rows_bias_and_next_columns(device):
    model = to_device(models.mlp(3, 6, "relu", in_dim=4, n_classes=3, seed=0, dtype=np.float64), device)
    before = {k: to_numpy(v).copy() for k, v in model.state_dict().items()}
    pruned = prune_neurons(model, "0:0.5,1:0.34,2:0")
    keep0 = kept_units(l1_scores(before["layers.0.weight"]), 0.5)
    keep1 = kept_units(l1_scores(before["layers.2.weight"]), 0.34)            # scored on the original weights
    assert pruned.widths == [4, 3, 3, 3]
    s = {k: to_numpy(v) for k, v in pruned.state_dict().items()}
    np.testing.assert_array_equal(s["layers.0.weight"], before["layers.0.weight"][keep0])
    np.testing.assert_array_equal(s["layers.0.bias"], before["layers.0.bias"][keep0])
    np.testing.assert_array_equal(s["layers.2.weight"], before["layers.2.weight"][keep1][:, keep0])
    np.testing.assert_array_equal(s["layers.4.weight"], before["layers.4.weight"][:, keep1])
    assert all(np.array_equal(to_numpy(v), before[k]) for k, v in model.state_dict().items())   # original intact


@pytest.mark.parametrize("act", ["relu", "tanh", "linear"])
def test_removing_all_zero_units_leaves_outputs_unchanged(device, act):
    model = models.mlp(4, 10, act, in_dim=8, n_classes=5, seed=1, dtype=np.float64)
    dead = {0: [1, 4, 7], 1: [0, 2, 3, 9], 2: [5]}
    for i, units in dead.items():
        layer = model.linear_layers()[i]
        layer.weight.data[units] = 0
        layer.bias.data[units] = 0                      # a unit with no input and no bias outputs act(0) = 0
    model = to_device(model, device)
    x = to_device(np.random.default_rng(0).standard_normal((16, 8)), device)
    pruned = prune_neurons(model, {0: 0.3, 1: 0.4, 2: 0.1})
    assert pruned.widths == [8, 7, 6, 9, 5]
    np.testing.assert_allclose(to_numpy(pruned.forward(x)), to_numpy(model.forward(x)), rtol=1e-12, atol=1e-12)


def test_paper_spec_on_mlp7():
    pruned = prune_neurons(models.build("mlp7-linear"), "0-5:0.8,6:0")
    assert pruned.widths == [1024, 20, 20, 20, 20, 20, 20, 10]
    assert [n for n, _ in pruned.named_parameters()] == [n for n, _ in models.build("mlp7-linear").named_parameters()]


@pytest.mark.parametrize("spec, message", [
    ("0:1.0", r"must be in \[0, 1\)"),
    ("0:-0.1", r"must be in \[0, 1\)"),
    ("0-7:0.5", "model has weight layers 0..6"),
    ("6:0.5", "output layer"),
    ("0-5", "malformed pruning spec"),
    ("a:0.5", "pattern 'a' matches no weight layer"),
    ("0-x:0.5", "malformed pruning spec"),
    ("0:abc", "is not a number"),
    ({9: 0.5}, "model has weight layers 0..6"),
])
def test_bad_specs_are_clear_errors(spec, message):
    with pytest.raises(MinidiError, match=message):
        prune_neurons(models.build("mlp7-linear"), spec)


def test_spec_parsing():
    assert parse_spec("0-2:0.5,4:0.1", 6) == {0: 0.5, 1: 0.5, 2: 0.5, 3: 0.0, 4: 0.1, 5: 0.0}
    assert parse_spec({1: 0.3}, 3) == {0: 0.0, 1: 0.3, 2: 0.0}


@pytest.mark.parametrize("scope", ["global", "local"])
def test_magnitude_masks_prune_the_exact_count_of_smallest_weights(device, scope):
    model = to_device(models.build("lenet300-100", seed=0), device)
    weights = {n: to_numpy(p.data).copy() for n, p in model.named_parameters() if n.endswith("weight")}
    masks = magnitude_masks(model, 0.9, scope=scope)
    total = sum(w.size for w in weights.values())
    if scope == "global":
        assert sum(int(m.sum()) for m in masks.values()) == round((1 - 0.9) * total)     # the one mask rule
        cut = max(np.abs(weights[n])[masks[n] == 0].max() for n in masks)
        kept = min(np.abs(weights[n])[masks[n] == 1].min() for n in masks)
        assert cut <= kept                                      # every pruned |w| ≤ every kept |w|
    else:
        for n, m in masks.items():
            assert int(m.sum()) == round((1 - 0.9) * m.size)
    assert sparsity_of(model) == pytest.approx(sum(int((m == 0).sum()) for m in masks.values()) / total, abs=0)
    assert "layers.0.bias" not in masks                          # biases are never pruned


def test_random_masks_are_seeded_and_exact(device):
    a = to_device(models.build("lenet300-100"), device)
    b = to_device(models.build("lenet300-100"), device)
    ma, mb = random_masks(a, 0.75, seed=3), random_masks(b, 0.75, seed=3)
    assert all(np.array_equal(ma[k], mb[k]) for k in ma)
    assert all(int(m.sum()) == round((1 - 0.75) * m.size) for m in ma.values())
    assert not np.array_equal(random_masks(b, 0.75, seed=4)["layers.0.weight"], ma["layers.0.weight"])


def test_masks_save_and_load(tmp_path, device):
    a, b = models.build("lenet300-100"), to_device(models.build("lenet300-100", seed=5), device)
    magnitude_masks(a, 0.5)
    save_masks(tmp_path / "m.npz", a)
    load_masks(tmp_path / "m.npz", b)                                # host file → device masks
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        assert (p.mask is None) == (q.mask is None)
        if p.mask is not None:
            qm, qd = to_numpy(q.mask), to_numpy(q.data)
            assert np.array_equal(p.mask, qm) and not qd[qm == 0].any()
    with pytest.raises(MinidiError, match="sparsity must be in"):
        magnitude_masks(a, 1.0)


def test_layer_report_counts(device):
    model = to_device(models.mlp(2, 4, "relu", in_dim=3, n_classes=2), device)
    model.linear_layers()[0].weight.set_mask(to_device(np.array([[1, 0, 0]] * 4, np.float32), device))
    rows = layer_report(model)
    assert rows[0] == {"layer": 0, "name": "layers.0", "shape": [4, 3], "params": 16, "nonzero": 8, "density": 0.5,
                       "flops_dense": 12, "flops_effective": 4}
    assert rows[1]["flops_dense"] == rows[1]["flops_effective"] == 8
    assert "| total | | | 26 | 18 |" in format_report(rows)
