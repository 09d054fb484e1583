"""Schedules: the values they give and the errors for malformed text."""
import math

import pytest

from minidi.errors import MinidiError
from minidi.schedules import parse_schedule
from minidi.schedules import Constant, Cosine, EpochTable, MultiStep, OneCycle


def test_epoch_table_of_the_paper():
    s = parse_schedule("0:0.01,30:0.001,60:0.0001", 90)
    assert isinstance(s, EpochTable)
    assert [s(e) for e in (0, 29, 30, 59, 60, 89)] == [0.01, 0.01, 0.001, 0.001, 0.0001, 0.0001]
    assert s(29.99) == 0.01                                      # epoch-wise: fractional time floors


def test_constant_and_multistep():
    assert isinstance(parse_schedule("0.05", 10), Constant) and parse_schedule("0.05", 10)(7) == 0.05
    s = parse_schedule("multistep:lr=0.1,at=0.5/0.75", 160)
    assert isinstance(s, MultiStep) and s.milestones == [80, 120]
    assert [s(79), s(80), s(119), s(120)] == pytest.approx([0.1, 0.01, 0.01, 0.001])


def test_cosine_with_warmup():
    s = parse_schedule("cosine:lr=0.1,min=0.001,warmup=4", 104)
    assert isinstance(s, Cosine)
    assert s(0) == pytest.approx(0.02) and s(3) == pytest.approx(0.08)
    assert s(4) == pytest.approx(0.1) and s(104) == pytest.approx(0.001)
    assert s(54) == pytest.approx(0.001 + 0.099 / 2)


def test_onecycle_per_iteration_with_momentum_cycling():
    s = parse_schedule("onecycle:max=0.1", 10)
    assert isinstance(s, OneCycle) and s.per_iteration
    assert s(0) == pytest.approx(0.001) and s(1.0) == pytest.approx(0.1) and s(10) == pytest.approx(1e-5)
    assert s.momentum(0) == pytest.approx(0.95) and s.momentum(1.0) == pytest.approx(0.85)
    assert s.momentum(10) == pytest.approx(0.95)
    lrs = [s(t / 10) for t in range(101)]
    peak = lrs.index(max(lrs))
    assert all(a <= b for a, b in zip(lrs[:peak], lrs[1:peak + 1]))          # rises, then falls
    assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1:]))


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("0:0.1,x", "expected entries"),
    ("0:0.1,30:abc", "not a number"),
    ("10:0.1", "start at epoch 0"),
    ("0:0.1,0:0.2", "appears twice"),
    ("0:-1", "≥ 0"),
    ("cosine:lr=0.1,foo=2", "unknown option"),
    ("multistep:lr", "key=value"),
    ("abc", "not a number"),
    ("0:nan", "finite"),
])
def test_malformed_schedules_are_clear_errors(text, message):
    with pytest.raises(MinidiError, match=message):
        parse_schedule(text, 90)


def test_cosine_is_a_half_cosine():
    s = Cosine(1.0, 10)
    for t in range(11):
        assert s(t) == pytest.approx((1 + math.cos(math.pi * t / 10)) / 2)
