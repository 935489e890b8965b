from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from loyalty.tiers.rules import Rung, ladder_errors


def rung(code, rank, threshold, discount="0", multiplier="1"):
    return Rung(code, rank, Decimal(threshold), Decimal(discount), Decimal(multiplier))


DEMO = [rung("regular", 0, "0"), rung("silver", 1, "2000", "3", "1.2"), rung("gold", 2, "8000", "5", "1.5"),
        rung("vip", 3, "30000", "10", "2")]


def test_a_sound_ladder_has_no_errors_in_any_order():
    assert ladder_errors(DEMO) == {}
    assert ladder_errors(list(reversed(DEMO))) == {}


def test_each_fault_is_named():
    assert "tiers" in ladder_errors([])
    assert "tiers.1.code" in ladder_errors([rung("a", 0, "0"), rung("a", 1, "5")])
    assert "tiers.1.rank" in ladder_errors([rung("a", 0, "0"), rung("b", 0, "5")])
    assert "tiers.0.threshold" in ladder_errors([rung("a", 0, "1"), rung("b", 1, "5")])
    assert "tiers.1.threshold" in ladder_errors([rung("a", 0, "0"), rung("b", 1, "0")])
    assert "tiers.1.threshold" in ladder_errors([rung("a", 0, "0"), rung("c", 2, "5"), rung("b", 1, "9")])
    assert "tiers.0.earn_multiplier" in ladder_errors([rung("a", 0, "0", multiplier="0.9")])
    assert "tiers.0.discount_percent" in ladder_errors([rung("a", 0, "0", discount="101")])


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=8, unique=True))
def test_strictly_rising_thresholds_from_zero_are_always_sound(raw):
    thresholds = sorted({0, *raw})
    ladder = [rung(f"t{i}", i, str(t)) for i, t in enumerate(thresholds)]
    assert ladder_errors(ladder) == {}


@given(st.lists(st.integers(0, 100), min_size=2, max_size=6))
def test_any_threshold_not_above_the_one_below_is_refused(raw):
    ladder = [rung(f"t{i}", i, str(t if i else 0)) for i, t in enumerate(raw)]
    rising = all(b > a for a, b in zip([0] + raw[1:], raw[1:])) and (len(raw) < 2 or raw[1] > 0)
    assert (ladder_errors(ladder) == {}) == rising
