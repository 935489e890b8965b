"""Checkout arithmetic shared by the quote and the order, so that posting exactly the quoted basket
earns exactly what the quote said.

Why they once disagreed: the quote earned on the lines after the tier discount (a gold member's
88.00 cup: 88 × 0.95 × 1.5 = 125.4 → 125) while the order earns on the lines as posted
(88 × 1.5 = 132). The service never deducts a tier discount from an order, since it can't know
whether the till gave it; a storefront that gives it writes it into the lines' `discount`, and
then the points follow what was paid. So both earn on the lines as sent, here.

No Flask, SQLAlchemy or marshmallow here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Sequence

from loyalty.points.rules import EarnTerms, Line, eligible_amount, points_for


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
    return Earning(points=points, promotion_points=points - without_promotions,
                   bonus_points=first_order_bonus(orders_before=orders_before, bonus=bonus))


def tier_discount(lines: Sequence[Line], *, excluded: frozenset[str], percent: Decimal, minor: Decimal) -> Decimal:
    """What the member's tier discount comes to on the lines that earn (gift cards get none), in the
    order's currency, rounded to its minor unit. Information for the till: it is not deducted."""
    return (eligible_amount(lines, excluded) * percent / 100).quantize(minor)
