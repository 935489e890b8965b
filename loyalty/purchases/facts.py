"""Facts about members' orders that features below `orders` read directly: tier qualifying values,
referees' first orders, first orders for follow-up calls, the rhythm of orders for win-back, the
spend Pareto, campaign conversions and the grouped order figures of insights."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, bindparam, case, func, select
from sqlalchemy.orm import Session, aliased

from loyalty.core.db import among
from loyalty.core.prepared_statement import PreparedStatement
from loyalty.purchases.models import Order

# Net of refunds: a refunded amount no longer qualifies (though a refund never lowers the tier
# held; it only counts at the next review).
_VALUE: dict[str, ColumnElement[Any]] = {
    "spend_12m": func.sum(Order.program_amount - Order.refunded_amount * Order.exchange_rate),
    # Refunds reverse an order's earn and its first-order bonus together; only the earn's share
    # of the reversal comes off, as the bonus never counted.
    "points_12m": func.sum(
        Order.points_earned
        - case(
            (
                Order.points_earned + Order.bonus_points > 0,
                Order.points_reversed * Order.points_earned / (Order.points_earned + Order.bonus_points),
            ),
            else_=0,
        )
    ),
    "orders_12m": func.sum(case((Order.refunded_amount < Order.net_amount, 1), else_=0)),
}
METRICS = tuple(_VALUE)
_outer = aliased(Order)
_WINDOW = (Order.placed_at > bindparam("start"), Order.placed_at <= bindparam("end"))
# One member (every graded order) is the hot path: its statements are built once.
_ONE = {
    metric: PreparedStatement(
        select(Order.member_id, value).where(Order.member_id == bindparam("member"), *_WINDOW).group_by(Order.member_id)
    )
    for metric, value in _VALUE.items()
}


def one_member_value(metric: str) -> ScalarSelect[Any]:
    """One member's qualifying value as a subquery (bind `member`, `start`, `end`; NULL: no orders),
    for a caller that reads it in a statement doing more (checkout)."""
    return select(_VALUE[metric]).where(Order.member_id == bindparam("member"), *_WINDOW).scalar_subquery()


def qualifying_values(
    session: Session, member_ids: list[str], *, start: datetime, end: datetime, metric: str
) -> dict[str, Decimal]:
    """Per member, the program's tier metric over orders placed in (start, end]; absent: nothing."""
    if not member_ids:
        return {}
    params: dict[str, object] = {"start": start, "end": end}
    if len(member_ids) == 1:
        rows = _ONE[metric].rows(session.connection(), {**params, "member": member_ids[0]})
    else:
        statement = (
            select(Order.member_id, _VALUE[metric])
            .where(among(session, Order.member_id, member_ids), *_WINDOW)
            .group_by(Order.member_id)
        )
        rows = [tuple(row) for row in session.connection().execute(statement, params)]
    return {member_id: Decimal(value or 0) for member_id, value in rows}


def first_orders(session: Session, member_ids: list[str], *, minimum: Decimal) -> dict[str, dict]:
    """For referrals, per member with orders: when they first ordered at all, and their first order
    of at least `minimum` (program currency) with the end of its return window and whether it was
    refunded in full."""
    if not member_ids:
        return {}
    rows = session.execute(
        select(
            Order.member_id,
            Order.order_id,
            Order.placed_at,
            Order.available_at,
            Order.program_amount,
            Order.refunded_amount >= Order.net_amount,
        )
        .where(among(session, Order.member_id, member_ids))
        .order_by(Order.member_id, Order.placed_at, Order.order_id)
    )
    facts: dict[str, dict] = {}
    for member_id, order_id, placed_at, available_at, amount, refunded in rows:
        fact = facts.setdefault(member_id, {"first_placed_at": placed_at, "qualifying": None})
        if fact["qualifying"] is None and Decimal(amount) >= minimum:
            fact["qualifying"] = {
                "order_id": order_id,
                "placed_at": placed_at,
                "kept_from": available_at,
                "fully_refunded": bool(refunded),
            }
    return facts


