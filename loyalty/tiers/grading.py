"""Grading members: upgrade on a qualifying order, the nightly review, staff floors.

The qualifying value comes from the orders feature, which sits above tiers; `loyalty.wiring`
hands its function in through `use_qualifying_values` so no import runs upwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Callable

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from loyalty.core.db import among, utcnow
from loyalty.members.service import held_tiers, set_tiers
from loyalty.members.timeline import before_clause
from loyalty.program.service import settings
from loyalty.tiers import rules
from loyalty.tiers.models import TierChange, TierStanding
from loyalty.tiers.rules import Rung, Standing
from loyalty.tiers.service import ladder
from loyalty.webhooks.outbox import emit_many

ValuesSource = Callable[..., dict[str, Decimal]]
_source: list[ValuesSource] = []


def use_qualifying_values(source: ValuesSource) -> None:
    _source[:] = [source]


def qualifying_values(session: Session, member_ids: list[str], *, end: datetime) -> dict[str, Decimal]:
    """The tier metric per member over the 12 months up to `end` (members without orders: 0)."""
    metric = settings(session).tier_metric
    found = _source[0](session, member_ids, start=rules.add_months(end, -rules.QUALIFYING_MONTHS), end=end,
                       metric=metric) if _source else {}
    return {member_id: metric_value(metric, found.get(member_id, Decimal(0))) for member_id in member_ids}


def metric_value(metric: str, value: Decimal) -> Decimal:
    """Money to the cent for spend; whole numbers for points and orders."""
    return Decimal(value).quantize(Decimal("0.01") if metric == "spend_12m" else Decimal(1))


@dataclass(frozen=True)
class Change:
    """A decided change of one member's standing, and of the tier they hold if it differs."""

    member_id: str
    held_before: str | None
    had_row: bool
    before: Standing
    after: Standing
    held_after: str
    reason: str | None


_STANDINGS = select(TierStanding.member_id, TierStanding.earned_code, TierStanding.kept_until,
                    TierStanding.floor_code, TierStanding.floor_until)


def standings(session: Session, member_ids: list[str]) -> dict[str, Standing]:
    rows = session.execute(_STANDINGS.where(among(session, TierStanding.member_id, member_ids))) if member_ids else []
    return {member_id: Standing(earned, kept_until, floor, floor_until)
            for member_id, earned, kept_until, floor, floor_until in rows}


def decide(steps: list[Rung], member_id: str, held: str | None, row: Standing | None, value: Decimal, *,
           now: datetime, reviewing: bool, retention_end: datetime | None = None) -> Change | None:
    """What an order (reviewing=False) or the nightly review does to one member; None: nothing."""
    before = row or Standing(rules.rung_of(steps, held).code)
    judge = rules.review if reviewing else rules.upgrade
    retention_end = retention_end or rules.add_months(now, rules.RETENTION_MONTHS)
    verdict = judge(steps, before, value, now=now, retention_end=retention_end)
    held_after = rules.effective(steps, verdict.standing, now=now).code
    if verdict.standing == before and held_after == held:
        return None
    reason = verdict.reason
    if reason is None and before.floor and not verdict.standing.floor:
        reason = "floor_ended"
    elif reason is None:
        reason = "renewed" if held_after == held else "ladder"  # kept another period / a code off the ladder
    return Change(member_id, held, row is not None, before, verdict.standing, held_after, reason)


def apply(session: Session, changes: list[Change], *, now: datetime, actor: str, source: str | None = None,
          note: str | None = None) -> None:
    """Write standings, the tiers held, the history and `tier.changed` events, a statement per
    kind of change rather than per member."""
    new_rows = [c for c in changes if not c.had_row]
    if new_rows:
        session.execute(insert(TierStanding), [
            {"member_id": c.member_id, "earned_code": c.after.earned, "since": now, "kept_until": c.after.kept_until,
             "floor_code": c.after.floor, "floor_until": c.after.floor_until} for c in new_rows])
    groups: dict[tuple, list[str]] = {}
    for c in changes:
        if c.had_row:
            values = {"earned_code": c.after.earned, "kept_until": c.after.kept_until, "floor_code": c.after.floor,
                      "floor_until": c.after.floor_until}
            if c.after.floor is None:
                values["floor_reason"] = None
            if c.held_after != c.held_before:
                values["since"] = now
            groups.setdefault(tuple(sorted(values.items())), []).append(c.member_id)
    for values, member_ids in groups.items():
        session.execute(update(TierStanding).where(among(session, TierStanding.member_id, member_ids))
                        .values(dict(values))
                        .execution_options(synchronize_session=False))
    moved = [c for c in changes if c.held_after != c.held_before]
    if not moved:
        return
    set_tiers(session, {c.member_id: c.held_after for c in moved})
    session.execute(insert(TierChange), [
        {"member_id": c.member_id, "from_code": c.held_before, "to_code": c.held_after, "reason": c.reason,
         "note": note, "source": source, "at": now, "actor": actor} for c in moved])
    emit_many(session, "tier.changed", [
        {"member_id": c.member_id, "from": c.held_before, "to": c.held_after, "reason": c.reason, "since": now,
         "kept_until": _kept_until(c.after, c.held_after)} for c in moved], at=now)


def _kept_until(standing: Standing, held: str) -> datetime | None:
    return standing.floor_until if standing.floor == held and standing.earned != held else standing.kept_until


