"""Points use cases: balance, ledger, staff adjustments, bonuses, and what a merge moves."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import BindParameter, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from loyalty.core.db import utcnow
from loyalty.core.errors import LoyaltyError, MemberBlocked, MemberErased, ValidationFailed
from loyalty.core.ids import new_id
from loyalty.core.pagination import keyset_page
from loyalty.members.models import Member
from loyalty.members.service import Brief, brief, resolve, unerased
from loyalty.points import balances, ledger
from loyalty.points.ledger import Source
from loyalty.points.models import LedgerEntry, PointAccount, PointLot
from loyalty.points.rules import NotEnoughPoints, lot_expiry
from loyalty.program.service import settings

EXPIRING_WINDOW = timedelta(days=30)


class InsufficientPoints(LoyaltyError):
    status, code, title = 409, "insufficient_points", "Not enough points"

    def __init__(self, available: int, wanted: int) -> None:
        detail = (
            f"{wanted} points asked, {available} available."
            if available >= 0
            else f"The balance is negative ({available}) after a refund; nothing can be redeemed until it is repaid."
        )
        super().__init__(detail, available=available, requested=wanted)


class MemberSuspended(LoyaltyError):
    status, code, title = 403, "member_suspended", "The member is suspended"


def member_for_points(session: Session, member_id: str, *, redeeming: bool = False) -> Brief:
    member = brief(session, member_id)
    if member.erased:
        raise MemberErased(f"Member `{member.id}` was erased; it earns and redeems nothing.")
    if member.status == "blocked":
        raise MemberBlocked(f"Member `{member.id}` is blocked: it earns and redeems nothing.")
    if redeeming and member.status == "suspended":
        raise MemberSuspended(f"Member `{member.id}` is suspended: it can't redeem.")
    return member


def awarded_orders(session: Session, member_id: str) -> int:
    """Orders that have awarded points to the member (0: the next one is its first)."""
    return int(session.scalar(select(PointAccount.orders_count).where(PointAccount.member_id == member_id)) or 0)


def expiry_for(session: Session, earned_at: datetime) -> datetime | None:
    program = settings(session)
    return lot_expiry(earned_at, program.expiry_months, program.timezone)


def balance(session: Session, *, member_id: str, now: datetime | None = None) -> dict:
    now = now or utcnow()
    member = resolve(session, member_id)
    account = session.get(PointAccount, member.id)
    debt = account.debt if account else 0
    unexpired = and_(
        PointLot.member_id == member.id,
        PointLot.remaining > 0,
        or_(PointLot.expires_at.is_(None), PointLot.expires_at > now),
    )
    matured = session.execute(
        select(func.coalesce(func.sum(PointLot.remaining), 0)).where(unexpired, PointLot.available_at <= now)
    ).scalar_one()
    pending = session.execute(
        select(func.coalesce(func.sum(PointLot.remaining), 0)).where(unexpired, PointLot.available_at > now)
    ).scalar_one()
    soon = session.execute(
        select(PointLot.expires_at, func.sum(PointLot.remaining))
        .where(unexpired, PointLot.expires_at <= now + EXPIRING_WINDOW)
        .group_by(PointLot.expires_at)
        .order_by(PointLot.expires_at)
    ).all()
    program = settings(session)
    available = int(matured) - debt
    # Held points are out of the lots but not yet spent: what the entries hold beyond the lots.
    entries = session.execute(
        select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(LedgerEntry.member_id == member.id)
    ).scalar_one()
    # `remaining > 0` adds nothing to the sum (spent lots hold 0) but lets the partial index of open
    # lots answer: without it PostgreSQL scans every lot of every member.
    lots = session.execute(
        select(func.coalesce(func.sum(PointLot.remaining), 0)).where(
            PointLot.member_id == member.id, PointLot.remaining > 0
        )
    ).scalar_one()
    return {
        "member_id": member.id,
        "available": available,
        "pending": int(pending),
        "lifetime_earned": account.lifetime_earned if account else 0,
        "expiring_soon": [{"points": int(points), "expires_at": at} for at, points in soon],
        "debt": debt,
        "held": int(entries) - int(lots) + debt,
        "available_value": max(0, available) * program.point_value,
        "currency": program.currency,
    }


def ledger_page(session: Session, *, member_id: str, limit: int, cursor: str | None = None) -> dict:
    """Newest first; a survivor's ledger includes the entries of members merged into it."""
    member = resolve(session, member_id)
    ids = [member.id] + list(session.scalars(select(Member.id).where(Member.merged_into == member.id)))
    return keyset_page(
        session,
        select(LedgerEntry).where(LedgerEntry.member_id.in_(ids)),
        LedgerEntry.id,
        limit=limit,
        cursor=cursor,
        descending=True,
        kind=int,
    )


