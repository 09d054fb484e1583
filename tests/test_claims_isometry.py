"""The core study's claim functions on constructed summaries: each claim is driven to held, not held and undecided
by numbers chosen here (paired differences whose interval lies above, below or across the boundary), and the
edges: one replicate (never held), a tie, a NaN; OrthP and the closed form are checks, not findings."""
import math

import pytest

from minidi.experiments.isometry import claims as C

UP = [0.0210, 0.0190, 0.0200]          # a clear +2 points in every replicate
DOWN = [-0.0210, -0.0190, -0.0200]
MIXED = [0.0300, -0.0250, 0.0100]      # straddles 0
ZERO = [0.0, 0.0, 0.0]


def arm(base, deltas=None, jsv0=1.0, jsv=(1.0, 1.0, 1.0)):
    """An arm's results over replicates: last-5 accuracy base + delta_s, a JSV curve (epoch 0 and three epochs)."""
    deltas = deltas if deltas is not None else [0.0] * len(base)
    return {str(i): {"last5_mean": b + d, "pretrain_seed": i, "finetune_seed": 0, "best_test_acc": b + d,
                     "epoch0": {"jsv": {"mean": jsv0}, "test_acc": 0.1},
                     "history": [{"epoch": e, "jsv_mean": j * (1 + 0.01 * i), "test_acc": b} for e, j in enumerate(jsv)]}
            for i, (b, d) in enumerate(zip(base, deltas))}


def summary(arms, **extra):
    base = {"arms": arms, "config": {"pr": 0.8, "finetune_epochs": 3, "scratch_b_cap": 2},
            "sweep": [{"pr": 0.0, "pruned": {"mean": 2.0}, "orthp_max_abs_dev": 1e-7},
                      {"pr": 0.5, "pruned": {"mean": 1.0}, "orthp_max_abs_dev": 1e-7}],
            "dense_jsv": {"mean": 2.5}, "linear": True}
    return {**base, **extra}


BASE = [0.90, 0.91, 0.92]


@pytest.mark.parametrize("deltas, want", [(UP, "held"), (DOWN, "not held"), (MIXED, "undecided"), (ZERO, "not held")])
def test_lr_accuracy_claim_follows_the_paired_difference(deltas, want):
    s = summary({"lr0.01": arm(BASE, deltas), "lr0.001": arm(BASE)})
    line = C.lr_accuracy_line(s)
    assert f"3 replicates: **{want}**" in line, line


def test_one_replicate_is_undecided_never_held():
    s = summary({"lr0.01": arm([0.95]), "lr0.001": arm([0.90])})          # +5 points, but one replicate
    line = C.lr_accuracy_line(s)
    assert "1 replicate: **undecided**" in line and "**held**" not in line


def test_a_nan_replicate_makes_the_claim_undecided():
    s = summary({"lr0.01": arm(BASE, [0.02, math.nan, 0.02]), "lr0.001": arm(BASE)})
    assert "**undecided**" in C.lr_accuracy_line(s)


@pytest.mark.parametrize("deltas, want", [([-0.002, -0.001, -0.003], "held"), (DOWN, "not held"),
                                          ([0.01, -0.02, -0.001], "undecided")])
def test_orthp_small_lr_matches_or_beats_within_the_margin(deltas, want):
    s = summary({"lr0.01": arm(BASE), "lr0.001": arm(BASE), "lr0.001+orthp": arm(BASE, deltas),
                 "lr0.01+orthp": arm(BASE)})
    line = C.lr_accuracy_line(s)
    assert line.split("with OrthP")[1].count(f"**{want}**") == 1, line


@pytest.mark.parametrize("deltas, want", [(UP, "held"), (DOWN, "not held"), (MIXED, "undecided")])
def test_value_of_pruning(deltas, want):
    s = summary({"lr0.01": arm(BASE, deltas), "lr0.01+scratch-e": arm(BASE), "lr0.001+scratch-e": arm(BASE, DOWN)})
    line = C.value_of_pruning(s)[0]
    assert line.split("(the better Scratch-E): ")[1].startswith(f"**{want}**"), line


@pytest.mark.parametrize("lead01, want", [(UP, "held"), (DOWN, "not held"), (MIXED, "undecided")])
def test_the_lr_decides_the_value_of_pruning(lead01, want):
    s = summary({"lr0.01": arm(BASE, lead01), "lr0.01+scratch-e": arm(BASE), "lr0.001": arm(BASE),
                 "lr0.001+scratch-e": arm(BASE)})
    line = next(x for x in C.value_of_pruning(s) if "decides" in x)
    assert line.rstrip(".").endswith(f"**{want}**") or f"**{want}** (" in line, line


