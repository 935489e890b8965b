from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from loyalty.campaigns import rules

ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=8, max_size=26)


@given(campaign=ids, member=ids, percent=st.integers(0, rules.MAX_HOLDOUT_PERCENT))
def test_the_hold_out_is_the_same_answer_every_time_and_none_at_zero(campaign, member, percent):
    first = rules.held_out(campaign, member, percent)
    assert first == rules.held_out(campaign, member, percent)
    assert rules.held_out(campaign, member, 0) is False
    if first:  # a member held out at a share stays held out at any larger share
        assert rules.held_out(campaign, member, min(percent + 10, 50))


@given(campaign=ids, percent=st.integers(1, rules.MAX_HOLDOUT_PERCENT))
def test_the_hold_out_takes_about_its_share(campaign, percent):
    members = [f"mbr_{n:06d}" for n in range(4000)]
    share = sum(rules.held_out(campaign, m, percent) for m in members) / len(members)
    assert abs(share - percent / 100) < 0.035  # 4.5 standard deviations at 50%


def test_lift_compares_the_contacted_with_the_hold_out():
    result = rules.lift(contacted=80, converted=20, held=20, converted_held=3)
    assert result == {
        "conversion_rate": Decimal("0.2500"),
        "conversion_rate_held_out": Decimal("0.1500"),
        "lift": Decimal("0.1000"),
        "relative_lift": Decimal("0.6667"),
    }
    assert rules.lift(contacted=10, converted=2, held=0, converted_held=0) == {
        "conversion_rate": Decimal("0.2000"),
        "conversion_rate_held_out": None,
        "lift": None,
        "relative_lift": None,
    }
    nobody = rules.lift(contacted=10, converted=2, held=5, converted_held=0)
    assert nobody["lift"] == Decimal("0.2000") and nobody["relative_lift"] is None
    assert rules.lift(contacted=0, converted=0, held=0, converted_held=0)["conversion_rate"] is None


def test_the_relative_lift_is_worked_from_exact_rates_not_rounded_ones():
    from decimal import Decimal

    from loyalty.campaigns.rules import lift

    result = lift(contacted=6, converted=3, held=6, converted_held=1)  # 1/2 against 1/6: three times as many
    assert result["relative_lift"] == Decimal("2.0000") and result["lift"] == Decimal("0.3333")
