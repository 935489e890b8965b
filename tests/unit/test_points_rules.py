from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.points.rules import (
    BasketError,
    EarnTerms,
    Line,
    NotEnoughPoints,
    OpenLot,
    PromotionRule,
    allocate,
    lot_expiry,
    max_redeemable,
    points_for,
    reversal_points,
)

T0 = datetime(2026, 3, 15, 4, 0, tzinfo=UTC)
money = st.decimals(min_value=0, max_value=Decimal("100000"), places=2)
categories = st.sampled_from(["tea", "cups", "gift_card", "snacks"])


@st.composite
def lines(draw, max_size=6):
    result = []
    for _ in range(draw(st.integers(1, max_size))):
        quantity = draw(st.integers(1, 20))
        price = draw(money)
        discount = draw(st.decimals(min_value=0, max_value=quantity * price, places=2))
        result.append(
            Line(
                sku=draw(st.text("abc", min_size=1, max_size=3)),
                category=draw(categories),
                quantity=quantity,
                unit_price=price,
                discount=discount,
            )
        )
    return result


def terms(**kw) -> EarnTerms:
    return EarnTerms(points_per_unit=kw.pop("ppu", Decimal(1)), placed_at=T0, **kw)


def test_a_simple_basket():
    basket = [Line("t1", "tea", 2, Decimal("49.90"), Decimal("10")), Line("g", "gift_card", 1, Decimal("100"))]
    assert points_for(basket, terms(excluded_categories=frozenset({"gift_card"}))) == 89  # 89.80 floored


def test_zero_and_huge_amounts():
    assert points_for([Line("x", "tea", 1, Decimal(0))], terms()) == 0
    huge = [Line("x", "tea", 1_000_000, Decimal("999999999.99"))]
    assert points_for(huge, terms()) == 999999999990000


def test_discount_larger_than_the_line_is_an_error():
    with pytest.raises(BasketError) as error:
        points_for([Line("x", "tea", 1, Decimal(5), Decimal(6))], terms())
    assert error.value.field == "items.0.discount"


