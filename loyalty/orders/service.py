"""Posting orders (points awarded once per order id) and quoting baskets."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from loyalty.core.db import utcnow
from loyalty.core.errors import Conflict, NotFound
from loyalty.core.money import minor_unit, money
from loyalty.orders import basket
from loyalty.orders import rules as checkout
from loyalty.orders.models import Order
from loyalty.points import ledger
from loyalty.points.ledger import Source
from loyalty.points.rules import available_from, eligible_amount, max_redeemable, net_amount
from loyalty.points.service import awarded_orders, balance, expiry_for, member_for_points
from loyalty.program.service import settings
from loyalty.tiers.grading import grade_after_order
from loyalty.tiers.service import tier_terms
from loyalty.webhooks.outbox import emit


class OrderConflict(Conflict):
    code, title = "order_conflict", "This order id was posted with other contents"


def get_order(session: Session, order_id: str) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"No order `{order_id}`.")
    return order


def _seen(session: Session, order_id: str, print_: str) -> Order | None:
    order = session.scalars(select(Order).where(Order.order_id == order_id)
                            .execution_options(populate_existing=True)).first()
    if order is not None and order.fingerprint != print_:
        raise OrderConflict(f"Order `{order_id}` was already posted with other contents; it awards only once.",
                            order_id=order_id)
    return order


def post_order(session: Session, *, data: dict, actor: str | None, now: datetime | None = None,
               first_order_bonus: bool = True) -> tuple[Order, bool]:
    """The order and whether this call created it (False: seen before, nothing awarded again).
    `first_order_bonus=False`: an imported past order (loyalty.imports.orders) is no welcome."""
    now = now or utcnow()
    program = settings(session)
    data = {**data, "currency": data.get("currency") or program.currency}
    member = member_for_points(session, basket.find_member_id(session, data))
    print_ = basket.order_fingerprint(data, member.id)
    lines = basket.lines_of(data)
    basket.check_total(data, lines)
    basket.check_placed_at(data["placed_at"], now)
    rate = basket.exchange_rate(program, data["currency"])
    _discount, multiplier = tier_terms(session, member.tier_code)
    terms = basket.earn_terms(session, program, rate=rate, multiplier=multiplier, channel=data["channel"],
                              placed_at=data["placed_at"])
    points = checkout.earned_points(lines, terms)  # the quote's arithmetic too
    basket.check_size(net_amount(lines), net_amount(lines) * rate, points)
    pending = program.pos_pending_days if data["channel"] == "pos" and program.pos_pending_days is not None \
        else program.pending_days
    matures = available_from(data["placed_at"], pending).astimezone(timezone.utc)  # answered in UTC
    values = dict(
        order_id=data["order_id"], member_id=member.id, placed_at=data["placed_at"].astimezone(timezone.utc),
        currency=data["currency"],
        exchange_rate=rate, channel=data["channel"], store_id=data.get("store_id"),
        items=[{**i, "unit_price": str(i["unit_price"]), "discount": str(i["discount"]),
                "eligible": i["category"] not in terms.excluded_categories} for i in data["items"]],
        shipping=data["shipping"], tax=data["tax"], net_amount=net_amount(lines),
        eligible_amount=eligible_amount(lines, terms.excluded_categories),
        program_amount=net_amount(lines) * rate, points_earned=points, bonus_points=0, available_at=matures,
        tier_after=member.tier_code, fingerprint=print_, created_at=now, actor=actor,
        refunded_amount=Decimal(0), refunded_eligible=Decimal(0), points_reversed=0, points_forgiven=0,
    )
    # The order id is the gate: whoever inserts it awards; a concurrent post of the same id
    # waits on the unique index until the first commits, then finds it here.
    connection = session.connection()  # Core on the hot path: the ORM's per-statement cost is the bottleneck
    inserted = connection.execute(_ORDER_GATE[connection.dialect.name], values).scalar()
    if inserted is None:
        return _seen(session, data["order_id"], print_) or _raise_conflict(data["order_id"]), False
    debt, orders = ledger.lock_for_award(connection, member.id, now=now, earned=points)
    bonus = checkout.first_order_bonus(orders_before=orders - 1, bonus=program.first_order_bonus) \
        if first_order_bonus else 0
    expires = expiry_for(session, data["placed_at"])
    for kind, amount, source, note in (("earn", points, Source("order", data["order_id"]), None),
                                       ("bonus", bonus, Source("first_order", data["order_id"]), "first order bonus")):
        if amount <= 0:
            continue
        paid = min(debt, amount)  # a debt left by a refund is repaid first
        debt -= paid
        ledger.write_credit(connection, member_id=member.id, kind=kind, points=amount, paid=paid, source=source,
                            now=now, available_at=matures, expires_at=expires, note=note, actor=actor)
        if paid or kind == "bonus":
            ledger.change_account(connection, member.id, debt=-paid, earned=amount if kind == "bonus" else 0)
    # Upgrade at once, in this transaction; the new tier's multiplier applies from the next order.
    tier = grade_after_order(session, member_id=member.id, held=member.tier_code, now=now,
                             order_id=data["order_id"], actor=actor)
    if bonus or tier != member.tier_code:
        connection.execute(update(Order).where(Order.order_id == data["order_id"]).values(
            bonus_points=bonus, tier_after=tier))
        values.update(bonus_points=bonus, tier_after=tier)
    emit(session, "order.points_awarded", {
        "order_id": data["order_id"], "member_id": member.id, "points_earned": points, "bonus_points": bonus,
        "available_at": matures, "tier": tier}, at=now)
    return Order(**values), True


_ORDER_GATE = {name: insert_(Order).on_conflict_do_nothing().returning(Order.order_id)
               for name, insert_ in (("postgresql", pg_insert), ("sqlite", sqlite_insert))}


def _raise_conflict(order_id: str):
    raise OrderConflict(f"Order `{order_id}` is being posted by another request.", order_id=order_id)


def quote(session: Session, *, data: dict, now: datetime | None = None) -> dict:
    """What posting this basket would give, as the order's response will report it (the same
    arithmetic, orders/rules.py), the tier discount a till may give, and the most points payable."""
    now = now or utcnow()
    program = settings(session)
    currency = data.get("currency") or program.currency
    member = member_for_points(session, basket.find_member_id(session, data))
    lines = basket.lines_of(data)
    basket.check_total(data, lines)
    rate = basket.exchange_rate(program, currency)
    discount, multiplier = tier_terms(session, member.tier_code)
    terms = basket.earn_terms(session, program, rate=rate, multiplier=multiplier, channel=data["channel"],
                              placed_at=data.get("placed_at") or now)
    earning = checkout.earning(lines, terms, orders_before=awarded_orders(session, member.id),
                               bonus=program.first_order_bonus)
    basket.check_size(net_amount(lines), net_amount(lines) * rate, earning.points)
    discount_amount = checkout.tier_discount(lines, excluded=terms.excluded_categories, percent=discount,
                                             minor=minor_unit(currency))
    payable = (net_amount(lines) - discount_amount) * rate
    available = balance(session, member_id=member.id, now=now)["available"] if member.status == "active" else 0
    most = max_redeemable(available=available, amount=payable, share=Decimal(program.max_redeem_share),
                          point_value=Decimal(program.point_value))
    return {
        "member_id": member.id, "tier": member.tier_code, "currency": currency, "net_amount": net_amount(lines),
        "discount_percent": discount, "discount_amount": discount_amount,
        "points_to_earn": earning.points, "promotion_points": earning.promotion_points,
        "bonus_points": earning.bonus_points, "total_points": earning.total,
        "max_redeemable_points": most, "max_redeemable_value": most * Decimal(program.point_value),
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
    return [{"at": o.placed_at, "type": "order.placed", "id": f"ord:{o.order_id}",
             "data": {"order_id": o.order_id, "net_amount": money(o.net_amount), "currency": o.currency,
                      "points_earned": o.points_earned, "refunded_amount": money(o.refunded_amount)}} for o in rows]
