"""Ledger primitives, used inside the caller's transaction.

Lock order, everywhere: the member's point account row first (accounts in member-id order
when there are several), then that member's lots. Every balance change for a member holds
the account lock, which is what makes concurrent redemptions unable to overdraw on
PostgreSQL; on SQLite, writers are serialised by BEGIN IMMEDIATE. Every statement that takes
the lock also sets the account's stored `balance` to NULL (changed: count it live), which is
what lets `points.balances` store one under the same lock (loyalty/points/balances.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    CTE,
    BigInteger,
    CursorResult,
    DateTime,
    Select,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from loyalty.core.db import insert_for, insert_for_dialect
from loyalty.core.errors import Conflict
from loyalty.core.prepared_statement import PreparedStatement
from loyalty.points.models import LedgerEntry, PointAccount, PointLot
from loyalty.points.rules import NotEnoughPoints, OpenLot, allocate, spend_order


class DuplicateSource(Conflict):
    code, title = "duplicate_source", "This source already produced this entry"


@dataclass(frozen=True)
class Source:
    type: str
    id: str


def lock_account(session: Session, member_id: str, *, now: datetime, new_order: bool = False) -> PointAccount:
    """The member's account row, created if missing and locked, in one statement
    (an upsert that updates takes the row lock, as SELECT ... FOR UPDATE would).
    `new_order` counts an order in the same statement."""
    insert = insert_for(session)
    statement = insert(PointAccount).values(
        member_id=member_id, debt=0, lifetime_earned=0, orders_count=1 if new_order else 0, updated_at=now
    )
    changes: dict[str, Any] = {"updated_at": statement.excluded.updated_at, "balance": null()}
    if new_order:
        changes["orders_count"] = PointAccount.orders_count + 1
    statement = statement.on_conflict_do_update(index_elements=[PointAccount.member_id], set_=changes)
    return session.scalars(statement.returning(PointAccount), execution_options={"populate_existing": True}).one()


def has_entry(session: Session, member_id: str, kind: str, source: Source) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    LedgerEntry.member_id == member_id,
                    LedgerEntry.kind == kind,
                    LedgerEntry.source_type == source.type,
                    LedgerEntry.source_id == source.id,
                )
            )
        )
    )


def _entry(
    session: Session,
    *,
    member_id: str,
    kind: str,
    points: int,
    source: Source,
    now: datetime,
    note: str | None,
    actor: str | None,
    available_at=None,
    expires_at=None,
    fresh_source: bool = False,
) -> LedgerEntry:
    """Append an entry. `fresh_source`: the caller just created the source (a new order id),
    so it can't have entries yet; the unique constraint still guards it."""
    if not fresh_source and has_entry(session, member_id, kind, source):
        raise DuplicateSource(f"{source.type} {source.id} already has a {kind} entry for this member.")
    values = entry_values(
        member_id=member_id,
        kind=kind,
        points=points,
        source=source,
        now=now,
        available_at=available_at,
        expires_at=expires_at,
        note=note,
        actor=actor,
    )
    entry_id = session.connection().execute(_ENTRY_INSERT, values).scalar_one()
    return LedgerEntry(id=entry_id, **values)  # a copy for the answer; the row is written


def credit(
    session: Session,
    account: PointAccount,
    *,
    kind: str,
    points: int,
    source: Source,
    now: datetime,
    available_at: datetime,
    expires_at: datetime | None,
    note: str | None = None,
    actor: str | None = None,
    earned: bool = True,
    fresh_source: bool = False,
) -> LedgerEntry:
    """Add points as a new lot; a debt left by a refund is paid from them first."""
    if points <= 0:
        raise ValueError("a credit needs positive points")
    if not fresh_source and has_entry(session, account.member_id, kind, source):
        raise DuplicateSource(f"{source.type} {source.id} already has a {kind} entry for this member.")
    paid = min(account.debt, points)
    if paid:
        account.debt -= paid
    if earned:
        account.lifetime_earned += points
    account.updated_at = now
    return write_credit(
        session.connection(),
        member_id=account.member_id,
        kind=kind,
        points=points,
        paid=paid,
        source=source,
        now=now,
        available_at=available_at,
        expires_at=expires_at,
        note=note,
        actor=actor,
    )


