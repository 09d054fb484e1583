"""The pruning-at-init study's claim functions on constructed numbers: each claim driven to held, not held and
undecided, and the edges (one replicate, a missing variant)."""
import pytest

from minidi.experiments.pai import report as R

C = {"sparsities": [0.5, 0.9], "methods": ["synflow", "snip", "grasp", "random", "magnitude"],
     "variants": ["original", "shuffle", "reinit"]}
BASE = [0.90, 0.91, 0.92]


def acc_table(shift=None, control_drop=(0.05, 0.05, 0.05)):
    """{(method, sparsity, variant): [per seed]}: every variant equal to the original unless `shift` moves one."""
    out = {}
    for m in C["methods"] + ["lth"]:
        for sp in C["sparsities"]:
            for v in C["variants"]:
                out[(m, sp, v)] = list(BASE)
    for v in ("shuffle", "reinit"):
        out[("lth", 0.9, v)] = [b - d for b, d in zip(BASE, control_drop)]
    for key, deltas in (shift or {}).items():
        out[key] = [b + d for b, d in zip(BASE, deltas)]
    return out


def first_line(acc, methods=C["methods"] + ["lth"]):
    return R.claim_variants(C, acc, methods)


def test_variants_held_when_every_variant_matches_and_the_control_drops():
    tiny = {("snip", 0.9, "shuffle"): [0.001, -0.001, 0.0]}
    assert "and the control's accuracy drops under both: **held**" in first_line(acc_table(tiny))


def test_variants_not_held_when_a_variant_loses_beyond_the_margin():
    line = first_line(acc_table({("snip", 0.9, "reinit"): [-0.03, -0.031, -0.029]}))
    assert "drops under both: **not held**" in line and "snip 0.9 reinit − original" in line


def test_variants_undecided_when_an_interval_reaches_past_the_margin():
    line = first_line(acc_table({("grasp", 0.5, "shuffle"): [0.004, 0.0, 0.009]}))
    assert "drops under both: **undecided**" in line


def test_variants_need_the_control_to_be_held():
    assert "**undecided**" in first_line(acc_table(), methods=C["methods"])            # no control run
    assert "**not held**" in first_line(acc_table(control_drop=(-0.01, -0.011, -0.012)))


def test_variants_with_one_replicate_are_undecided():
    acc = {k: v[:1] for k, v in acc_table().items()}
    assert "**undecided**" in first_line(acc) and "**held**" not in first_line(acc)


def _ratios(per_seed_values):
    """wd_ratios_per_seed with one method×sparsity and the given per-seed ratios of each of 4 layers."""
    return {"wd_ratios_per_seed": {"snip|0.9": {str(s): {"shuffle": {f"l{i}": r for i, r in enumerate(vals)}}
                                                for s, vals in enumerate(per_seed_values)}}}


@pytest.mark.parametrize("values, want", [
    ([[0.5, 0.6, 0.7, 0.8]] * 3, "held"),
    ([[1.5, 1.6, 1.7, 0.8]] * 3, "not held"),
    ([[0.5, 0.6, 1.7, 1.8], [0.5, 0.6, 0.7, 1.8], [0.5, 1.6, 1.7, 1.8]], "undecided"),
])
def test_distances_below_random_in_most_layers(values, want):
    assert f"3 replicates: **{want}**" in R.claim_distances(_ratios(values))


def test_distances_not_tested_without_the_random_method():
    assert "not tested" in R.claim_distances({"wd_ratios_per_seed": {}})


def _ranking(acc, first):
    return R.claim_ranking({"first_collapse": first}, C, acc)


FIRST = {"synflow": [0.99, 0.99, 0.99], "snip": [0.98, 0.98, 0.99], "grasp": [0.99, 0.98, 0.98],
         "random": [0.999, 0.999, 0.999], "magnitude": [0.9, 0.9, 0.91]}


def test_ranking_held():
    acc = acc_table({("grasp", 0.9, "original"): [-0.02, -0.021, -0.019],
                     ("random", 0.9, "original"): [-0.06, -0.061, -0.059]})
    assert "collapses a layer first: **held**" in _ranking(acc, FIRST)


def test_ranking_not_held_when_random_beats_grasp():
    acc = acc_table({("grasp", 0.9, "original"): [-0.06, -0.061, -0.059],
                     ("random", 0.9, "original"): [-0.02, -0.021, -0.019]})
    assert "collapses a layer first: **not held**" in _ranking(acc, FIRST)


def test_ranking_undecided_when_synflow_and_snip_may_differ_by_more_than_the_margin():
    acc = acc_table({("synflow", 0.9, "original"): [0.01, -0.005, 0.012],
                     ("random", 0.9, "original"): [-0.06, -0.061, -0.059]})
    assert "collapses a layer first: **undecided**" in _ranking(acc, FIRST)


def test_ranking_needs_every_method():
    c = {**C, "methods": ["snip", "random"]}
    assert "not tested" in R.claim_ranking({"first_collapse": {}}, c, acc_table())
