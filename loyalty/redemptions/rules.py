"""Pure decisions about giving back points paid on an order when it is refunded.

No Flask, SQLAlchemy or marshmallow here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from loyalty.points.rules import reversal_points


@dataclass(frozen=True)
class Paid:
    """A captured points redemption against the order, and what refunds gave back of it so far."""

    redemption_id: str
    points: int
    returned: int = 0


@dataclass(frozen=True)
class RefundProgress:
    """How much of the order refunds cover: its earning goods and all its goods, before this
    refund and in it (order currency)."""

    eligible_total: Decimal
    eligible_before: Decimal
    eligible_now: Decimal
    goods_total: Decimal
    goods_before: Decimal
    goods_now: Decimal


def returns_for_refund(paid: Sequence[Paid], progress: RefundProgress) -> dict[str, int]:
    """Per redemption, the points this refund gives back.

    The same proportion as the refund reverses the order's earned points (the earning goods
    refunded), on the order's running total of points paid and floored, so partial refunds never
    give back more than a full one would, two redemptions on one order lose no more than a point
    between them, and the refund that completes the order gives back exactly the rest. An order
    with no earning goods (gift cards only) earned nothing to measure by: its goods are used.
    """
    if progress.eligible_total > 0:
        total, before, now = progress.eligible_total, progress.eligible_before, progress.eligible_now
    else:
        total, before, now = progress.goods_total, progress.goods_before, progress.goods_now
    due = reversal_points(
        earned=sum(p.points for p in paid),
        eligible_total=total,
        eligible_refunded_before=before,
        eligible_refunded_now=now,
        reversed_before=sum(p.returned for p in paid),
    )
    # Each redemption its own floored share first, then what the floors left over, one point at a
    # time, to those with points still out, in the order they were made.
    given = {
        p.redemption_id: min(
            p.points - p.returned,
            reversal_points(
                earned=p.points,
                eligible_total=total,
                eligible_refunded_before=before,
                eligible_refunded_now=now,
                reversed_before=p.returned,
            ),
        )
        for p in paid
    }
    # A redemption given a leftover point by an earlier refund may now be owed less than its own floor
    # says: the order's running total rules, so any excess comes off the latest redemptions first.
    excess = sum(given.values()) - due
    for p in reversed(paid):
        if excess <= 0:
            break
        take = min(excess, given[p.redemption_id])
        given[p.redemption_id] -= take
        excess -= take
    left = due - sum(given.values())
    for p in paid:
        extra = max(0, min(left, p.points - p.returned - given[p.redemption_id]))
        given[p.redemption_id] += extra
        left -= extra
    return given