def write_credit(
    connection: Connection,
    *,
    member_id: str,
    kind: str,
    points: int,
    paid: int,
    source: Source,
    now: datetime,
    available_at: datetime,
    expires_at: datetime | None,
    note: str | None,
    actor: str | None,
) -> LedgerEntry:
    """The entry and its lot (less what paid a debt). On PostgreSQL in one round trip: on the
    checkout path, statements, not rows, are what cost."""
    values = entry_values(
        member_id=member_id,
        kind=kind,
        points=points,
        source=source,
        now=now,
        available_at=available_at,
        expires_at=expires_at,
        note=note,
        actor=actor,
    )
    if connection.dialect.name == "postgresql":
        (entry_id,) = _CREDIT_PG.rows(connection, {**values, "remaining": points - paid})[0]
    else:
        entry_id = connection.execute(_ENTRY_INSERT, values).scalar_one()
        connection.execute(
            insert(PointLot),
            {
                "entry_id": entry_id,
                "member_id": member_id,
                "points": points,
                "remaining": points - paid,
                "available_at": available_at,
                "expires_at": expires_at,
                "created_at": now,
            },
        )
    return LedgerEntry(id=entry_id, **values)


def entry_values(
    *,
    member_id: str,
    kind: str,
    points: int,
    source: Source,
    now: datetime,
    available_at: datetime,
    expires_at: datetime | None,
    note: str | None,
    actor: str | None,
) -> dict[str, Any]:
    """An entry's row as written (`credit_statement` binds these, and `remaining`)."""
    return dict(
        member_id=member_id,
        kind=kind,
        points=points,
        created_at=now,
        source_type=source.type,
        source_id=source.id,
        note=note,
        actor=actor,
        available_at=available_at,
        expires_at=expires_at,
    )


def credit_statement() -> ReturningInsert[Any]:
    """PostgreSQL: `write_credit`'s one statement (the entry, then its lot, returning the entry's id),
    for a caller that runs it with more in the same round trip (checkout, as a CTE). Its values are
    bound by the names `write_credit` gives them, `remaining` the points less what paid a debt."""
    columns = (
        "member_id",
        "kind",
        "points",
        "created_at",
        "source_type",
        "source_id",
        "note",
        "actor",
        "available_at",
        "expires_at",
    )
    table = LedgerEntry.__table__
    written = (
        insert(LedgerEntry)
        .values({c: bindparam(c, type_=table.c[c].type) for c in columns})
        .returning(LedgerEntry.id)
        .cte("written")
    )
    lots = PointLot.__table__
    lot_columns = ("member_id", "points", "remaining", "available_at", "expires_at", "created_at")
    source = {
        "member_id": "member_id",
        "points": "points",
        "remaining": "remaining",
        "available_at": "available_at",
        "expires_at": "expires_at",
        "created_at": "created_at",
    }
    return (
        insert(PointLot)
        .from_select(
            ["entry_id", *lot_columns],
            select(written.c.id, *[bindparam(source[c], type_=lots.c[c].type) for c in lot_columns]),
        )
        .returning(PointLot.entry_id)
    )


_CREDIT_PG = PreparedStatement(credit_statement())
_ENTRY_INSERT = insert(LedgerEntry).returning(LedgerEntry.id)


def lock_for_award(connection: Connection, member_id: str, *, now: datetime, earned: int) -> tuple[int, int]:
    """Lock (creating) the member's account for a new order, counting the order and its points
    in the same statement: (debt, orders so far including this one)."""
    statement = _AWARD_LOCK[connection.dialect.name]
    debt, orders = connection.execute(
        statement, {"member_id": member_id, "debt": 0, "lifetime_earned": earned, "orders_count": 1, "updated_at": now}
    ).one()
    return debt, orders


def _award_lock(insert_):
    statement = insert_(PointAccount)
    return statement.on_conflict_do_update(
        index_elements=[PointAccount.member_id],
        set_={
            "orders_count": PointAccount.orders_count + 1,
            "lifetime_earned": PointAccount.lifetime_earned + statement.excluded.lifetime_earned,
            "updated_at": statement.excluded.updated_at,
            "balance": null(),
        },
    ).returning(PointAccount.debt, PointAccount.orders_count)


_AWARD_LOCK = {name: _award_lock(insert_for_dialect(name)) for name in ("postgresql", "sqlite")}


