"""Reconcile the ledger: what `loyalty check` and the nightly `ledger.check` job verify.

It reads points, redemptions and orders together, so it sits on top with the scheduler and the CLI
rather than inside any one feature.

Each check is one set-based statement over the whole ledger (no member is loaded into Python)
that counts what breaks an invariant and names a few examples by id. The invariants are the
ones PRODUCT.md promises and tests/integration/test_ledger_state_machine.py checks per step:

- a member's entries add up to their unspent lots, plus open holds, minus debt;
- no lot holds more than it was credited or less than nothing, and no debt is negative;
- an open hold took exactly its points from lots;
- a source yields at most one entry of each kind per member;
- every order's earn and first-order bonus entries match what the order says it awarded, and its
  refunds' reversal and return entries match what each refund says it took and gave back;
- every member with lots has a points account, and a stored balance that still holds
  (points.balances) is the member's available points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ScalarSelect, Select, func, select, union_all
from sqlalchemy.orm import QueryableAttribute, Session

from loyalty.core.db import utcnow
from loyalty.core.jobs import JobContext
from loyalty.core.logging import get_logger
from loyalty.points import balances
from loyalty.points.models import LedgerEntry, PointAccount, PointLot
from loyalty.purchases.models import Order, Refund
from loyalty.redemptions.models import Allocation, Redemption

EXAMPLES = 5
log = get_logger("loyalty.reconcile")


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    checked: int  # rows looked at
    mismatches: int
    examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.mismatches == 0


def _books_balance() -> tuple[Select, Select]:
    """Per member: entries == lots remaining + open holds - debt."""
    parts = union_all(
        select(LedgerEntry.member_id, LedgerEntry.points.label("points")),
        select(PointLot.member_id, -PointLot.remaining),
        select(Redemption.member_id, -Redemption.points).where(Redemption.status == "held"),
        select(PointAccount.member_id, PointAccount.debt),
    ).subquery()
    per_member = select(parts.c.member_id, func.sum(parts.c.points).label("gap")).group_by(parts.c.member_id).subquery()
    return (
        select(func.count()).select_from(per_member),
        select(per_member.c.member_id).where(per_member.c.gap != 0).order_by(per_member.c.member_id),
    )


def _lots_in_bounds() -> tuple[Select, Select]:
    bad = (PointLot.remaining < 0) | (PointLot.remaining > PointLot.points)
    return (select(func.count()).select_from(PointLot), select(PointLot.member_id).where(bad).order_by(PointLot.id))


def _debt_not_negative() -> tuple[Select, Select]:
    return (
        select(func.count()).select_from(PointAccount),
        select(PointAccount.member_id).where(PointAccount.debt < 0).order_by(PointAccount.member_id),
    )


def _holds_allocated() -> tuple[Select, Select]:
    taken = (
        select(Allocation.redemption_id, func.sum(Allocation.points).label("points"))
        .group_by(Allocation.redemption_id)
        .subquery()
    )
    held = (
        select(Redemption.id, Redemption.points, func.coalesce(taken.c.points, 0).label("taken"))
        .outerjoin(taken, taken.c.redemption_id == Redemption.id)
        .where(Redemption.status == "held")
        .subquery()
    )
    return (
        select(func.count()).select_from(held),
        select(held.c.id).where(held.c.points != held.c.taken).order_by(held.c.id),
    )


def _one_entry_per_source() -> tuple[Select, Select]:
    keys = (LedgerEntry.member_id, LedgerEntry.kind, LedgerEntry.source_type, LedgerEntry.source_id)
    grouped = select(*keys, func.count().label("n")).group_by(*keys).subquery()
    return (
        select(func.count()).select_from(LedgerEntry),
        select(grouped.c.kind + " " + grouped.c.source_type + ":" + grouped.c.source_id)
        .where(grouped.c.n > 1)
        .order_by(grouped.c.source_id),
    )


def _entries_of(kind: str, source_type: str, key: QueryableAttribute[str]) -> ScalarSelect[Any]:
    return (
        select(func.coalesce(func.sum(LedgerEntry.points), 0))
        .where(LedgerEntry.kind == kind, LedgerEntry.source_type == source_type, LedgerEntry.source_id == key)
        .scalar_subquery()
    )


def _orders_match_entries() -> tuple[Select, Select]:
    earned = _entries_of("earn", "order", Order.order_id)
    bonus = _entries_of("bonus", "first_order", Order.order_id)
    refunded = (
        select(func.coalesce(func.sum(Refund.points_reversed), 0))
        .where(Refund.order_id == Order.order_id)
        .scalar_subquery()
    )
    bad = (
        (earned != Order.points_earned)
        | (bonus != Order.bonus_points)
        | (refunded != Order.points_reversed - Order.points_forgiven)
    )
    return (select(func.count()).select_from(Order), select(Order.order_id).where(bad).order_by(Order.order_id))


def _refunds_match_entries() -> tuple[Select, Select]:
    reversed_ = _entries_of("reversal", "refund", Refund.refund_id)
    returned = _entries_of("return", "refund", Refund.refund_id)
    bad = (-reversed_ != Refund.points_reversed) | (returned != Refund.points_returned)
    return (select(func.count()).select_from(Refund), select(Refund.refund_id).where(bad).order_by(Refund.refund_id))


def _stored_balances_hold() -> tuple[Select, Select]:
    """Per account whose stored balance still holds (points.balances): it is the available points."""
    now = utcnow()
    holding = balances.holds(PointAccount, now)
    return (
        select(func.count()).select_from(PointAccount).where(holding),
        select(PointAccount.member_id)
        .where(holding, PointAccount.balance != balances.live_balance(now))
        .order_by(PointAccount.member_id),
    )


def _lots_have_accounts() -> tuple[Select, Select]:
    """Every member with lots has a points account: segments count a member without one as 0."""
    holders = select(PointLot.member_id).distinct().subquery()
    return (
        select(func.count()).select_from(holders),
        select(holders.c.member_id)
        .where(~select(PointAccount.member_id).where(PointAccount.member_id == holders.c.member_id).exists())
        .order_by(holders.c.member_id),
    )


CHECKS = (
    ("balances", "every member's entries = unspent lots + open holds - debt", _books_balance),
    ("lots", "no lot holds less than nothing or more than it was credited", _lots_in_bounds),
    ("debt", "no account's debt is negative", _debt_not_negative),
    ("holds", "every open hold took exactly its points from lots", _holds_allocated),
    ("sources", "no source yields two entries of one kind for a member", _one_entry_per_source),
    (
        "orders",
        "each order's earn and first-order bonus entries, and its refunds' reversals, match the order",
        _orders_match_entries,
    ),
    ("refunds", "each refund's reversal and return entries match the refund", _refunds_match_entries),
    ("accounts", "every member with lots has a points account", _lots_have_accounts),
    (
        "stored_balances",
        "every stored balance segments read while it holds is the member's available points",
        _stored_balances_hold,
    ),
)


def reconcile(session: Session) -> list[Check]:
    results = []
    for name, description, build in CHECKS:
        count_all, offenders = build()
        checked = session.scalar(count_all) or 0
        mismatched = session.scalar(select(func.count()).select_from(offenders.order_by(None).subquery())) or 0
        examples = [str(row) for row in session.scalars(offenders.limit(EXAMPLES))] if mismatched else []
        results.append(Check(name, description, checked, mismatched, examples))
    return results


def check_ledger(context: JobContext) -> dict[str, int]:
    """The nightly job: the same checks, counted per check (a mismatch is logged as an error and shows
    in /metrics as loyalty_ledger_mismatches; `loyalty check` is the command that exits non-zero)."""
    with context.db.unit_of_work() as session:
        results = reconcile(session)
    for check in results:
        if not check.ok:
            log.error("ledger_mismatch", check=check.name, mismatches=check.mismatches)
    counts = {f"{check.name}_checked": check.checked for check in results}
    counts.update({f"{check.name}_mismatches": check.mismatches for check in results})
    return counts
