"""Checkout arithmetic shared by the quote and the order, so that posting exactly the quoted basket
earns exactly what the quote said.

Why they once disagreed: the quote earned on the lines after the tier discount (a gold member's
88.00 cup: 88 × 0.95 × 1.5 = 125.4 → 125) while the order earns on the lines as posted
(88 × 1.5 = 132). The service never deducts a tier discount from an order, since it can't know
whether the till gave it; a storefront that gives it writes it into the lines' `discount`, and
then the points follow what was paid. So both earn on the lines as sent, here.

Also the order's other money decisions, so services only load and write: the award (first-order
bonus, debt repaid first), when its points mature, and how a refund splits into earning and
non-earning goods (which the points reversal in points/rules.py then follows).

No Flask, SQLAlchemy or marshmallow here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from loyalty.points.rules import (
    EarnTerms,
    Line,
    available_from,
    eligible_amount,
    max_redeemable,
    net_amount,
    points_for,
    points_value,
    to_program_currency,
)


@dataclass(frozen=True)
class Earning:
    points: int  # the order response's `points_earned`: tier multiplier and promotions included
    promotion_points: int  # of `points`, what active promotions add
    bonus_points: int  # the order response's `bonus_points`: the first-order bonus, not in `points`

    @property
    def total(self) -> int:
        return self.points + self.bonus_points


def earned_points(lines: Sequence[Line], terms: EarnTerms) -> int:
    """What an order of these lines earns (its `points_earned`)."""
    return points_for(lines, terms)


def first_order_bonus(*, orders_before: int, bonus: int) -> int:
    """The program's first-order bonus, for the member's first awarded order only."""
    return bonus if orders_before == 0 and bonus > 0 else 0


def earning(lines: Sequence[Line], terms: EarnTerms, *, orders_before: int, bonus: int) -> Earning:
    """Everything posting these lines would credit, as the order's response will report it."""
    points = earned_points(lines, terms)
    without_promotions = earned_points(lines, replace(terms, promotions=()))
    return Earning(
        points=points,
        promotion_points=points - without_promotions,
        bonus_points=first_order_bonus(orders_before=orders_before, bonus=bonus),
    )


def tier_discount(lines: Sequence[Line], *, excluded: frozenset[str], percent: Decimal, minor: Decimal) -> Decimal:
    """What the member's tier discount comes to on the lines that earn (gift cards get none), in the
    order's currency, rounded to its minor unit. Information for the till: it is not deducted."""
    return (eligible_amount(lines, excluded) * percent / 100).quantize(minor)


@dataclass(frozen=True)
class OrderFigures:
    """What an order of these lines is worth, as its row records it."""

    net_amount: Decimal  # items after their discounts, order currency
    eligible_amount: Decimal  # of those, what earns
    program_amount: Decimal  # net_amount in the program currency
    points: int  # its `points_earned`


def order_figures(lines: Sequence[Line], terms: EarnTerms) -> OrderFigures:
    net = net_amount(lines)
    return OrderFigures(
        net_amount=net,
        eligible_amount=eligible_amount(lines, terms.excluded_categories),
        program_amount=to_program_currency(net, terms.exchange_rate),
        points=earned_points(lines, terms),
    )


@dataclass(frozen=True)
class Credit:
    kind: str  # "earn" or "bonus"
    points: int
    paid: int  # of `points`, what repays the member's debt (so never spendable)


@dataclass(frozen=True)
class Award:
    bonus: int  # the order's `bonus_points`
    credits: tuple[Credit, ...]


def award(*, points: int, debt: int, orders_before: int, bonus: int, welcome: bool = True) -> Award:
    """The credits an order writes: its points, then any first-order bonus, each repaying first what
    refunds left the member owing (`debt` >= 0). `welcome=False`: an imported past order is no welcome."""
    bonus_points = first_order_bonus(orders_before=orders_before, bonus=bonus) if welcome else 0
    credits = []
    for kind, amount in (("earn", points), ("bonus", bonus_points)):
        if amount <= 0:
            continue
        paid = min(debt, amount)
        debt -= paid
        credits.append(Credit(kind=kind, points=amount, paid=paid))
    return Award(bonus=bonus_points, credits=tuple(credits))