def award_lock_after(gate: CTE) -> Select:
    """PostgreSQL: `lock_for_award` in the statement that records what the award is for. `gate` is
    a data-modifying CTE returning `member_id` for a row it wrote, nothing for one written before;
    only then is the account locked and counted (bind `earned` and `now`), after the gate's own
    wait, as when the two are run one after the other. Rows (debt, orders), none when the gate wrote
    nothing. At checkout, round trips are what cost."""
    statement = insert_for_dialect("postgresql")(PointAccount).from_select(
        ["member_id", "debt", "lifetime_earned", "orders_count", "updated_at"],
        select(
            gate.c.member_id,
            literal(0, BigInteger),
            bindparam("earned", type_=BigInteger),
            literal(1, BigInteger),
            bindparam("now", type_=DateTime(timezone=True)),
        ),
    )
    account = (
        statement.on_conflict_do_update(
            index_elements=[PointAccount.member_id],
            set_={
                "orders_count": PointAccount.orders_count + 1,
                "lifetime_earned": PointAccount.lifetime_earned + statement.excluded.lifetime_earned,
                "updated_at": statement.excluded.updated_at,
                "balance": null(),
            },
        )
        .returning(PointAccount.debt, PointAccount.orders_count)
        .cte("account")
    )
    return select(account.c.debt, account.c.orders_count)


def change_account(connection: Connection, member_id: str, *, debt: int = 0, earned: int = 0) -> None:
    connection.execute(
        update(PointAccount)
        .where(PointAccount.member_id == member_id)
        .values(debt=PointAccount.debt + debt, lifetime_earned=PointAccount.lifetime_earned + earned, balance=None)
    )


def open_lots(session: Session, member_id: str) -> list[OpenLot]:
    rows = session.execute(
        select(PointLot.id, PointLot.remaining, PointLot.available_at, PointLot.expires_at)
        .where(PointLot.member_id == member_id, PointLot.remaining > 0)
        .order_by(PointLot.id)
        .with_for_update()
    )
    return [OpenLot(*row) for row in rows]


def take_from_lots(session: Session, takes: list[tuple[int, int]]) -> None:
    for lot_id, points in takes:
        # Session.execute is typed Result for any statement; an UPDATE's is a CursorResult.
        done = cast(
            CursorResult[Any],
            session.execute(
                update(PointLot)
                .where(PointLot.id == lot_id, PointLot.remaining >= points)
                .values(remaining=PointLot.remaining - points)
            ),
        ).rowcount
        if done != 1:  # only possible if the lock discipline was broken somewhere
            raise RuntimeError(f"lot {lot_id} changed under its lock")


def return_to_lots(session: Session, account: PointAccount, takes: list[tuple[int, int]], *, now: datetime) -> None:
    """Give back points taken for a hold; a debt is paid from them first."""
    for lot_id, points in takes:
        paid = min(account.debt, points)
        account.debt -= paid
        if points - paid:
            session.execute(
                update(PointLot).where(PointLot.id == lot_id).values(remaining=PointLot.remaining + (points - paid))
            )
    account.updated_at = now


def expire_held(session: Session, account: PointAccount, *, points: int, source: Source, now: datetime) -> LedgerEntry:
    """Held points whose lot expired before the hold ended: they leave the balance now."""
    account.updated_at = now
    return _entry(
        session,
        member_id=account.member_id,
        kind="expire",
        points=-points,
        source=source,
        now=now,
        note="expired while held",
        actor=None,
    )


def spendable(account: PointAccount, lots: list[OpenLot], now: datetime) -> int:
    matured = sum(
        lot.remaining for lot in lots if lot.available_at <= now and (lot.expires_at is None or lot.expires_at > now)
    )
    return matured - account.debt


def reserve(session: Session, account: PointAccount, points: int, *, now: datetime) -> list[tuple[int, int]]:
    """Take `points` from matured lots, first to expire first; NotEnoughPoints if they aren't there."""
    lots = open_lots(session, account.member_id)
    if account.debt > 0:
        raise NotEnoughPoints(spendable(account, lots, now))
    try:
        takes = allocate(lots, points, now=now)
    except NotEnoughPoints:
        raise NotEnoughPoints(spendable(account, lots, now)) from None
    take_from_lots(session, takes)
    return takes


