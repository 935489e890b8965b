"""Refunds: points reversed in proportion to the refunded goods, and points paid on the order given back
in the same proportion, once per refund id."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.core.db import utcnow
from loyalty.core.errors import Conflict, ValidationFailed
from loyalty.core.money import money
from loyalty.orders import rules as checkout
from loyalty.orders.basket import fingerprint
from loyalty.orders.rules import RefundLine, Split
from loyalty.orders.service import get_order
from loyalty.points import ledger
from loyalty.points.ledger import Source
from loyalty.points.rules import reversal_points
from loyalty.purchases.models import Order, Refund, RefundedItem
from loyalty.redemptions.returns import return_for_refund
from loyalty.redemptions.rules import RefundProgress


class RefundConflict(Conflict):
    code, title = "refund_conflict", "This refund id was used with other contents"


def _refund_lines(order: Order) -> list[RefundLine]:
    return [
        RefundLine(
            sku=item["sku"],
            quantity=item["quantity"],
            unit_price=Decimal(item["unit_price"]),
            discount=Decimal(item["discount"]),
            eligible=item.get("eligible", True),
        )
        for item in order.items
    ]


def _over_refund(order: Order, wanted: list[dict], short: dict[int, int]) -> ValidationFailed:
    skus = list(dict.fromkeys(item["sku"] for item in order.items))
    errors: dict[str, list[str]] = {}
    for index, left in short.items():
        ask = wanted[index]
        errors[f"items.{index}.quantity" if ask["sku"] in skus else f"items.{index}.sku"] = [
            f"At most {ask['quantity'] - left} of `{ask['sku']}` is left to refund (bought, less what was "
            f"refunded before); asked for {ask['quantity']}."
            if ask["sku"] in skus
            else f"The order has no item with sku `{ask['sku']}`; its skus: {', '.join(skus)}."
        ]
    return ValidationFailed(errors, detail="Over-refund: more items than the order has left to refund.")


def _split(session: Session, order: Order, data: dict) -> Split:
    """The goods this refund covers and the earning part of them, in the order's currency; a refund
    by items records the units it takes, so no unit is refunded twice."""
    goods_left = order.net_amount - order.refunded_amount
    eligible_left = order.eligible_amount - order.refunded_eligible
    if "amount" in data:
        if data["amount"] > goods_left:
            raise ValidationFailed(
                {"amount": [f"Over-refund: at most {money(goods_left)} of the order's goods is left to refund."]}
            )
        return checkout.split_amount(data["amount"], goods_left=goods_left, eligible_left=eligible_left)
    rows = {
        row.line: row for row in session.scalars(select(RefundedItem).where(RefundedItem.order_id == order.order_id))
    }
    decided = checkout.split_items(
        _refund_lines(order),
        {line: row.quantity for line, row in rows.items()},
        [(ask["sku"], ask["quantity"]) for ask in data["items"]],
        goods_left=goods_left,
        eligible_left=eligible_left,
    )
    if decided.short:
        raise _over_refund(order, data["items"], decided.short)
    for line, units in decided.units.items():
        row = rows.get(line) or RefundedItem(order_id=order.order_id, line=line, quantity=0)
        if row.quantity != units:
            row.quantity = units
            session.add(row)
    return decided.split


def refund(
    session: Session, *, order_id: str, data: dict, actor: str | None, now: datetime | None = None
) -> tuple[Refund, bool]:
    now = now or utcnow()
    order = get_order(session, order_id)
    account = ledger.lock_account(session, order.member_id, now=now)
    order = session.scalars(
        select(Order).where(Order.order_id == order_id).with_for_update().execution_options(populate_existing=True)
    ).one()
    refund_fingerprint = fingerprint({**data, "order_id": order_id})
    seen = session.get(Refund, data["refund_id"], populate_existing=True)
    if seen is not None:
        if seen.fingerprint != refund_fingerprint:
            raise RefundConflict(f"Refund `{seen.refund_id}` was already made with other contents.")
        return seen, False
    split = _split(session, order, data)
    amount, eligible = split.amount, split.eligible
    points = reversal_points(
        earned=order.points_earned + order.bonus_points,
        eligible_total=order.eligible_amount,
        eligible_refunded_before=order.refunded_eligible,
        eligible_refunded_now=eligible,
        reversed_before=order.points_reversed,
    )
    forgiven = 0
    if points > 0:
        _entry, forgiven = ledger.reverse(
            session,
            account,
            points=points,
            source=Source("refund", data["refund_id"]),
            now=now,
            order_id=order_id,
            forgiven_before=order.points_forgiven,
            note=f"refund of order {order_id}",
            actor=actor,
        )
    progress = RefundProgress(
        eligible_total=order.eligible_amount,
        eligible_before=order.refunded_eligible,
        eligible_now=eligible,
        goods_total=order.net_amount,
        goods_before=order.refunded_amount,
        goods_now=amount,
    )
    returned = return_for_refund(
        session, account, order_id=order_id, refund_id=data["refund_id"], progress=progress, now=now, actor=actor
    )
    order.refunded_amount += amount
    order.refunded_eligible += eligible
    order.points_reversed += points  # the proportional target, expired points included
    order.points_forgiven += forgiven
    row = Refund(
        refund_id=data["refund_id"],
        order_id=order_id,
        amount=amount,
        eligible_amount=eligible,
        items=data.get("items"),
        points_reversed=points - forgiven,
        points_returned=returned,
        fingerprint=refund_fingerprint,
        created_at=now,
        actor=actor,
    )
    session.add(row)
    session.flush()
    return row, True
