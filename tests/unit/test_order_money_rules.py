"""The money and points decisions of posting, quoting and refunding an order (orders/rules.py),
exhaustively and without a database: the award and its debt repayment, the quote against the order,
and how refunds split the order's goods into what had earned and what had not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from loyalty.orders.rules import (
    RefundLine,
    award,
    earned_points,
    matures_at,
    order_figures,
    quote,
    split_amount,
    split_items,
)
from loyalty.points.rules import eligible_amount, net_amount, points_for, to_program_currency
from tests.unit.test_checkout_rules import earn_terms
from tests.unit.test_points_rules import lines

STORED = Decimal("0.0001")  # the orders table keeps money to 4 places: running totals are read back so


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 5), st.integers(-5, 1000), st.booleans())
def test_an_award_repays_debt_first_and_never_more_than_owed_or_credited(points, debt, orders_before, bonus, welcome):
    decided = award(points=points, debt=debt, orders_before=orders_before, bonus=bonus, welcome=welcome)
    assert decided.bonus == (bonus if welcome and orders_before == 0 and bonus > 0 else 0)
    assert [c.kind for c in decided.credits] == [k for k, n in (("earn", points), ("bonus", decided.bonus)) if n > 0]
    assert all(c.points > 0 and 0 <= c.paid <= c.points for c in decided.credits)
    repaid = sum(c.paid for c in decided.credits)
    # The debt never turns into a credit balance by repayment, and is repaid as far as the credits go.
    assert 0 <= debt - repaid
    assert repaid == min(debt, points + decided.bonus)
    if decided.credits and decided.credits[0].paid < decided.credits[0].points:
        assert repaid == decided.credits[0].paid  # the earn cleared the debt; the bonus repays nothing


@given(
    lines(),
    earn_terms(),
    st.integers(0, 3),
    st.integers(0, 1000),
    st.decimals(0, 30, places=0),
    st.integers(-100, 10**6),
    st.decimals(0, 1, places=2),
    st.decimals("0.001", 1, places=3),
)
def test_the_quote_is_the_orders_own_arithmetic(basket, terms, orders_before, bonus, percent, available, share, value):
    figures = order_figures(basket, terms)
    assert figures.points == earned_points(basket, terms) == points_for(basket, terms)
    assert figures.net_amount == net_amount(basket)
    assert figures.eligible_amount == eligible_amount(basket, terms.excluded_categories)
    assert figures.program_amount == to_program_currency(figures.net_amount, terms.exchange_rate)
    quoted = quote(
        figures,
        basket,
        terms,
        orders_before=orders_before,
        bonus=bonus,
        discount_percent=percent,
        minor=Decimal("0.01"),
        available=available,
        max_share=share,
        point_value=value,
    )
    # Posting the quoted basket for the same member awards exactly the quoted points and bonus.
    decided = award(points=figures.points, debt=0, orders_before=orders_before, bonus=bonus)
    assert (quoted.earning.points, quoted.earning.bonus_points) == (figures.points, decided.bonus)
    assert 0 <= quoted.max_redeemable_points <= max(available, 0)
    assert quoted.max_redeemable_value == quoted.max_redeemable_points * value
    payable = to_program_currency(figures.net_amount - quoted.discount_amount, terms.exchange_rate)
    assert quoted.max_redeemable_value <= payable * share


@st.composite
def amount_refunds(draw):
    """An order's goods and earning part, and refunds by amount of it, the last completing it or not."""
    goods = draw(st.decimals("0.01", 100_000, places=2))
    eligible = draw(st.decimals(0, goods, places=2))
    steps, left = [], goods
    for _ in range(draw(st.integers(1, 6))):
        if left <= 0:
            break
        step = draw(st.decimals("0.01", left, places=2))
        steps.append(step)
        left -= step
    if draw(st.booleans()) and left > 0:
        steps.append(left)
    return goods, eligible, steps


@given(amount_refunds())
def test_refunds_by_amount_never_split_off_more_than_earned_and_the_last_takes_exactly_the_rest(order):
    goods, eligible, steps = order
    refunded = refunded_eligible = Decimal(0)
    for step in steps:
        goods_left, eligible_left = goods - refunded, eligible - refunded_eligible
        split = split_amount(step, goods_left=goods_left, eligible_left=eligible_left)
        assert split.amount == step
        assert 0 <= split.eligible <= eligible_left
        # Never more earning goods than goods refunded (unless stored rounding left a hair more earning than goods).
        assert split.eligible <= step or eligible_left > goods_left
        refunded += split.amount
        refunded_eligible += split.eligible.quantize(STORED)
        assert refunded <= goods and 0 <= refunded_eligible <= eligible
    if refunded == goods:
        assert refunded_eligible == eligible