def adjust(
    session: Session,
    *,
    member_id: str,
    points: int,
    reason: str,
    actor: str,
    note: str | None = None,
    now: datetime | None = None,
) -> LedgerEntry:
    """A staff correction: credits are available at once; debits come from available points only."""
    now = now or utcnow()
    if points == 0:
        raise ValidationFailed(
            {"points": ["Must not be zero: a positive number credits points, a negative one takes them back."]}
        )
    member = brief(session, member_id)  # staff may correct even a blocked member; an erased one is gone
    if member.erased:
        raise MemberErased(f"Member `{member.id}` was erased.")
    account = ledger.lock_account(session, member.id, now=now)
    unerased(session, member.id)  # an erasure in flight: wait, then refuse (its note would outlive the scrub)
    source = Source("adjustment", new_id("adj"))
    text = reason if not note else f"{reason}: {note}"
    if points > 0:
        return ledger.credit(
            session,
            account,
            kind="adjust",
            points=points,
            source=source,
            now=now,
            available_at=now,
            expires_at=expiry_for(session, now),
            note=text,
            actor=actor,
            earned=False,
        )
    try:
        return ledger.debit(
            session, account, kind="adjust", points=-points, source=source, now=now, note=text, actor=actor
        )
    except NotEnoughPoints as error:
        raise InsufficientPoints(error.available, -points) from None


def grant_bonus(
    session: Session,
    *,
    member_id: str,
    points: int,
    source: Source,
    note: str,
    now: datetime | None = None,
    actor: str | None = None,
) -> LedgerEntry | None:
    """A bonus (signup, first order, birthday, referral, campaign, goodwill), once per source."""
    now = now or utcnow()
    if points <= 0:
        return None
    account = ledger.lock_account(session, member_id, now=now)
    if ledger.has_entry(session, member_id, "bonus", source):
        return None
    return ledger.credit(
        session,
        account,
        kind="bonus",
        points=points,
        source=source,
        now=now,
        available_at=now,
        expires_at=expiry_for(session, now),
        note=note,
        actor=actor,
    )


def grant_signup_bonus(session: Session, member: Member) -> None:
    grant_bonus(
        session,
        member_id=member.id,
        points=settings(session).signup_bonus,
        source=Source("signup", member.id),
        note="signup bonus",
        now=member.enrolled_at,
        actor=session.info.get("actor") or "system:signup",
    )


def move_points(session: Session, survivor: Member, source_member: Member) -> None:
    """On merge: every open lot and any debt moves to the survivor, as paired `merge` entries."""
    now = utcnow()
    first, second = sorted([survivor.id, source_member.id])
    accounts = {
        first: ledger.lock_account(session, first, now=now),
        second: ledger.lock_account(session, second, now=now),
    }
    into, out = accounts[survivor.id], accounts[source_member.id]
    for lot in session.scalars(
        select(PointLot)
        .where(PointLot.member_id == out.member_id, PointLot.remaining > 0)
        .order_by(PointLot.id)
        .with_for_update()
    ):
        moved, lot.remaining = lot.remaining, 0
        session.add(
            LedgerEntry(
                member_id=out.member_id,
                kind="merge",
                points=-moved,
                created_at=now,
                source_type="merge",
                source_id=f"{into.member_id}:{lot.id}",
                note="merged away",
            )
        )
        ledger.credit(
            session,
            into,
            kind="merge",
            points=moved,
            source=Source("merge", f"{out.member_id}:{lot.id}"),
            now=now,
            available_at=lot.available_at,
            expires_at=lot.expires_at,
            note="merged in",
            earned=False,
        )
    if out.debt:
        session.add(
            LedgerEntry(
                member_id=out.member_id,
                kind="merge",
                points=out.debt,
                created_at=now,
                source_type="merge",
                source_id=f"{into.member_id}:debt",
                note="debt merged away",
            )
        )
        session.add(
            LedgerEntry(
                member_id=into.member_id,
                kind="merge",
                points=-out.debt,
                created_at=now,
                source_type="merge",
                source_id=f"{out.member_id}:debt",
                note="debt merged in",
            )
        )
        into.debt, out.debt = into.debt + out.debt, 0
    into.lifetime_earned += out.lifetime_earned
    into.orders_count += out.orders_count
    out.lifetime_earned = out.orders_count = 0
    session.flush()