@pytest.mark.parametrize("deltas, want", [(UP, "held"), (DOWN, "not held"), (MIXED, "undecided")])
def test_scratch_b_and_the_recovery_routes(deltas, want):
    s = summary({"lr0.01": arm(BASE, deltas), "lr0.01+scratch-b": arm(BASE), "lr0.01+scratch-e": arm(BASE)})
    assert f"**{want}**" in next(x for x in C.value_of_pruning(s) if "Scratch-B" in x)
    r = summary({"lr0.001": arm(BASE), "lr0.001+tpp": arm(BASE, deltas), "lr0.001+ai": arm(BASE, deltas)})
    lines = C.recovery_routes(r)
    assert len(lines) == 2 and all(f"**{want}**" in x for x in lines), lines


@pytest.mark.parametrize("values, want", [([2.5, 2.6, 2.4], "held"), ([1.0, 1.1, 0.9], "not held"),
                                          ([1.4, 1.6, 1.5], "undecided"), ([2.5], "undecided")])
def test_dense_jsv_well_above_one(values, want):
    assert f"**{want}**" in C.dense_jsv_line(summary({}, dense_jsv_per_seed=values))


def _sweep(means):
    return [{"pr": pr, "pruned": {"mean": m}, "orthp_max_abs_dev": 1e-7} for pr, m in zip((0.0, 0.5, 0.9), means)]


@pytest.mark.parametrize("per_seed, want", [
    ([(2.0, 1.0, 0.1), (2.1, 1.1, 0.12), (1.9, 0.9, 0.09)], "held"),
    ([(2.0, 2.5, 0.1), (2.1, 2.6, 0.12), (1.9, 2.4, 0.09)], "not held"),        # the first step rises
    ([(2.0, 1.9, 0.1), (2.0, 2.1, 0.12), (2.0, 1.95, 0.09)], "undecided"),
])
def test_mean_jsv_falls_with_pr(per_seed, want):
    s = summary({}, sweep_per_seed=[_sweep(m) for m in per_seed], sweep=_sweep(per_seed[0]))
    assert f"): **{want}** (PR 0 → 0.5" in C.monotone_line(s), C.monotone_line(s)


@pytest.mark.parametrize("fast, want", [((3.0, 3.0, 3.0), "held"), ((0.5, 0.5, 0.5), "not held")])
def test_lr_recovers_jsv_faster(fast, want):
    s = summary({"lr0.01": arm(BASE, jsv=fast), "lr0.001": arm(BASE)})
    assert f"0.001's): **{want}**" in C.faster_line(s)


def test_orthp_and_the_closed_form_are_checks_on_linear_networks_and_findings_elsewhere():
    lin = summary({})
    assert "check **passed**" in C.orthp_line(lin)
    bad = summary({}, sweep=[{"pr": 0.5, "pruned": {"mean": 1.0}, "orthp_max_abs_dev": 0.3}])
    assert "check **failed**" in C.orthp_line(bad)
    def relu(devs):
        per_seed = [[{"pr": 0.5, "pruned": {"mean": 1.0}, "orthp_max_abs_dev": d}] for d in devs]
        return C.orthp_line(summary({}, linear=False, sweep=per_seed[0], sweep_per_seed=per_seed))
    assert "**not held**" in relu([0.3, 0.31, 0.29]) and "check" not in relu([0.3, 0.31, 0.29])
    assert "**held**" in relu([1e-7, 2e-7, 1.5e-7])
    assert "**undecided**" in relu([1e-7, 3e-4, 5e-5])
    assert "**undecided**" in relu([1e-7])                                       # one replicate


@pytest.mark.parametrize("deltas, want", [(UP, "held"), (DOWN, "not held"), (MIXED, "undecided")])
def test_scratch_and_tpp_against_l1_point_by_point_across_a_sweep(deltas, want):
    points = [{"pr": 0.5}, {"pr": 0.9}]
    low = summary({"lr0.01": arm(BASE), "lr0.01+scratch-e": arm(BASE, ZERO), "lr0.01+tpp": arm(BASE, UP)})
    high = summary({"lr0.01": arm(BASE), "lr0.01+scratch-e": arm(BASE, deltas), "lr0.01+tpp": arm(BASE, deltas)})
    scratch, tpp = C.by_pr_lines(points, [low, high])
    assert scratch.startswith("- Scratch-E − L1") and tpp.startswith("- TPP − L1")
    assert "PR 0.5: +0.00 pts" in scratch and "**not held**" in scratch.split("PR 0.9")[0]
    assert scratch.split("PR 0.9")[1].count(f"**{want}**") == 1, scratch
    assert "**held**" in tpp.split("PR 0.9")[0] and tpp.split("PR 0.9")[1].count(f"**{want}**") == 1, tpp
    assert C.by_pr_lines(points, [summary({"lr0.01": arm(BASE)})] * 2) == []      # no such arms: no line