@st.composite
def item_refunds(draw):
    """An order's lines (skus may repeat across lines) and refunds asking for (sku, quantity)s."""
    lines = []
    for _ in range(draw(st.integers(1, 5))):
        quantity = draw(st.integers(1, 5))
        price = draw(st.decimals(0, 1000, places=2))
        lines.append(
            RefundLine(
                sku=draw(st.sampled_from("abc")),
                quantity=quantity,
                unit_price=price,
                discount=draw(st.decimals(0, quantity * price, places=2)),
                eligible=draw(st.booleans()),
            )
        )
    asks = draw(
        st.lists(st.lists(st.tuples(st.sampled_from("abcd"), st.integers(1, 6)), min_size=1, max_size=3), max_size=6)
    )
    return lines, asks


@given(item_refunds())
def test_refunds_by_items_never_refund_a_unit_twice_and_the_last_units_close_the_order(order):
    lines, asks = order
    goods = sum((line.net for line in lines), Decimal(0))
    eligible = sum((line.net for line in lines if line.eligible), Decimal(0))
    units: dict[int, int] = {}
    refunded = refunded_eligible = Decimal(0)
    for ask in asks + [None]:
        if ask is None:  # finally, whatever is left, line by line
            ask = [
                (line.sku, line.quantity - units.get(n, 0))
                for n, line in enumerate(lines)
                if line.quantity > units.get(n, 0)
            ]
            if not ask:
                break
        decided = split_items(
            lines, units, ask, goods_left=goods - refunded, eligible_left=eligible - refunded_eligible
        )
        for index, short in decided.short.items():
            sku, quantity = ask[index]
            assert 0 < short <= quantity
            if sku not in {line.sku for line in lines}:
                assert short == quantity
        if decided.short:
            continue  # refused: nothing recorded
        assert all(
            units.get(n, 0) <= decided.units[n] <= line.quantity for n, line in enumerate(lines) if n in decided.units
        )
        assert sum(decided.units.values()) - sum(units.values()) == sum(q for _, q in ask)
        assert 0 <= decided.split.amount <= goods - refunded
        assert 0 <= decided.split.eligible <= eligible - refunded_eligible
        units = decided.units
        refunded += decided.split.amount.quantize(STORED)
        refunded_eligible += decided.split.eligible.quantize(STORED)
    assert all(units.get(n, 0) == line.quantity for n, line in enumerate(lines))
    assert (refunded, refunded_eligible) == (goods, eligible)


def test_units_are_priced_at_their_lines_net_and_an_unknown_or_spent_sku_is_short():
    lines = [
        RefundLine("a", 3, Decimal(10), Decimal(3), eligible=True),
        RefundLine("b", 1, Decimal(5), Decimal(0), eligible=False),
    ]
    one = split_items(lines, {}, [("a", 1)], goods_left=Decimal(32), eligible_left=Decimal(27))
    assert (one.units, one.short, one.split.amount, one.split.eligible) == ({0: 1}, {}, Decimal(9), Decimal(9))
    refused = split_items(lines, {0: 1}, [("a", 3), ("z", 1)], goods_left=Decimal(23), eligible_left=Decimal(18))
    assert refused.short == {0: 1, 1: 1}


def test_a_line_refunded_unit_by_unit_closes_at_its_net_whatever_the_thirds_rounded_to():
    lines = [RefundLine("a", 3, Decimal(4), Decimal(2), eligible=True)]  # 10.00: 3.3333... a unit
    units: dict[int, int] = {}
    refunded = Decimal(0)
    for _ in range(3):
        decided = split_items(
            lines, units, [("a", 1)], goods_left=Decimal(10) - refunded, eligible_left=Decimal(10) - refunded
        )
        units, refunded = decided.units, refunded + decided.split.amount.quantize(STORED)
        assert decided.split.amount == decided.split.eligible
    assert refunded == Decimal(10)  # 3.3333 + 3.3333 + 3.3334, not 9.9999


def test_points_mature_after_the_tills_own_window_when_it_has_one():
    placed = datetime(2026, 3, 15, 12, 0, tzinfo=timezone(timedelta(hours=8)))
    assert matures_at(placed, channel="pos", pending_days=14, pos_pending_days=0) == placed.astimezone(UTC)
    assert matures_at(placed, channel="pos", pending_days=14, pos_pending_days=None) == placed + timedelta(days=14)
    online = matures_at(placed, channel="online", pending_days=14, pos_pending_days=0)
    assert online == placed + timedelta(days=14) and online.tzinfo == UTC
