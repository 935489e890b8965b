"""The pure rules of this round: the checkout arithmetic the quote and the order share, the points
paid on an order given back by its refunds, and how a coupon code is read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from hypothesis import given
from hypothesis import strategies as st

from loyalty.orders.rules import earned_points, earning, first_order_bonus, tier_discount
from loyalty.points.rules import EarnTerms, Line, PromotionRule, eligible_amount
from loyalty.redemptions.rules import Paid, RefundProgress, returns_for_refund
from loyalty.rewards.rules import COUPON_ALPHABET, coupon_status, normalise_coupon_code
from tests.unit.test_points_rules import lines

T0 = datetime(2026, 3, 15, 4, 0, tzinfo=UTC)
CATEGORIES = ["tea", "cups", "gift_card", "snacks"]


@st.composite
def earn_terms(draw):
    promotions = [
        PromotionRule(
            draw(st.decimals(1, 5, places=1)),
            T0 - timedelta(days=1),
            T0 + timedelta(days=1),
            categories=frozenset(draw(st.sets(st.sampled_from(CATEGORIES), max_size=2))),
            channels=frozenset(draw(st.sets(st.sampled_from(["online", "pos"]), max_size=1))),
        )
        for _ in range(draw(st.integers(0, 3)))
    ]
    return EarnTerms(
        points_per_unit=draw(st.decimals(0, 10, places=2)),
        exchange_rate=draw(st.decimals("0.01", 20, places=4)),
        tier_multiplier=draw(st.decimals(1, 3, places=2)),
        promotions=promotions,
        excluded_categories=frozenset({"gift_card"}),
        channel=draw(st.sampled_from(["online", "pos"])),
        placed_at=T0,
    )


@given(lines(), earn_terms(), st.integers(0, 3), st.integers(0, 1000))
def test_the_quote_reports_exactly_what_the_order_will(basket, terms, orders_before, bonus):
    quoted = earning(basket, terms, orders_before=orders_before, bonus=bonus)
    # What post_order computes for the same lines, member and program.
    assert quoted.points == earned_points(basket, terms)
    assert quoted.bonus_points == first_order_bonus(orders_before=orders_before, bonus=bonus)
    assert quoted.total == quoted.points + quoted.bonus_points
    assert (quoted.bonus_points > 0) == (orders_before == 0 and bonus > 0)
    assert 0 <= quoted.promotion_points <= quoted.points
    if not terms.promotions:
        assert quoted.promotion_points == 0


@given(lines(), earn_terms(), st.decimals(0, 100, places=2))
def test_a_tier_discount_written_into_the_lines_never_earns_more(basket, terms, percent):
    off = tier_discount(basket, excluded=terms.excluded_categories, percent=percent, minor=Decimal("0.01"))
    assert 0 <= off <= eligible_amount(basket, terms.excluded_categories) + Decimal("0.005")
    discounted = [
        Line(
            line.sku,
            line.category,
            line.quantity,
            line.unit_price,
            line.discount + (line.net * percent / 100).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
            if line.category not in terms.excluded_categories
            else line.discount,
        )
        for line in basket
    ]
    assert earned_points(discounted, terms) <= earned_points(basket, terms)


@st.composite
def refunds(draw):
    """An order (earning and other goods) and refunds of it in steps, the last completing it or not."""
    eligible = draw(st.decimals("0.01", 10_000, places=2))
    other = draw(st.decimals(0, 1_000, places=2) | st.just(Decimal(0)))
    shares = draw(st.lists(st.decimals("0.01", 1, places=2), min_size=1, max_size=5))
    complete = draw(st.booleans())
    steps, done = [], Decimal(0)
    for share in shares:
        part = min((eligible * share).quantize(Decimal("0.01")), eligible - done)
        if part > 0:
            steps.append(part)
            done += part
    if complete and done < eligible:
        steps.append(eligible - done)
    return eligible, other, steps


@given(refunds(), st.lists(st.integers(1, 100_000), min_size=1, max_size=3))
def test_refunds_give_back_paid_points_in_their_proportion_and_completing_gives_back_the_rest(order, paid_points):
    eligible, other, steps = order
    paid = [Paid(f"rdm_{i}", points) for i, points in enumerate(paid_points)]
    before = Decimal(0)
    for step in steps:
        progress = RefundProgress(
            eligible_total=eligible,
            eligible_before=before,
            eligible_now=step,
            goods_total=eligible + other,
            goods_before=before,
            goods_now=step,
        )
        given_back = returns_for_refund(paid, progress)
        assert all(points >= 0 for points in given_back.values())
        paid = [Paid(p.redemption_id, p.points, p.returned + given_back[p.redemption_id]) for p in paid]
        before += step
        # On the order's running total, floored: never more than the share refunded, never a point
        # more lost than one floor, and no redemption gets back more than was paid with it.
        share = sum(p.points for p in paid) * before / eligible
        expected = sum(p.points for p in paid) if before >= eligible else int(share.to_integral_value(ROUND_FLOOR))
        assert sum(p.returned for p in paid) == expected
        assert all(0 <= p.returned <= p.points for p in paid)
    if before >= eligible:
        assert all(p.returned == p.points for p in paid)


def test_two_redemptions_on_half_an_order_lose_no_more_than_the_order_would():
    progress = RefundProgress(
        eligible_total=Decimal(200),
        eligible_before=Decimal(0),
        eligible_now=Decimal(100),
        goods_total=Decimal(200),
        goods_before=Decimal(0),
        goods_now=Decimal(100),
    )
    given = returns_for_refund([Paid("a", 77), Paid("b", 51)], progress)
    assert sum(given.values()) == 64 and given == {"a": 39, "b": 25}  # 38.5 + 25.5: the floors' point to the first


def test_an_order_of_gift_cards_only_gives_back_by_its_goods():
    progress = RefundProgress(
        eligible_total=Decimal(0),
        eligible_before=Decimal(0),
        eligible_now=Decimal(0),
        goods_total=Decimal(200),
        goods_before=Decimal(0),
        goods_now=Decimal(50),
    )
    assert returns_for_refund([Paid("a", 100)], progress) == {"a": 25}


alphabet_codes = st.text(COUPON_ALPHABET, min_size=12, max_size=12)


@given(
    alphabet_codes,
    st.lists(st.sampled_from([" ", "-", ".", "_", "\u3000", "\uff0d"]), max_size=4),
    st.booleans(),
    st.booleans(),
)
def test_a_code_is_read_whatever_its_case_separators_or_width(code, separators, lower, wide):
    written = code.lower() if lower else code
    if wide:  # full-width, as Chinese input methods type
        written = "".join(chr(ord(char) + 0xFEE0) for char in written)
    for index, separator in enumerate(separators):
        at = (index + 1) * 3
        written = written[:at] + separator + written[at:]
    assert normalise_coupon_code(written) == code
    assert normalise_coupon_code(normalise_coupon_code(written)) == code


@given(st.text(max_size=20))
def test_anything_else_is_no_code(text):
    code = normalise_coupon_code(text)
    assert code is None or (len(code) == 12 and set(code) <= set(COUPON_ALPHABET))


def test_codes_with_look_alikes_or_the_wrong_length_are_no_codes():
    for text in ("ABCDEFGHJKM0", "ABCDEFGHJKMI", "ABCDEFGHJKM", "ABCDEFGHJKMNP", "", "ABCD EFGH JKM!"):
        assert normalise_coupon_code(text) is None, text


def test_a_coupons_status():
    later = T0 + timedelta(days=1)
    assert coupon_status(used_at=None, voided_at=None, valid_until=later, now=T0) == "valid"
    assert coupon_status(used_at=None, voided_at=None, valid_until=None, now=T0) == "valid"
    assert coupon_status(used_at=None, voided_at=None, valid_until=T0, now=T0) == "expired"
    assert coupon_status(used_at=T0, voided_at=None, valid_until=T0, now=later) == "used"
    assert coupon_status(used_at=None, voided_at=T0, valid_until=T0, now=later) == "void"


def test_a_leftover_point_given_early_is_not_given_twice():
    """Found by hypothesis: 5 points paid in two redemptions (1 and 4), refunds of 0.06 then 0.01 of
    0.26. The first refund's one point went to the first redemption as a leftover; the second
    refund's own floor for the other redemption must not add a point the running total doesn't owe."""
    paid = [Paid("rdm_0", 1), Paid("rdm_1", 4)]
    first = returns_for_refund(
        paid,
        RefundProgress(
            eligible_total=Decimal("0.26"),
            eligible_before=Decimal(0),
            eligible_now=Decimal("0.06"),
            goods_total=Decimal("0.26"),
            goods_before=Decimal(0),
            goods_now=Decimal("0.06"),
        ),
    )
    assert first == {"rdm_0": 1, "rdm_1": 0}
    paid = [Paid("rdm_0", 1, 1), Paid("rdm_1", 4, 0)]
    second = returns_for_refund(
        paid,
        RefundProgress(
            eligible_total=Decimal("0.26"),
            eligible_before=Decimal("0.06"),
            eligible_now=Decimal("0.01"),
            goods_total=Decimal("0.26"),
            goods_before=Decimal("0.06"),
            goods_now=Decimal("0.01"),
        ),
    )
    assert sum(second.values()) == 0
