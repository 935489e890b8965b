"""The POS lookup: one statement, built and prepared once, answered from an index.

The identifier a cashier keys or scans is classified without the database: a 12-digit member
number (never starting with 0) must pass its Luhn check (a mistyped digit is a 404 at once), a
phone number is read in the program's country, a coupon code is 12 letters and digits from the
coupon alphabet (separators ignored). Digits typed full-width are read as digits.

The answer is built here in its final shape (decimals and money as the API writes them) rather
than dumped through marshmallow: this is the till's hot path, and tests/api/test_pos.py checks it
against PosMemberSchema.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine

from loyalty.core.db import utcnow
from loyalty.core.errors import NotFound
from loyalty.core.fields import decimal_text
from loyalty.core.ids import luhn_valid
from loyalty.core.money import money
from loyalty.core.prepared_read import PreparedRead
from loyalty.members.identity import InvalidIdentifier, normalise_phone
from loyalty.members.models import Member
from loyalty.points.rules import points_value
from loyalty.points.service import available_points_of
from loyalty.program.service import settings
from loyalty.rewards.coupons import coupon_owner, coupon_ready_of
from loyalty.rewards.rules import normalise_coupon_code
from loyalty.tiers.service import tier_terms

_PHONE = re.compile(r"^[+(]?[+0-9(][0-9 ()+.\-]{5,28}$")
_SEPARATORS = re.compile(r"[ \-.]")


def _plain_digits(text: str) -> str:
    """Full-width and other scripts' digits (what Chinese input methods type) as ASCII digits."""
    if text.isascii():  # what a scanner or a keyboard sends: nothing to read differently
        return text
    text = unicodedata.normalize("NFKC", text)
    return "".join(str(unicodedata.decimal(char)) if char.isdecimal() and not char.isascii() else char for char in text)


class _Found(NamedTuple):
    """A row of the lookup statement, in its column order."""

    id: str
    member_number: str
    name: str | None
    status: str
    tier_code: str | None
    birthday: date | None
    timezone: str | None
    merged_into: str | None
    erased_at: datetime | None
    available: int
    reward_ready: bool


def _statement(where: Any) -> PreparedRead:
    return PreparedRead(
        select(
            Member.id,
            Member.member_number,
            Member.name,
            Member.status,
            Member.tier_code,
            Member.birthday,
            Member.timezone,
            Member.merged_into,
            Member.erased_at,
            available_points_of(Member.id).label("available"),
            coupon_ready_of(Member.id).label("reward_ready"),
        ).where(where),
        params=("value", "now"),
    )


_BY = {
    "member_number": _statement(Member.member_number == bindparam("value")),
    "phone": _statement(Member.phone == bindparam("value")),
    "coupon": _statement(Member.id == coupon_owner(bindparam("value"))),
    "id": _statement(Member.id == bindparam("value")),  # a merged card's survivor
}


def classify(identifier: str, region: str) -> tuple[str, str]:
    """(kind, normalised value); NotFound for what can't be anyone's, before any read."""
    text = _plain_digits(identifier).strip()
    digits = _SEPARATORS.sub("", text)
    # Member numbers never start with 0; 12 digits that do are a national phone number (a landline
    # with its area code, 0755 2345 6789).
    if len(digits) == 12 and digits.isascii() and digits.isdigit() and not digits.startswith("0"):
        if not luhn_valid(digits):
            raise NotFound("No member with this number: its check digit is wrong (mistyped?).")
        return "member_number", digits
    if _PHONE.match(text):
        try:
            return "phone", normalise_phone(text, region)
        except InvalidIdentifier:
            raise NotFound("Not a member number, and not a valid phone number.") from None
    code = normalise_coupon_code(identifier)  # read as POST /v1/coupons/{code}/use reads it
    if code:
        return "coupon", code
    raise NotFound("Not a member number, phone number or coupon code.")


def _find(engine: Engine, kind: str, value: str, now: datetime) -> _Found | None:
    row = _BY[kind].first(engine, {"value": value, "now": now})
    return _Found._make(row) if row is not None else None


def lookup(engine: Engine, *, identifier: str, now: datetime | None = None) -> dict[str, Any]:
    """The answer of GET /v1/pos/members/{identifier}, ready to send as JSON."""
    now = now or utcnow()
    program = settings(engine)
    kind, value = classify(identifier, program.holiday_country)
    row = _find(engine, kind, value, now)
    if row is not None and row.merged_into:
        row = _find(engine, "id", row.merged_into, now)
    if row is None or row.erased_at is not None:
        raise NotFound("No member with this identifier.")
    blocked = row.status == "blocked"
    discount, _multiplier = tier_terms(engine, row.tier_code)
    available = max(0, int(row.available)) if not blocked else 0
    local = now.astimezone(ZoneInfo(row.timezone or program.timezone)).date()
    return {
        "member_id": row.id,
        "member_number": row.member_number,
        "display_name": row.name or f"Member ···{row.member_number[-4:]}",
        "status": row.status,
        "tier": row.tier_code,
        "discount_percent": decimal_text(discount if not blocked else 0),
        "available_points": available,
        "points_value": money(points_value(available, program.point_value)),
        "currency": program.currency,
        "flags": {
            "birthday_this_month": bool(row.birthday and row.birthday.month == local.month),
            "reward_ready": bool(row.reward_ready) and not blocked,
            "can_redeem": row.status == "active" and available > 0,
        },
    }
