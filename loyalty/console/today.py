"""Today (/console): the calls due, the complaints still open, this week's birthdays and the members
who started drifting away since yesterday — each a link to the member.

Each list shows its first few on Today and pages in full at /console/today/<list>.
"""

from __future__ import annotations

from calendar import isleap
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as L

from loyalty.care import callbacks
from loyalty.care.service import claim_callback as claim
from loyalty.care.service import unresolved_complaints
from loyalty.console.blueprint import bp
from loyalty.console.web import console_path, limit_arg, page
from loyalty.core.db import utcnow
from loyalty.core.pagination import decode_cursor, encode_cursor
from loyalty.core.web import request_session
from loyalty.insights.service import turned
from loyalty.members.queries import birthdays_within
from loyalty.program.service import settings
from loyalty.tiers.service import get_ladder

ON_TODAY = 8  # rows of each list on Today itself; the rest is a "more" link away
LISTS = ("callbacks", "complaints", "birthdays", "stages")
WEEK = 7
HEADINGS = {
    "callbacks": L("Calls due"),
    "complaints": L("Open complaints"),
    "birthdays": L("Birthdays this week"),
    "stages": L("Drifting away since yesterday"),
}
NOTES = {
    "callbacks": L("Due now or overdue, yours and unassigned; claim one before you dial."),
    "complaints": L("Oldest first; each was promised an answer within 24 hours."),
    "birthdays": L("From today to six days ahead."),
    "stages": L(
        "Turned at risk or lapsed in the last 24 hours, by their own rhythm of orders since the last insights refresh."
    ),
}


def mine() -> tuple[str, ...]:
    """What a callback's assignee holds when it is the signed-in person's: the key's label (what
    claiming writes, as the API writes `staff`) or the key's name (what a colleague may have typed)."""
    actor = g.console_actor
    return tuple(value for value in (actor.label, actor.name) if value)


def _ago(delta: timedelta) -> str:
    """A duration in the reader's language, to the minute, in hours up to two days (a complaint
    30 hours old is "30 hours", not "1 day")."""
    return format_timedelta(max(delta, timedelta(minutes=1)), granularity="minute", threshold=2)


def due_callbacks(session, *, limit: int, cursor: str | None, now: datetime) -> dict:
    found = callbacks.queue(session, limit=limit, cursor=cursor, due_before=now, mine_or_unassigned=mine())
    for item in found["data"]:
        item["overdue_for"] = _ago(now - item["due_at"])
        item["mine"] = item["assignee"] in mine()
        # `about` is the queue's English line; the page says the kind in the reader's language and
        # quotes only the complaint itself.
        about = item["about"] or ""
        item["complaint"] = about[len("complaint: ") :] if about.startswith("complaint: ") else None
    return found


def complaints(session, *, limit: int, cursor: str | None, now: datetime) -> dict:
    found = unresolved_complaints(session, limit=limit, cursor=cursor)
    for item in found["data"]:
        item["age"] = _ago(now - item["created_at"])
        item["late"] = item["promised_by"] <= now
        item["promise"] = _ago(abs(item["promised_by"] - now))
    return found


def week_days(today: date) -> list[set[str]]:
    """The "MM-DD" birthdays celebrated on each day of the week from today; 29 February birthdays
    are celebrated on the 28th in common years, as the care plan does (care/rules.py birthday_in)."""
    days = []
    for offset in range(WEEK):
        day = today + timedelta(days=offset)
        month_days = {day.strftime("%m-%d")}
        if (day.month, day.day) == (2, 28) and not isleap(day.year):
            month_days.add("02-29")
        days.append(month_days)
    return days


def birthdays(session, *, limit: int, cursor: str | None, today: date) -> dict:
    after = decode_cursor(cursor, 2, (int, str))
    rows = birthdays_within(session, week_days(today), limit=limit + 1, after=tuple(after) if after else None)
    items = [
        {
            "day": today + timedelta(days=index),
            "member_id": member_id,
            "name": name,
            "tier_code": tier,
            "turns": (today + timedelta(days=index)).year - born.year,
            "today": index == 0,
            "index": index,
        }
        for index, member_id, name, born, _zone, tier in rows
    ]
    more = len(items) > limit
    items = items[:limit]
    return {
        "data": items,
        "next_cursor": encode_cursor([items[-1]["index"], items[-1]["member_id"]]) if more and items else None,
    }


def stages(session, *, limit: int, cursor: str | None, now: datetime) -> dict:
    after = decode_cursor(cursor, 2, (str, str))
    rows = turned(
        session, since=now - timedelta(days=1), until=now, limit=limit + 1, after=tuple(after) if after else None
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "data": rows,
        "next_cursor": encode_cursor([rows[-1]["stage"], rows[-1]["member_id"]]) if more and rows else None,
    }


def _load(name: str, *, limit: int, cursor: str | None) -> dict:
    session = request_session()
    now = utcnow()
    if name == "callbacks":
        return due_callbacks(session, limit=limit, cursor=cursor, now=now)
    if name == "complaints":
        return complaints(session, limit=limit, cursor=cursor, now=now)
    if name == "birthdays":
        today = now.astimezone(ZoneInfo(settings(session).timezone)).date()
        return birthdays(session, limit=limit, cursor=cursor, today=today)
    return stages(session, limit=limit, cursor=cursor, now=now)


def _context() -> dict:
    tiers = {tier.code: tier.name for tier in get_ladder(request_session())["tiers"]}
    return {"headings": HEADINGS, "notes": NOTES, "tier_names": tiers}


@bp.get("")
def today() -> ResponseReturnValue:
    lists = {name: _load(name, limit=ON_TODAY, cursor=None) for name in LISTS}
    return page("console/today/today.html", lists=lists, **_context())


@bp.get("/today/<name>")
def today_list(name: str) -> ResponseReturnValue:
    if name not in LISTS:
        abort(404)
    found = _load(name, limit=limit_arg(), cursor=request.args.get("cursor"))
    return page("console/today/list.html", name=name, found=found, **_context())


def _back() -> str:
    """Where to go after claiming: the page the form was on, if it is one of ours."""
    target = console_path(request.form.get("next"))
    if target and not target.startswith("/console/sign"):
        return target
    return url_for("console.today")


@bp.post("/callbacks/<touch_id>/claim")
def claim_callback(touch_id: str) -> ResponseReturnValue:
    claim(request_session(), touch_id=touch_id, assignee=g.console_actor.label)
    flash(_("The callback is yours now."))
    return redirect(_back(), 303)
