"""From HTML form fields to the API's input shapes, and the API's errors back to the fields.

A form sends only strings; the API's schemas are strict about types (an integer is not "5"). So a
field is converted only when it plainly is what the schema wants, and otherwise passed on as typed,
for the schema to refuse with its own message: the rules stay the API's.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as L

_INTEGER = re.compile(r"^[+-]?\d{1,15}$")

# Codes of the program's rules shown to admins, in their language.
LABELS = {
    # care rule kinds
    "birthday": L("Birthday"),
    "holiday": L("Holiday"),
    "anniversary": L("Membership anniversary"),
    "follow_up": L("Follow-up after a first purchase"),
    "complaint_callback": L("Complaint callback"),
    "win_back": L("Win-back"),
    "campaign": L("Campaign messages"),
    # tier metrics
    "spend_12m": L("Spend in the last 12 months"),
    "points_12m": L("Points earned in the last 12 months"),
    "orders_12m": L("Orders in the last 12 months"),
    # reward kinds
    "amount_off": L("Amount off"),
    "percent_off": L("Percent off"),
    "free_item": L("Free item"),
    "gift": L("Gift"),
    # deliveries
    "pending": L("waiting to be sent"),
    "delivered": L("delivered"),
    "dead": L("failed"),
    # webhook events
    "member.created": L("A member joined"),
    "order.points_awarded": L("Points awarded for an order"),
    "points.expiring": L("Points about to expire"),
    "tier.changed": L("Tier changed"),
    "redemption.captured": L("Redemption completed"),
    "referral.qualified": L("Referral qualified"),
    "touch.due": L("Care touch due"),
    "campaign.finished": L("Campaign finished"),
}


def label(code: str | None) -> str:
    if code is None:
        return "—"
    found = LABELS.get(code)
    if found is not None:
        return str(found)
    from loyalty.console.labels import word

    return word(code)


def text(value: str | None) -> str:
    return (value or "").strip()


def integer(value: str | None, *, blank=""):
    """An integer when the field holds one; `blank` when empty; else the text, for the schema to refuse."""
    value = text(value)
    if not value:
        return blank
    return int(value) if _INTEGER.match(value) else value


def optional(value: str | None) -> str | None:
    """Text, or None when the field is empty (the API's null)."""
    return text(value) or None


def checkbox(form, name: str) -> bool:
    return form.get(name) in ("on", "true", "1")


def local_instant(value: str | None, zone: str):
    """A `datetime-local` field (the program's time zone) as an ISO instant with its offset; None when empty."""
    value = text(value)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.isoformat()


def local_field(moment: datetime | None, zone: str) -> str:
    """An instant as a `datetime-local` value in the program's time zone."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def flatten(errors, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages ({"referral": {"monthly_cap": [...]}}, {"tiers": {0: {...}}}) as
    dotted field names, the way the services name them ("tiers.0.threshold")."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for sub, messages in flatten(value, name).items():
                flat.setdefault(sub, []).extend(messages)
    elif isinstance(errors, (list, tuple)):
        for item in errors:
            if isinstance(item, (dict, list, tuple)):
                for sub, messages in flatten(item, prefix).items():
                    flat.setdefault(sub, []).extend(messages)
            else:
                flat.setdefault(prefix or "_schema", []).append(str(item))
    else:
        flat.setdefault(prefix or "_schema", []).append(str(errors))
    return flat


class FieldErrors:
    """The errors of one form: each shown next to its field; any that belong to no field, on top."""

    def __init__(self, errors=None, *, fields=(), rename=None) -> None:
        self.by_name = flatten(errors or {})
        if rename:
            self.by_name = {rename(name): messages for name, messages in self.by_name.items()}
        self.fields = tuple(fields)

    def __bool__(self) -> bool:
        return bool(self.by_name)

    def at(self, name: str) -> list[str]:
        """Messages for a field and anything under it (`exchange_rates` holds `exchange_rates.USD.value`)."""
        return [
            message
            for key, messages in self.by_name.items()
            if key == name or key.startswith(name + ".")
            for message in messages
        ]

    def rest(self) -> list[str]:
        """Messages of no field on the form."""
        return [
            message
            for key, messages in self.by_name.items()
            if not any(key == field or key.startswith(field + ".") for field in self.fields)
            for message in messages
        ]