@given(lines(), st.decimals(min_value=0, max_value=10, places=2))
def test_points_are_the_floor_of_the_exact_amount(basket, ppu):
    exact = sum(line.net * ppu for line in basket)
    assert points_for(basket, terms(ppu=ppu)) == int(exact // 1)


@given(lines())
def test_excluded_categories_earn_nothing(basket):
    with_gift = points_for(basket, terms(excluded_categories=frozenset({"gift_card"})))
    without = points_for([line for line in basket if line.category != "gift_card"], terms())
    assert with_gift == without


@given(lines(), st.decimals(min_value=Decimal("0.01"), max_value=Decimal(20), places=4))
def test_the_same_spend_in_another_currency_earns_the_same(basket, rate):
    # An amount of X in a currency worth `rate` each earns like X * rate in program currency.
    converted = [Line(x.sku, x.category, x.quantity, x.unit_price * rate, x.discount * rate) for x in basket]
    assert points_for(basket, terms(exchange_rate=rate)) == points_for(converted, terms())


@given(lines(), st.decimals(min_value=1, max_value=3, places=2))
def test_tier_multiplier_never_lowers_points(basket, multiplier):
    assert points_for(basket, terms(tier_multiplier=multiplier)) >= points_for(basket, terms())


def test_promotions_apply_by_window_category_and_channel_and_do_not_stack():
    double_tea = PromotionRule(Decimal(2), T0 - timedelta(days=1), T0 + timedelta(days=1), frozenset({"tea"}))
    triple_pos = PromotionRule(Decimal(3), T0 - timedelta(days=1), T0 + timedelta(days=1), channels=frozenset({"pos"}))
    expired = PromotionRule(Decimal(10), T0 - timedelta(days=9), T0 - timedelta(days=1))
    basket = [Line("t", "tea", 1, Decimal(100)), Line("c", "cups", 1, Decimal(100))]
    online = terms(promotions=[double_tea, triple_pos, expired], channel="online")
    pos = terms(promotions=[double_tea, triple_pos, expired], channel="pos")
    assert points_for(basket, online) == 300  # tea doubled, cups plain
    assert points_for(basket, pos) == 600  # the best promotion wins per line: triple for both


def test_a_tier_discount_counts_only_when_written_into_the_lines():
    # The quote and the order earn on the lines as posted (tests/unit/test_checkout_rules.py).
    assert points_for([Line("t", "tea", 1, Decimal(100))], terms()) == 100
    assert points_for([Line("t", "tea", 1, Decimal(100), discount=Decimal(10))], terms()) == 90


def test_lot_expiry_is_end_of_month_in_program_time():
    # 2026-03-31 23:30 in Shanghai is still March there: 24 months on is the end of March 2028.
    earned = datetime(2026, 3, 31, 15, 30, tzinfo=UTC)
    assert lot_expiry(earned, 24, "Asia/Shanghai") == datetime(2028, 3, 31, 16, 0, tzinfo=UTC)
    assert lot_expiry(earned, 0, "Asia/Shanghai") is None
    assert lot_expiry(datetime(2026, 12, 5, tzinfo=UTC), 1, "UTC") == datetime(2027, 2, 1, tzinfo=UTC)


def _lot(id_, remaining, expires_days=None, mature_days=-1):
    return OpenLot(
        id_,
        remaining,
        T0 + timedelta(days=mature_days),
        T0 + timedelta(days=expires_days) if expires_days is not None else None,
    )


def test_debits_take_the_lots_that_expire_first_and_skip_pending_and_expired():
    lots = [_lot(1, 50, None), _lot(2, 30, 10), _lot(3, 20, 5), _lot(4, 100, 3, mature_days=2), _lot(5, 40, -1)]
    assert allocate(lots, 60, now=T0) == [(3, 20), (2, 30), (1, 10)]
    with pytest.raises(NotEnoughPoints) as error:
        allocate(lots, 101, now=T0)
    assert error.value.available == 100


@given(
    st.lists(st.tuples(st.integers(0, 500), st.one_of(st.none(), st.integers(-5, 400))), max_size=8),
    st.integers(1, 2000),
)
def test_allocation_takes_exactly_what_is_asked_from_usable_lots(raw, wanted):
    lots = [_lot(i, remaining, expires) for i, (remaining, expires) in enumerate(raw)]
    usable = sum(lot.remaining for lot in lots if lot.expires_at is None or lot.expires_at > T0)
    if wanted > usable:
        with pytest.raises(NotEnoughPoints):
            allocate(lots, wanted, now=T0)
        return
    takes = allocate(lots, wanted, now=T0)
    assert sum(points for _, points in takes) == wanted
    by_id = {lot.id: lot for lot in lots}
    assert all(0 < points <= by_id[i].remaining for i, points in takes)


@given(
    st.integers(0, 10**6),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**6), places=2),
    st.lists(st.integers(1, 100), min_size=1, max_size=6),
)
def test_partial_refunds_never_reverse_more_than_earned_and_a_full_refund_reverses_all(earned, total, weights):
    parts = [total * w / sum(weights) for w in weights]
    parts[-1] = total - sum(parts[:-1])  # the last refund completes the order exactly
    refunded, reversed_ = Decimal(0), 0
    for part in parts:
        step = reversal_points(
            earned=earned,
            eligible_total=total,
            eligible_refunded_before=refunded,
            eligible_refunded_now=part,
            reversed_before=reversed_,
        )
        assert step >= 0
        refunded += part
        reversed_ += step
        assert reversed_ <= earned
    assert reversed_ == earned


@given(
    st.integers(-100, 10**6),
    money,
    st.decimals(min_value=0, max_value=1, places=2),
    st.decimals(min_value=Decimal("0.001"), max_value=1, places=3),
)
def test_max_redeemable_respects_balance_and_share(available, amount, share, value):
    most = max_redeemable(available=available, amount=amount, share=share, point_value=value)
    assert 0 <= most <= max(available, 0)
    assert most * value <= amount * share