def debit(
    session: Session,
    account: PointAccount,
    *,
    kind: str,
    points: int,
    source: Source,
    now: datetime,
    note: str | None = None,
    actor: str | None = None,
    takes: list[tuple[int, int]] | None = None,
    fresh_source: bool = False,
) -> LedgerEntry:
    """Write a debit entry; without `takes`, the points are taken from matured lots now."""
    if points <= 0:
        raise ValueError("a debit needs positive points")
    if not fresh_source and has_entry(session, account.member_id, kind, source):
        raise DuplicateSource(f"{source.type} {source.id} already has a {kind} entry for this member.")
    if takes is None:
        reserve(session, account, points, now=now)
    account.updated_at = now
    return _entry(
        session,
        member_id=account.member_id,
        kind=kind,
        points=-points,
        source=source,
        now=now,
        note=note,
        actor=actor,
        fresh_source=True,
    )


def _order_lots(session: Session, member_id: str, order_id: str) -> list[int]:
    """The lots an order credited: its earn lot and its first-order bonus lot."""
    return list(
        session.scalars(
            select(PointLot.id)
            .join(LedgerEntry, LedgerEntry.id == PointLot.entry_id)
            .where(
                LedgerEntry.member_id == member_id,
                or_(
                    and_(LedgerEntry.kind == "earn", LedgerEntry.source_type == "order"),
                    and_(LedgerEntry.kind == "bonus", LedgerEntry.source_type == "first_order"),
                ),
                LedgerEntry.source_id == order_id,
            )
        )
    )


def _expired_from(session: Session, lot_ids: list[int]) -> int:
    return -int(
        session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
                LedgerEntry.kind == "expire",
                LedgerEntry.source_type == "lot",
                LedgerEntry.source_id.in_([str(i) for i in lot_ids]),
            )
        )
        or 0
    )


def reverse(
    session: Session,
    account: PointAccount,
    *,
    points: int,
    source: Source,
    now: datetime,
    order_id: str,
    forgiven_before: int = 0,
    note: str | None = None,
    actor: str | None = None,
) -> tuple[LedgerEntry | None, int]:
    """Take back an order's points: from the order's own lots first (pending or expired too);
    then, points of those lots that already expired are not taken again (the member lost them
    once); then any other lot, first to expire first; what still isn't there becomes debt
    (the only way a balance goes negative). Returns the entry and the points forgiven as expired."""
    lots = open_lots(session, account.member_id)
    own = set(_order_lots(session, account.member_id, order_id))
    takes: list[tuple[int, int]] = []
    left = points
    for lot in [lot for lot in spend_order(lots) if lot.id in own]:
        take = min(lot.remaining, left)
        if take:
            takes.append((lot.id, take))
            left -= take
    forgiven = min(left, max(0, _expired_from(session, sorted(own)) - forgiven_before)) if left else 0
    left -= forgiven
    for lot in [lot for lot in spend_order(lots) if lot.id not in own]:
        if left == 0:
            break
        take = min(lot.remaining, left)
        takes.append((lot.id, take))
        left -= take
    take_from_lots(session, takes)
    account.debt += left
    reversed_points = points - forgiven
    account.lifetime_earned = max(0, account.lifetime_earned - points)
    account.updated_at = now
    if reversed_points == 0:
        return None, forgiven
    entry = _entry(
        session,
        member_id=account.member_id,
        kind="reversal",
        points=-reversed_points,
        source=source,
        now=now,
        note=note if not forgiven else f"{note}; {forgiven} had already expired",
        actor=actor,
    )
    return entry, forgiven


def lock_accounts(session: Session, member_ids: list[str], *, now: datetime) -> None:
    """Lock (creating where missing) several members' accounts in member-id order: the same
    order every request takes them in, so a batch job and a checkout can't deadlock."""
    if not member_ids:
        return
    ordered = sorted(set(member_ids))
    insert = insert_for(session)
    session.execute(
        insert(PointAccount).on_conflict_do_nothing(),
        [
            {"member_id": member_id, "debt": 0, "lifetime_earned": 0, "orders_count": 0, "updated_at": now}
            for member_id in ordered
        ],
    )
    session.execute(
        select(PointAccount.member_id)
        .where(PointAccount.member_id.in_(ordered))
        .order_by(PointAccount.member_id)
        .with_for_update()
    )
    forget_balances(session, ordered)


def forget_balances(session: Session, member_ids: list[str]) -> None:
    """The stored balances of accounts this transaction has locked (to change them) no longer hold."""
    session.execute(
        update(PointAccount)
        .where(PointAccount.member_id.in_(member_ids), PointAccount.balance.is_not(None))
        .values(balance=None)
        .execution_options(synchronize_session=False)
    )
