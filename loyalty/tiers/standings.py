"""A member's standing in the tiers, read and written: the qualifying value over 12 months, the
standings rows, and a decided Change applied (standings, tier held, history, `tier.changed`).

Grading (tiers/grading.py) and staff floors (tiers/member_tier.py) load through here, decide with
tiers/rules.py, and write through `apply`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from loyalty.core.dates import add_months
from loyalty.core.db import among
from loyalty.members.service import set_tiers
from loyalty.program.service import settings
from loyalty.purchases.facts import qualifying_values as values_over
from loyalty.tiers import rules
from loyalty.tiers.models import TierChange, TierStanding
from loyalty.tiers.rules import Standing
from loyalty.webhooks.outbox import emit_many


def qualifying_window(session: Session, *, end: datetime) -> tuple[str, datetime]:
    """The program's tier metric and the start of the 12 months up to `end` it is counted over."""
    return settings(session).tier_metric, add_months(end, -rules.QUALIFYING_MONTHS)


def qualifying_values(session: Session, member_ids: list[str], *, end: datetime) -> dict[str, Decimal]:
    """The tier metric per member over the 12 months up to `end` (members without orders: 0)."""
    metric, start = qualifying_window(session, end=end)
    found = values_over(session, member_ids, start=start, end=end, metric=metric)
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
    reason: str


_STANDINGS = select(
    TierStanding.member_id,
    TierStanding.earned_code,
    TierStanding.kept_until,
    TierStanding.floor_code,
    TierStanding.floor_until,
)


def standings(session: Session, member_ids: list[str]) -> dict[str, Standing]:
    if not member_ids:
        return {}
    rows = session.execute(_STANDINGS.where(among(session, TierStanding.member_id, member_ids)))
    return {
        member_id: Standing(earned, kept_until, floor, floor_until)
        for member_id, earned, kept_until, floor, floor_until in rows
    }


def apply(
    session: Session,
    changes: list[Change],
    *,
    now: datetime,
    actor: str,
    source: str | None = None,
    note: str | None = None,
) -> None:
    """Write standings, the tiers held, the history and `tier.changed` events, a statement per
    kind of change rather than per member."""
    new_rows = [c for c in changes if not c.had_row]
    if new_rows:
        session.execute(
            insert(TierStanding),
            [
                {
                    "member_id": c.member_id,
                    "earned_code": c.after.earned,
                    "since": now,
                    "kept_until": c.after.kept_until,
                    "floor_code": c.after.floor,
                    "floor_until": c.after.floor_until,
                }
                for c in new_rows
            ],
        )
    groups: dict[tuple, list[str]] = {}
    for c in changes:
        if c.had_row:
            values = {
                "earned_code": c.after.earned,
                "kept_until": c.after.kept_until,
                "floor_code": c.after.floor,
                "floor_until": c.after.floor_until,
            }
            if c.after.floor is None:
                values["floor_reason"] = None
            if c.held_after != c.held_before:
                values["since"] = now
            groups.setdefault(tuple(sorted(values.items())), []).append(c.member_id)
    for pairs, member_ids in groups.items():
        session.execute(
            update(TierStanding)
            .where(among(session, TierStanding.member_id, member_ids))
            .values(dict(pairs))
            .execution_options(synchronize_session=False)
        )
    moved = [c for c in changes if c.held_after != c.held_before]
    if not moved:
        return
    set_tiers(session, {c.member_id: c.held_after for c in moved})
    session.execute(
        insert(TierChange),
        [
            {
                "member_id": c.member_id,
                "from_code": c.held_before,
                "to_code": c.held_after,
                "reason": c.reason,
                "note": note,
                "source": source,
                "at": now,
                "actor": actor,
            }
            for c in moved
        ],
    )
    emit_many(
        session,
        "tier.changed",
        [
            {
                "member_id": c.member_id,
                "from": c.held_before,
                "to": c.held_after,
                "reason": c.reason,
                "since": now,
                "kept_until": _kept_until(c.after, c.held_after),
            }
            for c in moved
        ],
        at=now,
    )


def _kept_until(standing: Standing, held: str) -> datetime | None:
    return standing.floor_until if standing.floor == held and standing.earned != held else standing.kept_until