def first_orders_between(session: Session, *, start: datetime, end: datetime) -> list[tuple[str, str, datetime]]:
    """(member id, order id, placed at) of members whose first order was placed in [start, end)."""
    earlier = select(Order.order_id).where(Order.member_id == _outer.member_id, Order.placed_at < _outer.placed_at)
    rows = session.execute(
        select(_outer.member_id, _outer.order_id, _outer.placed_at)
        .where(_outer.placed_at >= start, _outer.placed_at < end, ~earlier.exists())
        .order_by(_outer.member_id)
    )
    return [(member_id, order_id, placed_at) for member_id, order_id, placed_at in rows]


def order_rhythm(session: Session, *, after: str, limit: int) -> list[tuple[str, datetime, datetime, int]]:
    """(member id, first order, last order, orders) for the next `limit` members by id with orders:
    the keyset batches of win-back planning."""
    rows = session.execute(
        select(Order.member_id, func.min(Order.placed_at), func.max(Order.placed_at), func.count())
        .where(Order.member_id > after)
        .group_by(Order.member_id)
        .order_by(Order.member_id)
        .limit(limit)
    )
    return [(member_id, first, last, orders) for member_id, first, last, orders in rows]


def last_orders(session: Session, member_ids: list[str]) -> dict[str, datetime]:
    """When each of these members last ordered, for the win-back check before sending."""
    return dict(
        session.execute(
            select(Order.member_id, func.max(Order.placed_at))
            .where(among(session, Order.member_id, member_ids))
            .group_by(Order.member_id)
        ).all()
    )


def top_fifth_share(session: Session, *, start: datetime, end: datetime) -> tuple[Decimal, Decimal, int]:
    """(spend of the top 20% of buyers, all spend, buyers) over orders placed in [start, end): the
    Pareto check, in one statement."""
    spend = func.sum(Order.program_amount - Order.refunded_amount * Order.exchange_rate).label("spend")
    per_member = (
        select(Order.member_id, spend)
        .where(Order.placed_at >= start, Order.placed_at < end)
        .group_by(Order.member_id)
        .subquery()
    )
    ranked = select(
        per_member.c.spend, func.ntile(5).over(order_by=per_member.c.spend.desc()).label("fifth")
    ).subquery()
    top, total, buyers = session.execute(
        select(
            func.coalesce(func.sum(case((ranked.c.fifth == 1, ranked.c.spend), else_=0)), 0),
            func.coalesce(func.sum(ranked.c.spend), 0),
            func.count(),
        )
    ).one()
    return Decimal(top), Decimal(total), int(buyers)


def converted(session: Session, touches: list[tuple[str, datetime]], *, days: int) -> int:
    """How many of these (member, touched at) ordered within `days` after the touch."""
    if not touches:
        return 0
    members = sorted({member_id for member_id, _ in touches})
    placed: dict[str, list[datetime]] = {}
    for member_id, at in session.execute(
        select(Order.member_id, Order.placed_at).where(
            among(session, Order.member_id, members), Order.placed_at >= min(at for _, at in touches)
        )
    ):
        placed.setdefault(member_id, []).append(at)
    window = timedelta(days=days)
    return sum(1 for member_id, at in touches if any(at < when <= at + window for when in placed.get(member_id, ())))


def order_stats_subquery(*, since: datetime, members=None):
    """Per member with orders (or only `members`: ids, or a SELECT of them), as a subquery for
    set-based work: orders, orders since `since`, spend, spend since, first and last placed (spend in
    the program currency, net of refunds)."""
    spend = Order.program_amount - Order.refunded_amount * Order.exchange_rate
    recent = Order.placed_at >= since
    query = select(
        Order.member_id.label("member_id"),
        func.count().label("orders"),
        func.sum(case((recent, 1), else_=0)).label("orders_recent"),
        func.sum(spend).label("spend"),
        func.sum(case((recent, spend), else_=0)).label("spend_recent"),
        func.min(Order.placed_at).label("first"),
        func.max(Order.placed_at).label("last"),
    )
    if members is not None:
        query = query.where(Order.member_id.in_(members))
    return query.group_by(Order.member_id).subquery("order_stats")
