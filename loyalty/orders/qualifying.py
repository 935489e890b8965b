"""What orders count towards a tier: the qualifying value of members over a window."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session

from loyalty.orders.models import Order

# Net of refunds: a refunded amount no longer qualifies (though a refund never lowers the tier
# held; it only counts at the next review).
_VALUE = {
    "spend_12m": func.sum(Order.program_amount - Order.refunded_amount * Order.exchange_rate),
    "points_12m": func.sum(Order.points_earned - Order.points_reversed),
    "orders_12m": func.sum(case((Order.refunded_amount < Order.net_amount, 1), else_=0)),
}
_STATEMENTS = {
    metric: select(Order.member_id, value).where(
        Order.member_id.in_(bindparam("members", expanding=True)),
        Order.placed_at > bindparam("start"), Order.placed_at <= bindparam("end"))
    .group_by(Order.member_id)
    for metric, value in _VALUE.items()
}


def qualifying_values(session: Session, member_ids: list[str], *, start: datetime, end: datetime,
                      metric: str) -> dict[str, Decimal]:
    """Per member, the program's tier metric over orders placed in (start, end]; absent: nothing."""
    if not member_ids:
        return {}
    rows = session.connection().execute(_STATEMENTS[metric], {"members": member_ids, "start": start, "end": end})
    return {member_id: Decimal(value or 0) for member_id, value in rows}
