"""The retraining study's claim functions on constructed numbers: each claim driven to held, not held and
undecided; LRW = FT for T ≤ E/4 is a check of the code; one budget leaves claim 4 nothing to judge."""
import pytest

from minidi.experiments.retrain import report as R

C = {"arms": ["l1", "random"], "schedules": ["ft", "lrw", "slr", "clr"], "budgets": [2, 8], "epochs": 16,
     "ratio": 0.5, "seeds": 3}
BASE = [0.90, 0.91, 0.92]


def table(levels, arms=("l1", "random"), budgets=(2, 8)):
    """acc[(arm, schedule, T)] = base + the level of (arm, schedule, T) (default 0) per seed."""
    out = {}
    for a in arms:
        for k in C["schedules"]:
            for T in budgets:
                d = levels.get((a, k, T), [0.0, 0.0, 0.0])
                out[(a, k, T)] = [b + x for b, x in zip(BASE, d)]
    return out


def up(x):
    return [x, x + 0.001, x - 0.001]


def test_order_held_and_lrw_equal_to_ft_is_a_check():
    acc = table({("l1", k, T): up(0.03) for T in (2, 8) for k in ("clr", "slr")})
    line = R.claim_order(C, acc, "l1")
    assert "points): **held**" in line and "true by construction: check **passed**" in line


def test_order_not_held_when_ft_beats_lrw_beyond_the_margin():
    acc = table({("l1", "ft", 8): up(0.05)})
    assert "points): **not held**" in R.claim_order(C, acc, "l1")


def test_order_undecided_when_clr_and_slr_may_differ():
    acc = table({("l1", "clr", 2): [0.0, 0.012, -0.006]})
    assert "points): **undecided**" in R.claim_order(C, acc, "l1")


def test_order_check_fails_when_lrw_differs_from_ft_at_a_short_budget():
    acc = table({("random", "lrw", 2): up(0.01)})
    assert "check **failed**" in R.claim_order(C, acc, "l1")


@pytest.mark.parametrize("level, want", [(up(0.0), "held"), (up(-0.05), "not held"), ([0.0, -0.02, 0.01], "undecided")])
def test_random_with_a_large_lr_at_least_l1_with_ft(level, want):
    acc = table({("random", k, T): level for k in ("slr", "clr") for T in (2, 8)})
    assert f"points): **{want}**" in R.claim_random(C, acc, "l1", "random", ["slr", "clr"])


@pytest.mark.parametrize("levels, want", [
    ({("l1", "clr", T): up(0.05) for T in (2, 8)} | {("random", "clr", T): up(0.05) for T in (2, 8)}, "held"),
    ({("random", "clr", T): up(-0.05) for T in (2, 8)}, "not held"),
    ({("l1", "clr", 2): [0.02, -0.01, 0.0]}, "undecided"),
])
def test_arm_gap_smaller_than_schedule_gap(levels, want):
    assert f"**{want}**" in R.claim_gaps(C, table(levels), "l1", "random", "clr")


@pytest.mark.parametrize("levels, want", [
    ({("l1", "clr", 2): up(0.05), ("l1", "clr", 8): up(0.01)}, "held"),
    ({("l1", "clr", 2): up(0.01), ("l1", "clr", 8): up(0.05)}, "not held"),
    ({("l1", "clr", 2): [0.03, 0.0, 0.01], ("l1", "clr", 8): up(0.01)}, "undecided"),
])
def test_the_large_lr_advantage_shrinks(levels, want):
    assert f"**{want}**" in R.claim_shrinks(C, table(levels), "l1", ["clr"])


def test_one_budget_leaves_nothing_to_judge_and_one_replicate_is_undecided():
    c = {**C, "budgets": [8]}
    assert "nothing to judge" in R.claim_shrinks(c, table({}, budgets=(8,)), "l1", ["clr"])
    one = {k: v[:1] for k, v in table({("random", "clr", T): up(0.05) for T in (2, 8)}).items()}
    line = R.claim_random(C, one, "l1", "random", ["slr", "clr"])
    assert "**undecided**" in line and "**held**" not in line