def grade_after_order(session: Session, *, member_id: str, held: str | None, now: datetime, order_id: str,
                      actor: str | None) -> str | None:
    """Upgrade at once, inside the order's transaction (the caller holds the member's account lock,
    so two orders of one member grade one after the other). Returns the tier held afterwards."""
    steps = ladder(session)
    if not steps:
        return held
    value = qualifying_values(session, [member_id], end=now)[member_id]
    if rules.is_lowest(steps, rules.qualified_rung(steps, value)):
        return held  # the common case: nothing reached, no further read
    # Read again, locking the member row (after the account lock, the order checkout takes them in):
    # the tier seen before may have been changed since by a concurrent order or the nightly review.
    held = held_tiers(session, [member_id], lock=True).get(member_id, held)
    change = decide(steps, member_id, held, standings(session, [member_id]).get(member_id), value, now=now,
                    reviewing=False)
    if change is None:
        return held
    apply(session, [change], now=now, actor=actor or "order", source=f"order:{order_id}")
    return change.held_after


def review_batch(session: Session, members: list[tuple[str, str | None]], *, now: datetime,
                 actor: str = "job:tiers.evaluate") -> dict[str, int]:
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
    retention_end = rules.add_months(now, rules.RETENTION_MONTHS)
    ids = sorted(held)
    rows, values = standings(session, ids), qualifying_values(session, ids, end=now)
    changes = []
    for member_id in ids:
        row, value = rows.get(member_id), values[member_id]
        if rules.may_change(ix, held[member_id], row, value, now=now):
            change = decide(steps, member_id, held[member_id], row, value, now=now, reviewing=True,
                            retention_end=retention_end)
            if change is not None:
                changes.append(change)
    apply(session, changes, now=now, actor=actor)
    counts: dict[str, int] = {}
    for c in changes:
        counts[c.reason] = counts.get(c.reason, 0) + 1
    return counts


def _not_newer_than(session: Session, member_ids: list[str], now: datetime) -> list[str]:
    """A review as of a past date leaves alone members whose tier was reached after that date:
    their standing is newer than the moment being reviewed."""
    newer = set(session.scalars(select(TierStanding.member_id).where(
        among(session, TierStanding.member_id, member_ids), TierStanding.since > now)))
    return [member_id for member_id in member_ids if member_id not in newer]


def _candidates(session: Session, ix: rules.LadderIndex, members: list[tuple[str, str | None]], *,
                now: datetime) -> list[str]:
    ids = [member_id for member_id, _ in members]
    rows, values = standings(session, ids), qualifying_values(session, ids, end=now)
    return [member_id for member_id, held in members
            if rules.may_change(ix, held, rows.get(member_id), values[member_id], now=now)]


def merge_tiers(session: Session, survivor, tombstone) -> None:
    """On merge (after the orders moved): the history follows the survivor, who keeps the better
    earned tier and floor of the two, then is graded up on the orders now counted together."""
    now = utcnow()
    session.execute(update(TierChange).where(TierChange.member_id == tombstone.id)
                    .values(member_id=survivor.id).execution_options(synchronize_session=False))
    steps = ladder(session)
    if not steps:
        return
    rows = standings(session, [survivor.id, tombstone.id])
    mine = rows.get(survivor.id) or Standing(rules.rung_of(steps, survivor.tier_code).code)
    theirs = rows.get(tombstone.id) or Standing(rules.rung_of(steps, tombstone.tier_code).code)
    rank = lambda code: rules.rung_of(steps, code).rank  # noqa: E731
    earned = theirs if rank(theirs.earned) > rank(mine.earned) else mine
    floors = [s for s in (mine, theirs) if s.floor and (s.floor_until is None or s.floor_until > now)]
    floor = max(floors, key=lambda s: rank(s.floor)) if floors else Standing(earned.earned)
    session.execute(delete(TierStanding).where(TierStanding.member_id == tombstone.id))
    joined = Standing(earned.earned, earned.kept_until, floor.floor, floor.floor_until)
    value = qualifying_values(session, [survivor.id], end=now)[survivor.id]
    verdict = rules.upgrade(steps, joined, value, now=now,
                            retention_end=rules.add_months(now, rules.RETENTION_MONTHS))
    held_after = rules.effective(steps, verdict.standing, now=now).code
    if verdict.standing != mine or held_after != survivor.tier_code:
        apply(session, [Change(survivor.id, survivor.tier_code, survivor.id in rows, mine, verdict.standing,
                               held_after, verdict.reason or "merged")], now=now,
              actor=session.info.get("actor") or "merge")


def timeline_changes(session: Session, member_ids: list[str], before, limit: int) -> list[dict]:
    """Tier changes as member timeline items (a timeline source, registered by loyalty.wiring)."""
    query = select(TierChange).where(TierChange.member_id.in_(member_ids))
    if before:
        query = query.where(before_clause(TierChange.at, TierChange.id, before, "tcg_", numeric=True))
    rows = session.scalars(query.order_by(TierChange.at.desc(), TierChange.id.desc()).limit(limit))
    return [{"at": r.at, "type": "tier.changed", "id": f"tcg_{r.id:012d}",
             "data": {"from": r.from_code, "to": r.to_code, "reason": r.reason, "source": r.source}} for r in rows]
