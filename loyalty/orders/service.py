"""Posting orders (points awarded once per order id) and quoting baskets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from loyalty.core.db import get_or_404, insert_for_dialect, utcnow
from loyalty.core.errors import Conflict
from loyalty.core.money import minor_unit, money
from loyalty.core.prepared_statement import PreparedStatement
from loyalty.members.service import Brief
from loyalty.orders import award, basket
from loyalty.orders import rules as checkout
from loyalty.points import ledger
from loyalty.points.rules import EarnTerms, Line
from loyalty.points.service import awarded_orders, balance, expiry_for, member_for_points
from loyalty.program.service import ProgramSettings, settings
from loyalty.purchases.models import Order
from loyalty.tiers.service import tier_terms


class OrderConflict(Conflict):
    code, title = "order_conflict", "This order id was posted with other contents"


def get_order(session: Session, order_id: str) -> Order:
    return get_or_404(session, Order, order_id, what="order")


# At checkout an order is its row, a plain dict of column values: building an ORM object for it
# cost more than writing it. GET /v1/orders/<id> and refunds use the model as usual.
OrderRow = dict[str, Any]
_COLUMNS = tuple(column.key for column in Order.__table__.columns)
_STORED = PreparedStatement(select(*Order.__table__.columns).where(Order.order_id == bindparam("order_id")))


def _seen(session: Session, order_id: str, fingerprint: str) -> OrderRow | None:
    """The order as stored (a retry, which a storefront sends often)."""
    found = _STORED.first(session.connection(), {"order_id": order_id})
    order = None if found is None else dict(zip(_COLUMNS, found))
    if order is not None and order["fingerprint"] != fingerprint:
        raise OrderConflict(
            f"Order `{order_id}` was already posted with other contents; it awards only once.", order_id=order_id
        )
    return order


@dataclass(frozen=True)
class _Basket:
    """What posting an order and quoting one both load: the member, the lines, what they earn on."""

    program: ProgramSettings
    member: Brief
    currency: str
    lines: list[Line]
    terms: EarnTerms
    discount: Decimal  # the member's tier discount, percent (information for a till)


def _load_basket(session: Session, data: dict, *, placed_at: datetime, posted_at: datetime | None = None) -> _Basket:
    """`posted_at`: an order being posted, which can't have been placed after it (a quote may be)."""
    program = settings(session)
    currency = data.get("currency") or program.currency
    member = member_for_points(session, basket.find_member_id(session, data))
    lines = basket.lines_of(data)
    basket.check_total(data, lines)
    if posted_at is not None:
        basket.check_placed_at(placed_at, posted_at)
    rate = basket.exchange_rate(program, currency)
    discount, multiplier = tier_terms(session, member.tier_code)
    terms = basket.earn_terms(
        session, program, rate=rate, multiplier=multiplier, channel=data["channel"], placed_at=placed_at
    )
    return _Basket(program=program, member=member, currency=currency, lines=lines, terms=terms, discount=discount)


def post_order(
    session: Session, *, data: dict, actor: str | None, now: datetime | None = None, first_order_bonus: bool = True
) -> tuple[OrderRow, bool]:
    """The order (its row) and whether this call created it (False: seen before, nothing awarded again).
    `first_order_bonus=False`: an imported past order (loyalty.imports.orders) is no welcome."""
    now = now or utcnow()
    loaded = _load_basket(session, data, placed_at=data["placed_at"], posted_at=now)
    data = {**data, "currency": loaded.currency}
    figures = checkout.order_figures(loaded.lines, loaded.terms)  # the quote's arithmetic too
    basket.check_size(figures.net_amount, figures.program_amount, figures.points)
    order = _new_order(data, loaded, figures, now=now, actor=actor)
    connection = session.connection()  # Core on the hot path: the ORM's per-statement cost is the bottleneck
    locked = _gate_and_lock(connection, order, now=now)
    if locked is None:
        return _seen(session, order["order_id"], order["fingerprint"]) or _raise_conflict(order["order_id"]), False
    debt, orders = locked
    decided = checkout.award(
        points=figures.points,
        debt=debt,
        orders_before=orders - 1,
        bonus=loaded.program.first_order_bonus,
        welcome=first_order_bonus,
    )
    award.write(session, order, decided, expires=expiry_for(session, data["placed_at"]), now=now, actor=actor)
    return order, True


