"""The statistics of every claim (`minidi.experiments.stats`) against independent oracles: the Student t interval
against a table value and a Monte Carlo of its coverage written here, the three verdicts on constructed effects
(each side, the edges, one replicate, a NaN), and the replicates an undecided effect would need."""
import math

import numpy as np
import pytest

from minidi.errors import MinidiError
from minidi.experiments import stats
from minidi.experiments.stats import HELD, NOT_HELD, UNDECIDED

T_975_2 = 4.302652729749464          # Student t, 97.5 % quantile, 2 degrees of freedom (any table)


def test_the_interval_is_the_student_t_one_from_the_table():
    e = stats.effect([1.0, 2.0, 3.0])                                  # mean 2, sample std 1
    assert e.mean == 2 and e.n == 3 and e.sd == pytest.approx(1.0)
    assert e.low == pytest.approx(2 - T_975_2 / math.sqrt(3)) and e.high == pytest.approx(2 + T_975_2 / math.sqrt(3))


def test_paired_differences_are_taken_per_replicate():
    e = stats.paired([0.90, 0.80, 0.70], [0.89, 0.79, 0.69])            # the same +0.01 in every replicate
    assert e.mean == pytest.approx(0.01) and e.sd == pytest.approx(0.0, abs=1e-12)
    assert stats.greater(e) == HELD                                      # no spread: the interval is the point
    with pytest.raises(MinidiError, match="same replicates on both sides"):
        stats.paired([1, 2, 3], [1, 2])


def test_the_interval_covers_the_true_mean_95_percent_of_the_time():
    gen = np.random.default_rng(0)
    draws = gen.normal(0.3, 2.0, size=(20000, 3))
    covered = 0
    for row in draws:
        e = stats.effect(row)
        covered += e.low <= 0.3 <= e.high
    assert abs(covered / len(draws) - 0.95) < 0.006                     # binomial sd 0.0015


@pytest.mark.parametrize("values, boundary, want", [
    ([1.0, 1.1, 0.9], 0.0, HELD),            # wholly above
    ([-1.0, -1.1, -0.9], 0.0, NOT_HELD),     # wholly below
    ([1.0, -1.0, 0.5], 0.0, UNDECIDED),      # straddles
    ([0.0, 0.0, 0.0], 0.0, NOT_HELD),        # a tie: "A > B" is not held
    ([5.0], 0.0, UNDECIDED),                 # one replicate: never held
    ([1.0, float("nan"), 1.0], 0.0, UNDECIDED),
    ([3.5, 3.6, 3.4], 3.0, HELD),            # against a boundary other than 0
])
def test_greater(values, boundary, want):
    assert stats.greater(stats.effect(values), boundary) == want


@pytest.mark.parametrize("values, margin, want", [
    ([-0.002, -0.003, -0.001], 0.005, HELD),       # slightly worse, within the margin: "A ≥ B" holds
    ([-0.02, -0.03, -0.025], 0.005, NOT_HELD),     # worse beyond the margin
    ([-0.005, 0.01, -0.02], 0.005, UNDECIDED),
    ([0.1], 0.005, UNDECIDED),
])
def test_at_least(values, margin, want):
    assert stats.at_least(stats.effect(values), margin) == want


@pytest.mark.parametrize("values, margin, want", [
    ([0.001, -0.001, 0.0], 0.005, HELD),           # the interval inside ±margin
    ([0.02, 0.03, 0.025], 0.005, NOT_HELD),        # wholly outside
    ([0.004, 0.0, 0.008], 0.005, UNDECIDED),       # reaches past the margin
    ([0.0], 0.005, UNDECIDED),                     # one replicate
])
def test_equivalent(values, margin, want):
    assert stats.equivalent(stats.effect(values), margin) == want


def test_combine_needs_every_part():
    assert stats.combine([HELD, HELD]) == HELD
    assert stats.combine([HELD, UNDECIDED]) == UNDECIDED
    assert stats.combine([UNDECIDED, NOT_HELD, HELD]) == NOT_HELD
    assert stats.combine([]) == UNDECIDED


def test_replicates_needed_is_the_first_n_whose_interval_clears_the_boundary():
    e = stats.effect([0.5, -0.3, 0.8])                                  # mean 1/3, straddles 0
    n = stats.replicates_needed(e)
    assert n is not None and n > 3
    assert e.half_width(n) < abs(e.mean) <= e.half_width(n - 1)
    assert stats.replicates_needed(stats.effect([1.0])) is None          # no spread to extrapolate from
    assert stats.replicates_needed(stats.effect([1.0, -1.0])) is None    # the mean on the boundary


def test_a_claim_line_says_effect_interval_replicates_and_verdict():
    e = stats.effect([0.0116, 0.0105, 0.0127])
    line = stats.judged(e, stats.greater(e), scale=100, unit=" pts")
    assert line.startswith("+1.16 pts [") and "3 replicates: **held**" in line
    one = stats.judged(stats.effect([0.02]), UNDECIDED, scale=100, unit=" pts")
    assert "no interval: one replicate" in one and "**undecided**" in one and "run at least 2" in one
    wide = stats.effect([0.5, -0.3, 0.8])
    assert "replicates would decide it" in stats.judged(wide, stats.greater(wide))
    assert stats.check(True) == "check **passed**" and stats.check(False) == "check **failed**"
