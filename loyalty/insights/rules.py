"""Pure lifecycle and churn rules, from a member's own purchase rhythm.

- prospect: no order yet.
- new: first order within the last 90 days, and not overdue.
- active: ordering within 1.5 times their usual interval between orders.
- at_risk: past 1.5 times their usual interval, not yet twice it.
- lapsed: past twice their usual interval.
The usual interval is (last - first) / (orders - 1); with a single order it is taken as 90 days.
Churn risk is how far into that lapse they are: days since the last order / (2 x usual interval),
between 0 and 1.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

NEW_FOR = timedelta(days=90)
SINGLE_ORDER_INTERVAL = timedelta(days=90)


def usual_interval(first: datetime, last: datetime, orders: int) -> timedelta:
    if orders < 2 or last <= first:
        return SINGLE_ORDER_INTERVAL
    return max((last - first) / (orders - 1), timedelta(days=1))


def stage(*, first: datetime | None, last: datetime | None, orders: int, now: datetime) -> str:
    if not orders or last is None or first is None:
        return "prospect"
    since, usual = now - last, usual_interval(first, last, orders)
    if since > 2 * usual:
        return "lapsed"
    if since > 1.5 * usual:
        return "at_risk"
    if now - first <= NEW_FOR:
        return "new"
    return "active"


def churn_risk(*, first: datetime | None, last: datetime | None, orders: int, now: datetime) -> Decimal:
    if not orders or last is None or first is None:
        return Decimal(0)
    ratio = (now - last) / (2 * usual_interval(first, last, orders))
    return Decimal(str(min(max(ratio, 0.0), 1.0))).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
