"""Posting staged orders: each through the order service, as `POST /v1/orders` does, on the clock of
its own `placed_at`, a member's orders oldest first, one transaction per batch of members.

So points mature and expire from their historical dates, each order earns at the tier the member
held then (and may upgrade them then), and promotions running then apply. What an import does not
do, because that history already happened elsewhere: no webhook events (the session replays
history, webhooks.outbox.replaying_history), no first-order bonus. A `refunded_amount` is refunded
through the refund service at the order's own time, reversing points in the refund's proportion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from sqlalchemy.orm import Session

from loyalty.core.db import Database
from loyalty.core.errors import LoyaltyError
from loyalty.imports import order_rules as rules
from loyalty.orders.refunds import refund
from loyalty.orders.service import post_order
from loyalty.webhooks.outbox import replaying_history

ACTOR = "import"


@dataclass
class Posted:
    imported: int = 0  # lines
    existing: int = 0  # lines of orders another run or the API posted meanwhile
    refused: list[tuple[list, str]] = field(default_factory=list)  # (the order's lines, reject code)


def orders_of(lines: Sequence[Any]) -> list[list[Any]]:
    """Staged lines (sorted by member, time, order id, line) -> the lines of each order."""
    return [list(group) for _key, group in groupby(lines, key=lambda line: line.order_id)]


def post_batch(db: Database, orders: list[list]) -> Posted:
    """One transaction for the batch. If the order service refuses one order (a member blocked
    since staging, a currency without a rate, an order too large), the batch is done again with
    each order in its own savepoint, so only the refused one stays out."""
    try:
        with db.unit_of_work() as session:
            replaying_history(session)
            done = Posted()
            for lines in orders:
                _count(done, lines, _post(session, lines))
            return done
    except (LoyaltyError, rules.Rejected):
        pass
    with db.unit_of_work() as session:
        replaying_history(session)
        done = Posted()
        for lines in orders:
            try:
                with session.begin_nested():
                    _count(done, lines, _post(session, lines))
            except rules.Rejected as rejected:
                done.refused.append((lines, rejected.code))
            except LoyaltyError as error:
                code = rules.refused_code(error.code, error.extra.get("errors"))
                if code == "order_conflict":  # the id was posted meanwhile, with other contents: known
                    done.existing += len(lines)
                else:
                    done.refused.append((lines, code))
        return done


def _count(done: Posted, lines: list, created: bool) -> None:
    if created:
        done.imported += len(lines)
    else:
        done.existing += len(lines)


def _post(session: Session, lines: list) -> bool:
    data = rules.order_data(lines)
    refunded = next((line.refunded_amount for line in lines if line.refunded_amount is not None), None)
    if not rules.refund_fits(rules.goods_amount(data), refunded):
        raise rules.Rejected("refund_exceeds_order")
    at = data["placed_at"]
    _order, created = post_order(session, data=data, actor=ACTOR, now=at, first_order_bonus=False)
    if created and refunded:
        refund(
            session,
            order_id=data["order_id"],
            actor=ACTOR,
            now=at,
            data={"refund_id": rules.refund_id(data["order_id"]), "amount": refunded},
        )
    return created