@dataclass(frozen=True)
class Quote:
    figures: OrderFigures
    earning: Earning
    discount_amount: Decimal
    max_redeemable_points: int
    max_redeemable_value: Decimal


def quote(
    figures: OrderFigures,
    lines: Sequence[Line],
    terms: EarnTerms,
    *,
    orders_before: int,
    bonus: int,
    discount_percent: Decimal,
    minor: Decimal,
    available: int,
    max_share: Decimal,
    point_value: Decimal,
) -> Quote:
    """What posting these lines would give (`figures`: the order's own arithmetic, checked for size
    first), the tier discount a till may give, and the most points that may pay for what is left
    after it."""
    discount = tier_discount(lines, excluded=terms.excluded_categories, percent=discount_percent, minor=minor)
    payable = to_program_currency(figures.net_amount - discount, terms.exchange_rate)
    most = max_redeemable(available=available, amount=payable, share=max_share, point_value=point_value)
    return Quote(
        figures=figures,
        earning=earning(lines, terms, orders_before=orders_before, bonus=bonus),
        discount_amount=discount,
        max_redeemable_points=most,
        max_redeemable_value=points_value(most, point_value),
    )


def matures_at(placed_at: datetime, *, channel: str, pending_days: int, pos_pending_days: int | None) -> datetime:
    """When an order's points may be spent, in UTC: after the return window, which a program may
    set shorter or longer for the till (`pos_pending_days`, unset: the same)."""
    days = pos_pending_days if channel == "pos" and pos_pending_days is not None else pending_days
    return available_from(placed_at, days).astimezone(UTC)


@dataclass(frozen=True)
class Split:
    """Of a refund, the goods it covers and the part of them that had earned (order currency)."""

    amount: Decimal
    eligible: Decimal


def split_amount(amount: Decimal, *, goods_left: Decimal, eligible_left: Decimal) -> Split:
    """A refund given as an amount is spread over what is left of the order, earning and
    non-earning goods alike; the one that empties the order takes exactly what earning is left."""
    if amount == goods_left:
        return Split(amount, eligible_left)
    return Split(amount, amount * eligible_left / goods_left if goods_left else Decimal(0))


@dataclass(frozen=True)
class RefundLine:
    """An order line as the order recorded it: whether it earned is fixed when the order was placed."""

    sku: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    eligible: bool

    @property
    def net(self) -> Decimal:
        return self.quantity * self.unit_price - self.discount


@dataclass(frozen=True)
class ItemsRefund:
    units: dict[int, int]  # per order line, units refunded so far, this refund included
    short: dict[int, int]  # per asked item (index), the units asked for beyond what is left
    split: Split


def split_items(
    lines: Sequence[RefundLine],
    refunded: Mapping[int, int],
    wanted: Sequence[tuple[str, int]],
    *,
    goods_left: Decimal,
    eligible_left: Decimal,
) -> ItemsRefund:
    """A refund given as items: each asked (sku, quantity) takes the units not yet refunded from the
    lines with that sku, in order, each unit at its line's net price (the line's discount spread
    over its units). The refund that takes the order's last units takes exactly what is left of it,
    whatever rounding the earlier ones carried; none takes more than is left."""
    units = dict(refunded)
    short: dict[int, int] = {}
    amount = eligible = Decimal(0)
    for index, (sku, quantity) in enumerate(wanted):
        left = quantity
        for number, line in enumerate(lines):
            if line.sku != sku or left == 0:
                continue
            take = min(left, line.quantity - units.get(number, 0))
            if take <= 0:
                continue
            units[number] = units.get(number, 0) + take
            part = line.net * take / line.quantity
            amount += part
            eligible += part if line.eligible else 0
            left -= take
        if left:
            short[index] = left
    if all(units.get(number, 0) == line.quantity for number, line in enumerate(lines)):
        return ItemsRefund(units, short, Split(goods_left, eligible_left))
    return ItemsRefund(units, short, Split(min(amount, goods_left), min(eligible, eligible_left)))
