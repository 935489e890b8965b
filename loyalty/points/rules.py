"""Pure decisions about points: what a basket earns, when lots mature and expire, which lots
a debit takes, what a refund reverses, how much of an order points may pay.

No Flask, SQLAlchemy or marshmallow here: everything is tested exhaustively without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo


class BasketError(ValueError):
    """An order whose amounts don't add up; `field` names the offending input."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


class NotEnoughPoints(ValueError):
    def __init__(self, available: int) -> None:
        super().__init__(f"only {available} points available")
        self.available = available


@dataclass(frozen=True)
class Line:
    sku: str
    category: str
    quantity: int
    unit_price: Decimal
    discount: Decimal = Decimal(0)

    @property
    def net(self) -> Decimal:
        return self.quantity * self.unit_price - self.discount


@dataclass(frozen=True)
class PromotionRule:
    multiplier: Decimal
    starts_at: datetime
    ends_at: datetime
    categories: frozenset[str] = frozenset()  # empty: every category
    channels: frozenset[str] = frozenset()  # empty: every channel

    def applies(self, line: Line, channel: str, at: datetime) -> bool:
        return (
            self.starts_at <= at < self.ends_at
            and (not self.categories or line.category in self.categories)
            and (not self.channels or channel in self.channels)
        )


@dataclass(frozen=True)
class EarnTerms:
    points_per_unit: Decimal
    exchange_rate: Decimal = Decimal(1)  # program currency per unit of the order's currency
    tier_multiplier: Decimal = Decimal(1)
    promotions: Sequence[PromotionRule] = ()
    excluded_categories: frozenset[str] = frozenset()
    channel: str = "online"
    placed_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def check_lines(lines: Iterable[Line]) -> None:
    for index, line in enumerate(lines):
        if line.discount > line.quantity * line.unit_price:
            raise BasketError(f"items.{index}.discount", "The discount is larger than the line's price.")


def net_amount(lines: Iterable[Line]) -> Decimal:
    """Items after their discounts, in the order's currency (shipping and tax are not items)."""
    return sum((line.net for line in lines), Decimal(0))


def eligible_amount(lines: Iterable[Line], excluded: frozenset[str]) -> Decimal:
    return sum((line.net for line in lines if line.category not in excluded), Decimal(0))


def promotion_multiplier(line: Line, terms: EarnTerms) -> Decimal:
    # Promotions don't stack: the best one that applies to the line wins.
    applicable = [p.multiplier for p in terms.promotions if p.applies(line, terms.channel, terms.placed_at)]
    return max(applicable, default=Decimal(1))


def points_for(lines: Sequence[Line], terms: EarnTerms) -> int:
    """Eligible net × rate × points per unit × tier multiplier × promotion, floored once over the basket.

    The lines as posted, after their own discounts: a tier discount counts only when the storefront
    wrote it into them (see orders/rules.py).
    """
    check_lines(lines)
    exact = Decimal(0)
    for line in lines:
        if line.category in terms.excluded_categories:
            continue
        exact += (
            to_program_currency(line.net, terms.exchange_rate)
            * terms.points_per_unit
            * terms.tier_multiplier
            * promotion_multiplier(line, terms)
        )
    return max(0, int(exact.to_integral_value(rounding=ROUND_FLOOR)))


def to_program_currency(amount: Decimal, rate: Decimal) -> Decimal:
    """An amount in the order's currency, in the program's (`rate`: program currency per unit).
    Not rounded: points are floored once over the basket, and stored amounts keep the columns' places."""
    return amount * rate


def available_from(placed_at: datetime, pending_days: int) -> datetime:
    """Earned points mature after the return window."""
    return placed_at + timedelta(days=pending_days)


def lot_expiry(earned_at: datetime, months: int, zone: str) -> datetime | None:
    """The end of the month `months` after earning, in the program's time zone; None: never.

    Returned as the first instant of the following month, so a lot is expired when now >= it.
    """
    if months <= 0:
        return None
    local = earned_at.astimezone(ZoneInfo(zone)).date()
    month_index = local.year * 12 + (local.month - 1) + months + 1
    first_after = date(month_index // 12, month_index % 12 + 1, 1)
    return datetime.combine(first_after, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


@dataclass(frozen=True)
class OpenLot:
    id: int
    remaining: int
    available_at: datetime
    expires_at: datetime | None


def spend_order(lots: Iterable[OpenLot]) -> list[OpenLot]:
    """The order debits take lots in: first to expire first, never-expiring last, then oldest."""
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(lots, key=lambda lot: (lot.expires_at or far, lot.available_at, lot.id))


def allocate(
    lots: Iterable[OpenLot], points: int, *, now: datetime, matured_only: bool = True
) -> list[tuple[int, int]]:
    """(lot id, points taken) for a debit of `points`, or NotEnoughPoints."""
    usable = [
        lot
        for lot in spend_order(lots)
        if lot.remaining > 0
        and (lot.expires_at is None or lot.expires_at > now)
        and (not matured_only or lot.available_at <= now)
    ]
    taken: list[tuple[int, int]] = []
    left = points
    for lot in usable:
        if left == 0:
            break
        take = min(lot.remaining, left)
        taken.append((lot.id, take))
        left -= take
    if left:
        raise NotEnoughPoints(points - left)
    return taken


def reversal_points(
    *,
    earned: int,
    eligible_total: Decimal,
    eligible_refunded_before: Decimal,
    eligible_refunded_now: Decimal,
    reversed_before: int,
) -> int:
    """What one refund reverses: the order's points in proportion to the eligible amount refunded.

    Computed on the running total, floored, so partial refunds never reverse more than a
    full refund would, and the refund that completes the order reverses exactly the rest.
    """
    if earned <= 0 or eligible_total <= 0:
        return 0
    refunded = eligible_refunded_before + eligible_refunded_now
    if refunded >= eligible_total:
        target = earned
    else:
        target = int((earned * refunded / eligible_total).to_integral_value(rounding=ROUND_FLOOR))
    return max(0, target - reversed_before)


def max_redeemable(*, available: int, amount: Decimal, share: Decimal, point_value: Decimal) -> int:
    """Points that may pay for `amount`: no more than `share` of it, no more than the member has."""
    if available <= 0 or amount <= 0 or point_value <= 0:
        return 0
    by_share = int((amount * share / point_value).to_integral_value(rounding=ROUND_FLOOR))
    return max(0, min(available, by_share))


def points_value(points: int, point_value: Decimal) -> Decimal:
    return points * point_value
