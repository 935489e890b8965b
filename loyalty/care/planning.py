"""care.plan: touches for the occasions coming up, each planned once (member, kind, occasion).

The job plans, as of a day D, every touch due on D or D+1 (member-local for birthdays and
anniversaries), so a day the job did not run is caught the next day and a touch is never planned
twice: the unique key turns a second insert into nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

import holidays as holiday_calendars
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from loyalty.care import rules
from loyalty.care.models import Touch
from loyalty.core.db import insert_for
from loyalty.core.ids import new_id
from loyalty.core.rowsets import rowset, rowset_values
from loyalty.members import queries
from loyalty.purchases.facts import first_orders_between, last_orders, order_rhythm

BATCH = 5000


def latest_orders(session: Session, member_ids: list[str]) -> dict[str, datetime]:
    """When each of these members last ordered (members without orders are absent)."""
    return last_orders(session, member_ids) if member_ids else {}


_TOUCHES = cast(Table, Touch.__table__)


def insert_touches(session: Session, rows: list[dict]) -> int:
    """Plan touches (rows made by `touch_row`); those already planned for the same (member, kind,
    occasion) are left alone. Returns how many were new."""
    if not rows:
        return 0
    insert, once = insert_for(session), ["member_id", "kind", "occasion"]
    if session.get_bind().dialect.name == "postgresql":
        # The rows as one JSON value (core/rowsets.py): as a multi-row VALUES of thousands of
        # parameters, the driver spent more time parsing the statement's text than the server
        # spent inserting (three quarters of a campaign's fan-out).
        names = list(rows[0])
        given = rowset(_TOUCHES, names)
        planned = insert(_TOUCHES).from_select(names, select(*[given.c[name] for name in names]))
        new = planned.on_conflict_do_nothing(index_elements=once).returning(_TOUCHES.c.id)
        return len(session.execute(new, rowset_values(names, rows)).all())
    statement = insert(Touch).on_conflict_do_nothing(index_elements=once)
    return len(session.execute(statement.returning(Touch.id), rows).all())


def touch_row(
    member_id: str,
    kind: str,
    occasion: str,
    channel: str,
    due_at: datetime,
    now: datetime,
    source: str | None = None,
    campaign_id: str | None = None,
    held_out: bool = False,
) -> dict:
    return {
        "id": new_id("tch"),
        "member_id": member_id,
        "kind": kind,
        "occasion": occasion,
        "channel": channel,
        "due_at": due_at,
        "status": "planned",
        "attempts": 0,
        "created_at": now,
        "source": source,
        "campaign_id": campaign_id,
        "held_out": held_out,
    }


def birthdays(session: Session, *, day: date, rule: dict, care: dict, program_zone: str, now: datetime) -> int:
    """Birthday touches due (member-local) on `day` or the next, `days_before` the birthday."""
    lead = timedelta(days=rule["days_before"])
    targets = {day + lead + timedelta(days=shift) for shift in (-1, 0, 1, 2)}
    keys = {f"{d:%m-%d}" for d in targets} | ({"02-29"} if any((d.month, d.day) == (2, 28) for d in targets) else set())
    rows = queries.birthdays_on(session, keys)
    planned = []
    for member_id, birthday, zone in rows:
        zone = zone or program_zone
        for year in {day.year, day.year + 1}:
            due_day = rules.birthday_in(year, birthday) - lead
            if due_day in (day, day + timedelta(days=1)):
                planned.append(
                    touch_row(
                        member_id,
                        "birthday",
                        str(year),
                        rule["channel"],
                        rules.local_moment(due_day, care["send_at"], zone),
                        now,
                        source=rules.birthday_in(year, birthday).isoformat(),
                    )
                )
    return insert_touches(session, planned)


def anniversaries(session: Session, *, day: date, rule: dict, care: dict, program_zone: str, now: datetime) -> int:
    """Touches on the anniversary of enrolment (in the program's time zone), from the first year."""
    lead = timedelta(days=rule["days_before"])
    targets = {day + lead + timedelta(days=shift) for shift in (-1, 0, 1, 2)}
    keys = {f"{d:%m-%d}" for d in targets} | ({"02-29"} if any((d.month, d.day) == (2, 28) for d in targets) else set())
    rows = queries.enrolled_on(session, keys)
    planned = []
    zone = ZoneInfo(program_zone)
    for member_id, enrolled_at in rows:
        enrolled = enrolled_at.astimezone(zone).date()
        for year in {day.year, day.year + 1}:
            due_day = rules.birthday_in(year, enrolled) - lead
            if year > enrolled.year and due_day in (day, day + timedelta(days=1)):
                planned.append(
                    touch_row(
                        member_id,
                        "anniversary",
                        str(year - enrolled.year),
                        rule["channel"],
                        rules.local_moment(due_day, care["send_at"], program_zone),
                        now,
                        source=rules.birthday_in(year, enrolled).isoformat(),
                    )
                )
    return insert_touches(session, planned)


def holidays_ahead(day: date, *, country: str, custom: Iterable[dict], lead: int) -> list[tuple[date, str]]:
    """(first day, name) of the public holidays and custom dates whose touch is due on `day` or the
    next. Several days of one holiday (National Day week) are one occasion, on its first day."""
    found: dict[str, date] = {}
    years = [day.year, day.year + 1]
    calendar: Mapping[date, str]
    try:
        calendar = holiday_calendars.country_holidays(country, years=years)
    except NotImplementedError:
        calendar = {}
    for when, name in sorted(calendar.items()):
        key = f"{when.year}:{name}"
        found.setdefault(key, when)
    for entry in custom:
        text = entry["date"]
        for year in years:
            try:
                when = date.fromisoformat(text) if len(text) == 10 else date(year, int(text[:2]), int(text[3:]))
            except ValueError:  # 02-29 in a common year
                when = date(year, 2, 28)
            found.setdefault(f"{when.year}:{entry.get('name') or text}", when)
    due = {day, day + timedelta(days=1)}
    return sorted((when, key.split(":", 1)[1]) for key, when in found.items() if when - timedelta(days=lead) in due)


def holidays(
    session: Session, *, day: date, rule: dict, care: dict, country: str, program_zone: str, now: datetime
) -> int:
    """A touch for every live member per holiday, in keyset batches of members."""
    planned = 0
    for when, name in holidays_ahead(day, country=country, custom=rule["custom_dates"] or [], lead=rule["days_before"]):
        due_at = rules.local_moment(when - timedelta(days=rule["days_before"]), care["send_at"], program_zone)
        occasion = f"{when.isoformat()}:{name}"[:120]
        after = ""
        while True:
            ids = queries.live_page(session, after=after, limit=BATCH)
            if not ids:
                break
            planned += insert_touches(
                session, [touch_row(m, "holiday", occasion, rule["channel"], due_at, now) for m in ids]
            )
            after = ids[-1]
    return planned


def follow_ups(session: Session, *, day: date, rule: dict, care: dict, program_zone: str, now: datetime) -> int:
    """A call `days_after` a member's first order (orders placed that day or the day before)."""
    zone = ZoneInfo(program_zone)
    placed_day = day - timedelta(days=rule["days_after"])
    start = datetime.combine(placed_day - timedelta(days=1), datetime.min.time(), tzinfo=zone)
    end = datetime.combine(placed_day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    rows = first_orders_between(session, start=start, end=end)
    # One follow-up per member ("first_order"): two orders at the same first instant make one call.
    planned = [
        touch_row(
            member_id,
            "follow_up",
            "first_order",
            rule["channel"],
            rules.local_moment(
                placed_at.astimezone(zone).date() + timedelta(days=rule["days_after"]), care["send_at"], program_zone
            ),
            now,
            source=f"order:{order_id}",
        )
        for member_id, order_id, placed_at in rows
    ]
    live = queries.live_among(session, [row["member_id"] for row in planned])
    return insert_touches(session, [row for row in planned if row["member_id"] in live])


def win_backs(session: Session, *, day: date, rule: dict, care: dict, program_zone: str, now: datetime) -> int:
    """Members who drifted away: one touch per lapse (a new order and a new lapse make a new one)."""
    as_of = rules.local_moment(day, care["send_at"], program_zone)
    planned, after = 0, ""
    while True:
        rows = order_rhythm(session, after=after, limit=BATCH)
        if not rows:
            break
        lapsed = [
            (member_id, last)
            for member_id, first, last, count in rows
            if rules.lapsed(first=first, last=last, orders=count, now=as_of, inactive_days=rule["inactive_days"])
        ]
        live = queries.live_among(session, [m for m, _ in lapsed])
        # The source keeps the last order seen, so dispatch can tell a member who ordered since.
        planned += insert_touches(
            session,
            [
                touch_row(
                    m,
                    "win_back",
                    f"lapsed:{last.date().isoformat()}",
                    rule["channel"],
                    as_of,
                    now,
                    source=f"{rules.LAST_ORDER}{last.isoformat()}",
                )
                for m, last in lapsed
                if m in live
            ],
        )
        after = rows[-1][0]
    return planned