def _new_order(
    data: dict, loaded: _Basket, figures: checkout.OrderFigures, *, now: datetime, actor: str | None
) -> OrderRow:
    """The order as posted, before the award: no bonus yet, the tier it was placed in."""
    program, excluded = loaded.program, loaded.terms.excluded_categories
    return dict(
        order_id=data["order_id"],
        member_id=loaded.member.id,
        placed_at=data["placed_at"].astimezone(UTC),
        currency=loaded.currency,
        exchange_rate=loaded.terms.exchange_rate,
        channel=data["channel"],
        store_id=data.get("store_id"),
        items=[
            {
                **i,
                "unit_price": str(i["unit_price"]),
                "discount": str(i["discount"]),
                "eligible": i["category"] not in excluded,
            }
            for i in data["items"]
        ],
        shipping=data["shipping"],
        tax=data["tax"],
        net_amount=figures.net_amount,
        eligible_amount=figures.eligible_amount,
        program_amount=figures.program_amount,
        points_earned=figures.points,
        bonus_points=0,
        available_at=checkout.matures_at(
            data["placed_at"],
            channel=data["channel"],
            pending_days=program.pending_days,
            pos_pending_days=program.pos_pending_days,
        ),
        tier_after=loaded.member.tier_code,
        fingerprint=basket.order_fingerprint(data, loaded.member.id),
        created_at=now,
        actor=actor,
        refunded_amount=Decimal(0),
        refunded_eligible=Decimal(0),
        points_reversed=0,
        points_forgiven=0,
    )


_ORDER_GATE = {
    name: insert_for_dialect(name)(Order).on_conflict_do_nothing().returning(Order.order_id, Order.member_id)
    for name in ("postgresql", "sqlite")
}
# On PostgreSQL the gate and the account lock are one statement (SQLite has no writing CTEs).
_GATE_AND_LOCK = PreparedStatement(
    ledger.award_lock_after(
        _ORDER_GATE["postgresql"]
        .values({column.key: bindparam(column.key, type_=column.type) for column in Order.__table__.columns})
        .cte("gate")
    )
)


def _gate_and_lock(connection, order: OrderRow, *, now: datetime) -> tuple[int, int] | None:
    """The order id is the gate: whoever inserts it awards; a concurrent post of the same id waits
    on the unique index until the first commits, then finds it written (None). For the one that
    wrote it, the member's account is locked and counted: (debt, orders including this one)."""
    if connection.dialect.name == "postgresql":
        row = _GATE_AND_LOCK.first(connection, {**order, "earned": order["points_earned"], "now": now})
        return None if row is None else (row[0], row[1])
    if connection.execute(_ORDER_GATE["sqlite"], order).first() is None:
        return None
    return ledger.lock_for_award(connection, order["member_id"], now=now, earned=order["points_earned"])


def _raise_conflict(order_id: str):
    raise OrderConflict(f"Order `{order_id}` is being posted by another request.", order_id=order_id)


def quote(session: Session, *, data: dict, now: datetime | None = None) -> dict:
    """What posting this basket would give, as the order's response will report it (the same
    arithmetic, orders/rules.py), the tier discount a till may give, and the most points payable."""
    now = now or utcnow()
    loaded = _load_basket(session, data, placed_at=data.get("placed_at") or now)
    member, program = loaded.member, loaded.program
    figures = checkout.order_figures(loaded.lines, loaded.terms)
    basket.check_size(figures.net_amount, figures.program_amount, figures.points)
    quoted = checkout.quote(
        figures,
        loaded.lines,
        loaded.terms,
        orders_before=awarded_orders(session, member.id),
        bonus=program.first_order_bonus,
        discount_percent=loaded.discount,
        minor=minor_unit(loaded.currency),
        available=balance(session, member_id=member.id, now=now)["available"] if member.status == "active" else 0,
        max_share=Decimal(program.max_redeem_share),
        point_value=Decimal(program.point_value),
    )
    earning = quoted.earning
    return {
        "member_id": member.id,
        "tier": member.tier_code,
        "currency": loaded.currency,
        "net_amount": figures.net_amount,
        "discount_percent": loaded.discount,
        "discount_amount": quoted.discount_amount,
        "points_to_earn": earning.points,
        "promotion_points": earning.promotion_points,
        "bonus_points": earning.bonus_points,
        "total_points": earning.total,
        "max_redeemable_points": quoted.max_redeemable_points,
        "max_redeemable_value": quoted.max_redeemable_value,
    }


def move_orders(session: Session, survivor, member) -> None:
    """On merge: the tombstone's orders count for the survivor (refunds, tier qualification)."""
    session.execute(update(Order).where(Order.member_id == member.id).values(member_id=survivor.id))


def timeline_orders(session: Session, member_ids: list[str], before, limit: int) -> list[dict]:
    """Orders as member timeline items (a timeline source, registered by loyalty.wiring)."""
    from loyalty.members.timeline import before_clause

    query = select(Order).where(Order.member_id.in_(member_ids))
    if before:
        query = query.where(before_clause(Order.placed_at, Order.order_id, before, "ord:", numeric=False))
    rows = session.scalars(query.order_by(Order.placed_at.desc(), Order.order_id.desc()).limit(limit))
    return [
        {
            "at": o.placed_at,
            "type": "order.placed",
            "id": f"ord:{o.order_id}",
            "data": {
                "order_id": o.order_id,
                "net_amount": money(o.net_amount),
                "currency": o.currency,
                "points_earned": o.points_earned,
                "refunded_amount": money(o.refunded_amount),
            },
        }
        for o in rows
    ]