def expiring_by_member(session: Session, *, now: datetime) -> dict[str, list[tuple[datetime, int]]]:
    rows = session.execute(
        select(PointLot.member_id, PointLot.expires_at, func.sum(PointLot.remaining))
        .where(PointLot.remaining > 0, PointLot.expires_at > now, PointLot.expires_at <= now + EXPIRING_WINDOW)
        .group_by(PointLot.member_id, PointLot.expires_at)
    )
    grouped: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for member_id, at, points in rows:
        assert at is not None  # the WHERE keeps only lots that expire
        grouped[member_id].append((at, int(points)))
    return grouped


def lock_members(session: Session, member_ids: list[str], *, now: datetime) -> None:
    """Take the per-member lock every balance change takes, for several members at once."""
    ledger.lock_accounts(session, member_ids, now=now)


def available_points_of(member_id_column):
    """A correlated expression for a member's available points at the bind parameter `now`
    (matured unexpired lots, less any debt; the stored balance where it holds), for lookups that
    must stay one statement."""
    now: BindParameter[datetime] = bindparam("now")
    return balances.available_of(member_id_column, now)


def available_points(session: Session, member_ids: list[str], *, now: datetime) -> dict[str, int]:
    """Available points of many members at once (for messages that mention them)."""
    if not member_ids:
        return {}
    from loyalty.core.db import among

    lots = dict(
        session.execute(
            select(PointLot.member_id, func.sum(PointLot.remaining))
            .where(
                among(session, PointLot.member_id, member_ids),
                PointLot.remaining > 0,
                PointLot.available_at <= now,
                or_(PointLot.expires_at.is_(None), PointLot.expires_at > now),
            )
            .group_by(PointLot.member_id)
        ).all()
    )
    debts = dict(
        session.execute(
            select(PointAccount.member_id, PointAccount.debt).where(among(session, PointAccount.member_id, member_ids))
        ).all()
    )
    return {m: int(lots.get(m) or 0) - int(debts.get(m) or 0) for m in member_ids}


def timeline_entries(session: Session, member_ids: list[str], before, limit: int) -> list[dict]:
    """Ledger entries as member timeline items (a timeline source, registered by loyalty.wiring)."""
    from loyalty.members.timeline import before_clause

    query = select(LedgerEntry).where(LedgerEntry.member_id.in_(member_ids))
    if before:
        query = query.where(before_clause(LedgerEntry.created_at, LedgerEntry.id, before, "led_", numeric=True))
    rows = session.scalars(query.order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()).limit(limit))
    return [
        {
            "at": e.created_at,
            "type": f"points.{e.kind}",
            "id": f"led_{e.id:012d}",
            "data": {"points": e.points, "source": {"type": e.source_type, "id": e.source_id}, "note": e.note},
        }
        for e in rows
    ]


def liability(session: Session, *, now: datetime) -> int:
    """Points the program owes: unexpired lots (pending included) less what members owe back."""
    lots = session.execute(
        select(func.coalesce(func.sum(PointLot.remaining), 0)).where(
            PointLot.remaining > 0, or_(PointLot.expires_at.is_(None), PointLot.expires_at > now)
        )
    ).scalar_one()
    debt = session.execute(select(func.coalesce(func.sum(PointAccount.debt), 0))).scalar_one()
    return int(lots) - int(debt)


def bonus_points_for(session: Session, source_type: str, source_ids: list[str]) -> int:
    """Bonus points granted for these sources (what a campaign's gifts cost)."""
    if not source_ids:
        return 0
    from loyalty.core.db import among

    return int(
        session.execute(
            select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
                LedgerEntry.kind == "bonus",
                LedgerEntry.source_type == source_type,
                among(session, LedgerEntry.source_id, source_ids),
            )
        ).scalar_one()
    )
