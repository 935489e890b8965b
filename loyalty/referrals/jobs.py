"""referrals.qualify: decide pending referrals as of a date and reward the qualified ones once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from loyalty.core.db import among, utcnow
from loyalty.core.jobs import JobContext, day_end
from loyalty.core.logging import get_logger
from loyalty.members.service import people
from loyalty.points.ledger import Source
from loyalty.points.service import grant_bonus, lock_members
from loyalty.program.service import settings
from loyalty.purchases.facts import first_orders
from loyalty.referrals import rules
from loyalty.referrals.models import Referral
from loyalty.referrals.service import person
from loyalty.webhooks.outbox import emit_many

BATCH = 2000
log = get_logger("loyalty.jobs.referrals")


def qualify_referrals(context: JobContext) -> dict[str, int]:
    with context.db.unit_of_work() as session:
        now = day_end(context.as_of, settings(session).timezone, utcnow())
    counts: dict[str, int] = {"looked_at": 0, "qualified": 0, "rejected": 0, "points": 0}
    after = ""
    while True:
        with context.db.unit_of_work() as session:
            batch = list(
                session.scalars(
                    select(Referral.id)
                    .where(Referral.status == "pending", Referral.id > after)
                    .order_by(Referral.id)
                    .limit(BATCH)
                )
            )
            if not batch:
                break
            for key, value in _decide(session, batch, now=now).items():
                counts[key] = counts.get(key, 0) + value
        counts["looked_at"] += len(batch)
        context.batch_done(len(batch))
        after = batch[-1]
    log.info("referrals_qualified", **counts)
    return counts


def _referrer_id(referral: Referral) -> str:
    # Only a referral with a referrer is ever pending: record_signup refuses the others at once.
    assert referral.referrer_id is not None
    return referral.referrer_id


def _verdicts(
    session: Session, referrals: list[Referral], *, now: datetime, counted: dict[str, tuple[int, int]] | None = None
) -> Iterator[tuple[Referral, rules.Verdict]]:
    program = settings(session)
    terms = program.referral
    minimum = Decimal(str(terms.get("min_order_amount") or 0))
    facts = first_orders(session, [r.referee_id for r in referrals], minimum=minimum)
    members = people(session, sorted({r.referee_id for r in referrals} | {_referrer_id(r) for r in referrals}))
    caps = rules.Caps(terms.get("monthly_cap"), terms.get("total_cap"))
    for referral in referrals:
        fact = facts.get(referral.referee_id) or {}
        first = rules.FirstOrder(**fact["qualifying"]) if fact.get("qualifying") else None
        referrer_id = _referrer_id(referral)
        monthly, ever = counted.get(referrer_id, (0, 0)) if counted is not None else (0, 0)
        verdict = rules.qualification(
            referrer=person(members[referrer_id]),
            referee=person(members[referral.referee_id]),
            referred_at=referral.created_at,
            first=first,
            ordered_before=bool(fact) and fact["first_placed_at"] < referral.created_at - rules.SIGNUP_GRACE,
            now=now,
            caps=caps,
            rewarded_this_month=monthly,
            rewarded_ever=ever,
        )
        if verdict.status == "qualified" and counted is not None:
            counted[referrer_id] = (monthly + 1, ever + 1)
        yield referral, verdict


def _decide(session: Session, batch: list[str], *, now: datetime) -> dict[str, int]:
    """Decide without locks; then lock the accounts of everyone concerned (member order, as every
    balance change does), read the referrals again and decide for real: two schedulers, or a
    second run, find them no longer pending and grant nothing more."""
    looked = list(session.scalars(select(Referral).where(among(session, Referral.id, batch))))
    deciding = [r for r, verdict in _verdicts(session, looked, now=now) if verdict.status != "pending"]
    if not deciding:
        return {}
    lock_members(session, sorted({_referrer_id(r) for r in deciding} | {r.referee_id for r in deciding}), now=now)
    fresh = list(
        session.scalars(
            select(Referral)
            .where(among(session, Referral.id, [r.id for r in deciding]), Referral.status == "pending")
            .order_by(Referral.id)
            .execution_options(populate_existing=True)
        )
    )
    counted = _rewarded_so_far(session, {_referrer_id(r) for r in fresh}, now=now)
    program = settings(session).referral
    counts = {"qualified": 0, "rejected": 0, "points": 0}
    events = []
    for referral, verdict in _verdicts(session, fresh, now=now, counted=counted):
        if verdict.status == "pending":
            continue
        referral.status, referral.reason, referral.order_id, referral.decided_at = (
            verdict.status,
            verdict.reason,
            verdict.order_id,
            now,
        )
        counts[verdict.status] += 1
        if verdict.status == "qualified":
            referral.referrer_points = _grant(
                session,
                _referrer_id(referral),
                program.get("referrer_points") or 0,
                referral.id,
                "referral reward: a friend's first purchase",
                now,
            )
            referral.referee_points = _grant(
                session,
                referral.referee_id,
                program.get("referee_points") or 0,
                referral.id,
                "welcome reward: signed up with a friend's code",
                now,
            )
            counts["points"] += referral.referrer_points + referral.referee_points
            events.append(
                {
                    "referral_id": referral.id,
                    "referrer_id": referral.referrer_id,
                    "referee_id": referral.referee_id,
                    "order_id": referral.order_id,
                    "referrer_points": referral.referrer_points,
                    "referee_points": referral.referee_points,
                }
            )
    session.flush()
    emit_many(session, "referral.qualified", events, at=now)
    return counts


def _grant(session: Session, member_id: str, points: int, referral_id: str, note: str, now: datetime) -> int:
    entry = grant_bonus(
        session,
        member_id=member_id,
        points=int(points),
        source=Source("referral", referral_id),
        note=note,
        now=now,
        actor="job:referrals.qualify",
    )
    return entry.points if entry is not None else 0


def _rewarded_so_far(session: Session, referrer_ids: set[str], *, now: datetime) -> dict[str, tuple[int, int]]:
    """(this month, ever) rewarded referrals per referrer, read under their account locks."""
    if not referrer_ids:
        return {}
    month_start = _month_start(now, settings(session).timezone)
    rows = session.execute(
        select(Referral.referrer_id, func.count(), func.count().filter(Referral.decided_at >= month_start))
        .where(among(session, Referral.referrer_id, sorted(referrer_ids)), Referral.status == "qualified")
        .group_by(Referral.referrer_id)
    )
    return {referrer: (int(month), int(ever)) for referrer, ever, month in rows if referrer is not None}


def _month_start(now: datetime, zone: str) -> datetime:
    local = now.astimezone(ZoneInfo(zone))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
