"""Grading members: upgrade on a qualifying order, the nightly review, and the standing a merge
leaves. Each loads (tiers/standings.py), decides (`decide` and tiers/rules.py, pure), then applies
what was decided (`standings.apply`); staff floors are tiers/member_tier.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from loyalty.core.dates import add_months
from loyalty.core.db import among, utcnow
from loyalty.members.service import held_tiers
from loyalty.tiers import rules
from loyalty.tiers.models import TierChange, TierStanding
from loyalty.tiers.rules import Rung, Standing
from loyalty.tiers.service import ladder
from loyalty.tiers.standings import Change, apply, qualifying_values, standings


def decide(
    steps: list[Rung],
    member_id: str,
    held: str | None,
    row: Standing | None,
    value: Decimal,
    *,
    now: datetime,
    reviewing: bool,
    retention_end: datetime | None = None,
) -> Change | None:
    """What an order (reviewing=False) or the nightly review does to one member; None: nothing."""
    before = row or Standing(rules.rung_of(steps, held).code)
    judge = rules.review if reviewing else rules.upgrade
    retention_end = retention_end or add_months(now, rules.RETENTION_MONTHS)
    verdict = judge(steps, before, value, now=now, retention_end=retention_end)
    held_after = rules.effective(steps, verdict.standing, now=now).code
    if verdict.standing == before and held_after == held:
        return None
    reason = verdict.reason
    if reason is None:
        if before.floor and not verdict.standing.floor:
            reason = "floor_ended"
        else:
            reason = "renewed" if held_after == held else "ladder"  # kept another period / a code off the ladder
    return Change(member_id, held, row is not None, before, verdict.standing, held_after, reason)


def grade_after_order(
    session: Session,
    *,
    member_id: str,
    held: str | None,
    now: datetime,
    order_id: str,
    actor: str | None,
    value: Decimal | None = None,
) -> tuple[str | None, bool]:
    """Upgrade at once, inside the order's transaction (the caller holds the member's account lock,
    so two orders of one member grade one after the other). Returns the tier held afterwards, and
    whether the tier held changed (and `tier.changed` was written). `value`: the qualifying value up
    to `now`, when the caller read it after taking the lock."""
    steps = ladder(session)
    if not steps:
        return held, False
    if value is None:
        value = qualifying_values(session, [member_id], end=now)[member_id]
    if rules.is_lowest(steps, rules.qualified_rung(steps, value)):
        return held, False  # the common case: nothing reached, no further read
    # Read again, locking the member row (after the account lock, the order checkout takes them in):
    # the tier seen before may have been changed since by a concurrent order or the nightly review.
    held = held_tiers(session, [member_id], lock=True).get(member_id, held)
    change = decide(
        steps, member_id, held, standings(session, [member_id]).get(member_id), value, now=now, reviewing=False
    )
    if change is None:
        return held, False
    apply(session, [change], now=now, actor=actor or "order", source=f"order:{order_id}")
    return change.held_after, change.held_after != change.held_before


def review_batch(
    session: Session, members: list[tuple[str, str | None]], *, now: datetime, actor: str = "job:tiers.evaluate"
) -> dict[str, int]:
    """Review a keyset batch of (member id, tier held) as of `now`. A cheap check without locks
    finds the few members the review could change; only those are locked (their member rows, in
    id order, as checkout locks them), read again and decided, so an order committed meanwhile is
    never overwritten."""
    steps = ladder(session, fresh=True)
    if not steps or not members:
        return {}
    ix = rules.index(steps)
    candidates = _candidates(session, ix, members, now=now)
    if candidates and now < utcnow() - timedelta(minutes=5):
        candidates = _not_newer_than(session, candidates, now)
    if not candidates:
        return {}
    held = held_tiers(session, candidates, lock=True)
    ids = sorted(held)
    changes = decide_review(steps, ix, held, standings(session, ids), qualifying_values(session, ids, end=now), now=now)
    apply(session, changes, now=now, actor=actor)
    counts: dict[str, int] = {}
    for c in changes:
        counts[c.reason] = counts.get(c.reason, 0) + 1
    return counts


def decide_review(
    steps: list[Rung],
    ix: rules.LadderIndex,
    held: dict[str, str | None],
    rows: dict[str, Standing],
    values: dict[str, Decimal],
    *,
    now: datetime,
) -> list[Change]:
    """The nightly review's changes for these (locked, freshly read) members, in member id order."""
    retention_end = add_months(now, rules.RETENTION_MONTHS)
    changes = []
    for member_id in sorted(held):
        row, value = rows.get(member_id), values[member_id]
        if rules.may_change(ix, held[member_id], row, value, now=now):
            change = decide(
                steps, member_id, held[member_id], row, value, now=now, reviewing=True, retention_end=retention_end
            )
            if change is not None:
                changes.append(change)
    return changes


def _not_newer_than(session: Session, member_ids: list[str], now: datetime) -> list[str]:
    """A review as of a past date leaves alone members whose tier was reached after that date:
    their standing is newer than the moment being reviewed."""
    newer = set(
        session.scalars(
            select(TierStanding.member_id).where(
                among(session, TierStanding.member_id, member_ids), TierStanding.since > now
            )
        )
    )
    return [member_id for member_id in member_ids if member_id not in newer]


def _candidates(
    session: Session, ix: rules.LadderIndex, members: list[tuple[str, str | None]], *, now: datetime
) -> list[str]:
    ids = [member_id for member_id, _ in members]
    rows, values = standings(session, ids), qualifying_values(session, ids, end=now)
    return [
        member_id
        for member_id, held in members
        if rules.may_change(ix, held, rows.get(member_id), values[member_id], now=now)
    ]


def merge_tiers(session: Session, survivor, tombstone) -> None:
    """On merge (after the orders moved): the history follows the survivor, who keeps the better
    earned tier and floor of the two (rules.merged), then is graded up on the orders now counted
    together."""
    now = utcnow()
    session.execute(
        update(TierChange)
        .where(TierChange.member_id == tombstone.id)
        .values(member_id=survivor.id)
        .execution_options(synchronize_session=False)
    )
    steps = ladder(session)
    if not steps:
        return
    rows = standings(session, [survivor.id, tombstone.id])
    session.execute(delete(TierStanding).where(TierStanding.member_id == tombstone.id))
    value = qualifying_values(session, [survivor.id], end=now)[survivor.id]
    change = decide_merge(
        steps,
        survivor.id,
        survivor.tier_code,
        rows.get(survivor.id),
        rows.get(tombstone.id) or Standing(rules.rung_of(steps, tombstone.tier_code).code),
        value,
        now=now,
    )
    if change is not None:
        apply(session, [change], now=now, actor=session.info.get("actor") or "merge")


def decide_merge(
    steps: list[Rung],
    member_id: str,
    held: str | None,
    row: Standing | None,
    theirs: Standing,
    value: Decimal,
    *,
    now: datetime,
) -> Change | None:
    """The survivor's change on a merge: the joined standing, graded up on `value`; None: nothing."""
    mine = row or Standing(rules.rung_of(steps, held).code)
    verdict = rules.upgrade(
        steps,
        rules.merged(steps, mine, theirs, now=now),
        value,
        now=now,
        retention_end=add_months(now, rules.RETENTION_MONTHS),
    )
    held_after = rules.effective(steps, verdict.standing, now=now).code
    if verdict.standing == mine and held_after == held:
        return None
    return Change(member_id, held, row is not None, mine, verdict.standing, held_after, verdict.reason or "merged")
