"""Writing an order's award once its gate is passed and the member's account locked: the credits,
the upgrade at once, the `order.points_awarded` event.

At checkout the round trips are what cost (each one a wait of the worker, which serves nothing
meanwhile). On PostgreSQL the first credit, the member's qualifying value and the event go as one
statement: it starts after the account lock was taken, so the value counts every order committed
before (as the separate read did), and the event is written as if the tier stays. When the order
moves the tier (or the id made now would not sort last) the event is taken back and written again
after `tier.changed`, as subscribers have always received them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from loyalty.core.prepared_statement import PreparedStatement
from loyalty.orders import rules as checkout
from loyalty.points import ledger
from loyalty.points.ledger import Source
from loyalty.purchases import facts
from loyalty.purchases.models import Order
from loyalty.tiers.grading import grade_after_order
from loyalty.tiers.standings import metric_value, qualifying_window
from loyalty.webhooks import outbox

_SOURCES = {"earn": ("order", None), "bonus": ("first_order", "first order bonus")}
_EVENT = "event_"  # the event's values are bound under this prefix in the one statement


def _credit_announce_and_value(metric: str) -> PreparedStatement:
    credited = ledger.credit_statement().cte("credited")
    announced = outbox.announce_statement(prefix=_EVENT).cte("announced")
    return PreparedStatement(
        select(
            select(credited.c.entry_id).scalar_subquery(),
            facts.one_member_value(metric),
            select(announced.c.id).scalar_subquery(),
        )
    )


_IN_ONE = {metric: _credit_announce_and_value(metric) for metric in facts.METRICS}


def write(
    session: Session,
    order: dict[str, Any],
    decided: checkout.Award,
    *,
    expires: datetime | None,
    now: datetime,
    actor: str | None,
) -> str | None:
    """The award of a new `order` (its row, updated with its bonus and tier); the tier held after."""
    connection = session.connection()
    held = order["tier_after"]
    credits = list(decided.credits)
    event = {
        "order_id": order["order_id"],
        "member_id": order["member_id"],
        "points_earned": order["points_earned"],
        "bonus_points": decided.bonus,
        "available_at": order["available_at"],
        "tier": held,
    }
    value: Decimal | None = None
    written: str | None = None
    if connection.dialect.name == "postgresql" and credits and outbox.announcing(session):
        metric, start = qualifying_window(session, end=now)
        first = _credit(order, credits[0], expires=expires, now=now, actor=actor)
        paid = first.pop("paid")
        params = {
            **ledger.entry_values(**first),
            "remaining": credits[0].points - paid,
            **outbox.announce_params("order.points_awarded", event, at=now, prefix=_EVENT),
            "member": order["member_id"],
            "start": start,
            "end": now,
        }
        _entry, raw, written = _IN_ONE[metric].rows(connection, params)[0]
        value = metric_value(metric, Decimal(raw or 0))
        _count(connection, order, credits.pop(0))
    for credit in credits:
        ledger.write_credit(connection, **_credit(order, credit, expires=expires, now=now, actor=actor))
        _count(connection, order, credit)
    # Upgrade at once, in this transaction; the new tier's multiplier applies from the next order.
    tier, moved = grade_after_order(
        session,
        member_id=order["member_id"],
        held=held,
        now=now,
        order_id=order["order_id"],
        actor=actor,
        value=value,
    )
    if decided.bonus or tier != held:
        connection.execute(
            update(Order).where(Order.order_id == order["order_id"]).values(bonus_points=decided.bonus, tier_after=tier)
        )
        order.update(bonus_points=decided.bonus, tier_after=tier)
    if written is not None and not moved and tier == held:
        return tier
    if written is not None:
        outbox.withdraw(session, written)
    outbox.emit(session, "order.points_awarded", {**event, "tier": tier}, at=now)
    return tier


def _credit(
    order: dict[str, Any], credit: checkout.Credit, *, expires: datetime | None, now: datetime, actor: str | None
) -> dict[str, Any]:
    """`ledger.write_credit`'s arguments for one credit of the order."""
    source_type, note = _SOURCES[credit.kind]
    return dict(
        member_id=order["member_id"],
        kind=credit.kind,
        points=credit.points,
        paid=credit.paid,
        source=Source(source_type, order["order_id"]),
        now=now,
        available_at=order["available_at"],
        expires_at=expires,
        note=note,
        actor=actor,
    )


def _count(connection: Connection, order: dict[str, Any], credit: checkout.Credit) -> None:
    # The earn's own count was taken with the award lock; a bonus counts as earned here.
    if credit.paid or credit.kind == "bonus":
        earned = credit.points if credit.kind == "bonus" else 0
        ledger.change_account(connection, order["member_id"], debt=-credit.paid, earned=earned)
