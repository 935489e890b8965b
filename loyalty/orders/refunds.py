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
from loyalty.orders.basket import fingerprint
from loyalty.orders.models import Order, Refund, RefundedItem
from loyalty.orders.service import get_order
from loyalty.points import ledger
from loyalty.points.ledger import Source
from loyalty.points.rules import reversal_points
from loyalty.redemptions.returns import return_for_refund
from loyalty.redemptions.rules import RefundProgress


class RefundConflict(Conflict):
    code, title = "refund_conflict", "This refund id was used with other contents"


def _line_net(item: dict) -> Decimal:
    return item["quantity"] * Decimal(item["unit_price"]) - Decimal(item["discount"])


def _items_amounts(session: Session, order: Order, wanted: list[dict]) -> tuple[Decimal, Decimal]:
    """(goods amount, eligible amount) of refunded items, recording quantities so no unit is refunded twice.
    Whether a line earned is what it was when the order was placed, not today's exclusions."""
    done = {row.line: row for row in session.scalars(select(RefundedItem).where(RefundedItem.order_id == order.order_id))}
    amount = eligible = Decimal(0)
    errors: dict[str, list[str]] = {}
    for index, ask in enumerate(wanted):
        left = ask["quantity"]
        for line, item in enumerate(order.items):
            if item["sku"] != ask["sku"] or left == 0:
                continue
            row = done.get(line) or RefundedItem(order_id=order.order_id, line=line, quantity=0)
            take = min(left, item["quantity"] - row.quantity)
            if take <= 0:
                continue
            row.quantity += take
            done[line] = row
            session.add(row)
            part = _line_net(item) * take / item["quantity"]
            amount += part
            eligible += part if item.get("eligible", True) else 0
            left -= take
        if left:
            skus = list(dict.fromkeys(item["sku"] for item in order.items))
            errors[f"items.{index}.quantity" if ask["sku"] in skus else f"items.{index}.sku"] = [
                f"At most {ask['quantity'] - left} of `{ask['sku']}` is left to refund (bought, less what was "
                f"refunded before); asked for {ask['quantity']}." if ask["sku"] in skus else
                f"The order has no item with sku `{ask['sku']}`; its skus: {', '.join(skus)}."]
    if errors:
        raise ValidationFailed(errors, detail="Over-refund: more items than the order has left to refund.")
    if all(done.get(line) and done[line].quantity == item["quantity"] for line, item in enumerate(order.items)):
        # The last units close the order exactly, whatever rounding the earlier refunds carried.
        return order.net_amount - order.refunded_amount, order.eligible_amount - order.refunded_eligible
    return amount, eligible


def _refunded(session: Session, order: Order, data: dict) -> tuple[Decimal, Decimal]:
    """(goods amount, earning goods amount) this refund covers, in the order's currency."""
    left = order.net_amount - order.refunded_amount
    if "amount" not in data:
        amount, eligible = _items_amounts(session, order, data["items"])
        return min(amount, left), min(eligible, order.eligible_amount - order.refunded_eligible)
    amount = data["amount"]
    if amount > left:
        raise ValidationFailed({"amount": [f"Over-refund: at most {money(left)} of the "
                                           "order's goods is left to refund."]})
    # An amount is spread over what is left of the order, earning and non-earning goods alike.
    eligible_left = order.eligible_amount - order.refunded_eligible
    return amount, eligible_left if amount == left else (amount * eligible_left / left if left else Decimal(0))


def refund(session: Session, *, order_id: str, data: dict, actor: str | None,
           now: datetime | None = None) -> tuple[Refund, bool]:
    now = now or utcnow()
    order = get_order(session, order_id)
    account = ledger.lock_account(session, order.member_id, now=now)
    order = session.scalars(select(Order).where(Order.order_id == order_id).with_for_update()
                            .execution_options(populate_existing=True)).one()
    print_ = fingerprint({**data, "order_id": order_id})
    seen = session.get(Refund, data["refund_id"], populate_existing=True)
    if seen is not None:
        if seen.fingerprint != print_:
            raise RefundConflict(f"Refund `{seen.refund_id}` was already made with other contents.")
        return seen, False
    amount, eligible = _refunded(session, order, data)
    points = reversal_points(earned=order.points_earned + order.bonus_points, eligible_total=order.eligible_amount,
                             eligible_refunded_before=order.refunded_eligible, eligible_refunded_now=eligible,
                             reversed_before=order.points_reversed)
    forgiven = 0
    if points > 0:
        _entry, forgiven = ledger.reverse(session, account, points=points, source=Source("refund", data["refund_id"]),
                                          now=now, order_id=order_id, forgiven_before=order.points_forgiven,
                                          note=f"refund of order {order_id}", actor=actor)
    progress = RefundProgress(eligible_total=order.eligible_amount, eligible_before=order.refunded_eligible,
                              eligible_now=eligible, goods_total=order.net_amount, goods_before=order.refunded_amount,
                              goods_now=amount)
    returned = return_for_refund(session, account, order_id=order_id, refund_id=data["refund_id"], progress=progress,
                                 now=now, actor=actor)
    order.refunded_amount += amount
    order.refunded_eligible += eligible
    order.points_reversed += points  # the proportional target, expired points included
    order.points_forgiven += forgiven
    row = Refund(refund_id=data["refund_id"], order_id=order_id, amount=amount, eligible_amount=eligible,
                 items=data.get("items"), points_reversed=points - forgiven, points_returned=returned,
                 fingerprint=print_, created_at=now, actor=actor)
    session.add(row)
    session.flush()
    return row, True
