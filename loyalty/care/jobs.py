"""care.plan (daily, as of a date) and care.dispatch (every few minutes)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypedDict

from loyalty.care import planning
from loyalty.care.dispatch import dispatch_batch
from loyalty.care.rule_settings import all_rules
from loyalty.core.db import utcnow
from loyalty.core.jobs import JobContext
from loyalty.core.logging import get_logger
from loyalty.program.service import settings

log = get_logger("loyalty.jobs.care")


class _PlanningTerms(TypedDict):
    """What every kind's planning step is given alike."""

    day: date
    care: dict[str, Any]
    program_zone: str
    now: datetime


def plan_care(context: JobContext) -> dict[str, int]:
    """Plan every enabled kind's touches due on the date (or the next day); each kind in its own
    transaction, so one failing kind doesn't hold the others back."""
    counts: dict[str, int] = {}
    now = utcnow()
    with context.db.unit_of_work() as session:
        program, every_rule = settings(session), all_rules(session)
    common = _PlanningTerms(day=context.as_of, care=program.care, program_zone=program.timezone, now=now)
    steps = {
        "birthday": lambda s, r: planning.birthdays(s, rule=r, **common),
        "anniversary": lambda s, r: planning.anniversaries(s, rule=r, **common),
        "holiday": lambda s, r: planning.holidays(s, rule=r, country=program.holiday_country, **common),
        "follow_up": lambda s, r: planning.follow_ups(s, rule=r, **common),
        "win_back": lambda s, r: planning.win_backs(s, rule=r, **common),
    }
    for kind, step in steps.items():
        rule = every_rule[kind]
        if not rule["enabled"]:
            continue
        try:
            with context.db.unit_of_work() as session:
                counts[kind] = step(session, rule)
        except Exception:  # logged; the other kinds still run, and tomorrow's run catches up
            log.exception("care_plan_failed", kind=kind)
            counts[f"{kind}_failed"] = 1
    log.info("care_planned", **counts)
    return counts


def dispatch_care(context: JobContext) -> dict[str, int]:
    counts: dict[str, int] = {}
    while True:
        with context.db.unit_of_work() as session:
            batch = dispatch_batch(session, now=utcnow())
        if not batch:
            break
        for key, value in batch.items():
            counts[key] = counts.get(key, 0) + value
        context.batch_done(batch.get("looked_at", 0))
        # A deferred touch moved to its member's morning, so it has left what is due: a batch that
        # deferred everything (night in the zones that came first) is no reason to stop before the
        # members for whom it is day. Only a batch whose members were all being sent to by another
        # dispatcher ends the run: those touches are still due and would be claimed again at once.
        if batch.get("looked_at", 0) == 0:
            break
    log.info("care_dispatched", **counts)
    return counts
