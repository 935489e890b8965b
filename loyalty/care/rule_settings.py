"""Care rules per kind: read them (defaults where none was saved) and change one, checked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.care import templates
from loyalty.care.models import KINDS, CareRule
from loyalty.core.cache import TTLCache, database_key
from loyalty.core.db import utcnow
from loyalty.core.errors import ValidationFailed
from loyalty.rewards.models import Reward

DEFAULTS = {
    "birthday": dict(
        enabled=False,
        channel="sms",
        days_before=3,
        template="{{ name }}, happy birthday from {{ program }}! {{ gift_points }} points are waiting for you.",
    ),
    "holiday": dict(
        enabled=False,
        channel="email",
        days_before=1,
        template="{{ name }}, {{ program }} wishes you a happy {{ occasion_name }}.",
    ),
    "anniversary": dict(
        enabled=False,
        channel="email",
        days_before=0,
        template="{{ name }}, it's {{ years }} year(s) with {{ program }} today. Thank you!",
    ),
    "follow_up": dict(
        enabled=False, channel="phone", days_after=7, template="Call {{ name }}: how is their first purchase?"
    ),
    "complaint_callback": dict(
        enabled=True, channel="phone", template="Call {{ name }} back about their complaint within 24 hours."
    ),
    "win_back": dict(
        enabled=False,
        channel="sms",
        inactive_days=None,
        template="{{ name }}, we miss you at {{ program }}. Come back for something new.",
    ),
    # On: a campaign is switched on by launching it; this rule only says how its touches look.
    "campaign": dict(enabled=True, channel="sms", template="{{ name }}, news from {{ program }}."),
}
_FIELDS = (
    "enabled",
    "channel",
    "template",
    "days_before",
    "days_after",
    "gift_points",
    "reward_id",
    "custom_dates",
    "inactive_days",
)
_rules: TTLCache[dict] = TTLCache(ttl=5.0)


def _as_dict(kind: str, row: CareRule | None) -> dict:
    base = {
        "kind": kind,
        "enabled": False,
        "channel": "sms",
        "template": "",
        "days_before": 0,
        "days_after": 0,
        "gift_points": 0,
        "reward_id": None,
        "custom_dates": [],
        "inactive_days": None,
        **DEFAULTS[kind],
    }
    if row is not None:
        base.update({name: getattr(row, name) for name in _FIELDS})
    return base


def all_rules(session: Session) -> dict[str, dict]:
    """Every kind's rule, cached per worker for a few seconds."""

    def load() -> dict[str, dict]:
        rows = {row.kind: row for row in session.scalars(select(CareRule))}
        return {kind: _as_dict(kind, rows.get(kind)) for kind in KINDS}

    return _rules.get(database_key(session), load)


def list_rules(session: Session) -> dict:
    return {"data": list(all_rules(session).values())}


def put_rule(session: Session, *, kind: str, data: dict) -> dict:
    errors = _errors(kind, data, lambda reward_id: session.get(Reward, reward_id) is not None)
    if errors:
        raise ValidationFailed(errors)
    row = session.get(CareRule, kind) or CareRule(kind=kind)
    # Only what is sent changes; the rest stays as it was (or as the default).
    merged = {**_as_dict(kind, row if row.kind and row.updated_at else None), **data}
    for name in _FIELDS:
        setattr(row, name, merged[name])
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    _rules.clear()
    return _as_dict(kind, row)


def _errors(kind: str, data: dict, reward_exists: Callable[[str], bool]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    template = data.get("template")
    if template is not None and (problem := templates.problem(template)):
        errors["template"] = [problem]
    if kind == "complaint_callback" and data.get("channel", "phone") != "phone":
        errors["channel"] = ["A complaint is called back: the channel is phone."]
    for field, kinds in (
        ("days_before", {"birthday", "holiday", "anniversary"}),
        ("days_after", {"follow_up"}),
        ("custom_dates", {"holiday"}),
        ("inactive_days", {"win_back"}),
    ):
        if data.get(field) not in (None, 0, []) and kind not in kinds:
            errors[field] = [f"Only for {', '.join(sorted(kinds))}."]
    for index, entry in enumerate(data.get("custom_dates") or []):
        if not _valid_day(entry.get("date", "")):
            errors[f"custom_dates.{index}.date"] = ["MM-DD (every year) or YYYY-MM-DD (once), a real day."]
    if data.get("reward_id") and not reward_exists(data["reward_id"]):
        errors["reward_id"] = [f"No reward `{data['reward_id']}`."]
    return errors


def _valid_day(text: str) -> bool:
    try:
        date.fromisoformat(text if len(text) == 10 else f"2024-{text}")  # 2024: 02-29 is a real day
    except (TypeError, ValueError):
        return False
    return len(text) in (5, 10)
