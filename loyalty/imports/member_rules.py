"""One row of a members file, read and checked as the API checks a new member (pure).

The patterns and limits are the API's own (loyalty.members.schemas, loyalty.members.identity,
loyalty.core.fields), imported rather than copied, so a row that imports is a member the API
would have enrolled. A bad row gets stable reason codes, each with a short detail.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from loyalty.core.fields import TEXT_PATTERN
from loyalty.core.ids import luhn_valid
from loyalty.members.identity import InvalidIdentifier, normalise_email, normalise_phone
from loyalty.members.models import CONSENT_KEYS
from loyalty.members.schemas import _EXTERNAL_ID, _LOCALE, _MAX_TAGS, GENDERS

IDENTIFIERS = ("external_id", "member_number", "email", "phone")
CONSENT_COLUMNS = tuple(f"consent_{key}" for key in CONSENT_KEYS)
COLUMNS = (
    "external_id",
    "member_number",
    "name",
    "email",
    "phone",
    "birthday",
    "gender",
    "city",
    "tags",
    "enrolled_at",
    "timezone",
    "locale",
    *CONSENT_COLUMNS,
    "points",
    "tier",
)
MAX_POINTS = 1_000_000_000  # what one staff adjustment may credit (AdjustmentCreateSchema)
_TEXT = re.compile(TEXT_PATTERN)
_YES, _NO = frozenset({"true", "yes", "1"}), frozenset({"false", "no", "0", ""})
_NUMBER_SEPARATORS = str.maketrans("", "", " -")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Program:
    """What the rules need to know about the program, read once per run."""

    region: str  # national phone numbers are read in this country
    zone: ZoneInfo  # a bare date means the start of that day here
    tiers: frozenset[str]  # the ladder's codes
    entry_tier: str | None  # where a row without a tier starts (None: no ladder)
    now: datetime


@dataclass(frozen=True)
class Member:
    external_id: str | None
    member_number: str | None  # None: one is generated
    name: str | None
    email: str | None
    phone: str | None
    birthday: date | None
    gender: str | None
    city: str | None
    timezone: str | None
    locale: str | None
    consent: str  # JSON, every channel present (absent consent is no consent)
    tags: str  # JSON list, sorted, without repeats
    enrolled_at: datetime
    points: int
    tier: str | None


class Problems(dict[str, str]):
    """reason code -> short detail; the reject file's reason column."""

    def add(self, code: str, detail: str) -> None:
        self.setdefault(code, detail)

    def text(self) -> str:
        return "; ".join(f"{code}: {detail}" if detail else code for code, detail in self.items())


def parse(values: dict[str, str], program: Program) -> Member | Problems:
    """The member a row describes, or everything wrong with it."""
    problems = Problems()
    get = values.get
    if not any(get(column) for column in IDENTIFIERS):
        problems.add("no_identifier", "needs at least one of external_id, member_number, email, phone")
    external_id = _checked(
        get("external_id"),
        lambda v: _EXTERNAL_ID.match(v),
        problems,
        "invalid_external_id",
        "1-100 printable ASCII characters without spaces",
    )
    number = _member_number(get("member_number") or "", problems)
    email = _identifier(get("email"), email_address, problems, "invalid_email", 320)
    phone = _identifier(get("phone"), lambda v: normalise_phone(v, program.region), problems, "invalid_phone", 40)
    name = _text(get("name"), 200, problems, "invalid_name")
    city = _text(get("city"), 100, problems, "invalid_city")
    birthday = _birthday(get("birthday") or "", program, problems)
    gender = (get("gender") or "").lower() or None
    if gender is not None and gender not in GENDERS:
        problems.add("invalid_gender", f"one of {', '.join(GENDERS)}")
        gender = None
    zone = _checked(get("timezone"), _known_zone, problems, "invalid_timezone", "an IANA zone such as Asia/Shanghai")
    locale = _checked(
        get("locale"), lambda v: _LOCALE.match(v), problems, "invalid_locale", "a tag such as zh-CN or en"
    )
    consent = _consent(values, problems)
    tags = _tags(get("tags") or "", problems)
    enrolled_at = _enrolled_at(get("enrolled_at") or "", program, problems)
    points = _points(get("points") or "", problems)
    tier = get("tier") or None
    if tier is not None and tier not in program.tiers:
        detail = (
            f"not on the ladder ({', '.join(sorted(program.tiers))})" if program.tiers else "no tier ladder is defined"
        )
        problems.add("unknown_tier", detail)
    if problems:
        return problems
    return Member(
        external_id,
        number,
        name,
        email,
        phone,
        birthday,
        gender,
        city,
        zone,
        locale,
        consent,
        tags,
        enrolled_at,
        points,
        tier or program.entry_tier,
    )


# A plain ASCII mailbox name: a dot-atom of letters, digits and _%+- (a subset of what
# email-validator accepts; anything else takes the full check).
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*")


@lru_cache(maxsize=8192)
def _mail_domain(domain: str) -> str | None:
    """The normalised domain, or None when email-validator refuses it. A file's addresses share
    few domains, and the domain is most of the validator's cost (a fifth of a million-row run)."""
    try:
        return normalise_email(f"a@{domain}").partition("@")[2]
    except InvalidIdentifier:
        return None


def email_address(raw: str) -> str:
    """As members.identity.normalise_email (a test holds them equal), with the domain's check cached."""
    local, at, domain = raw.rpartition("@")
    if at and len(local) <= 64 and len(raw) <= 254 and domain.isascii() and _PLAIN_LOCAL.fullmatch(local):
        normal = _mail_domain(domain)
        if normal is not None:
            return f"{local}@{normal}".lower()
    return normalise_email(raw)  # anything unusual gets the API's own check and message


def _checked(
    value: str | None, test: Callable[[str], object], problems: Problems, code: str, detail: str
) -> str | None:
    if not value:
        return None
    if not test(value):
        problems.add(code, detail)
        return None
    return value


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())  # what core.fields.validate_timezone accepts


def _known_zone(value: str) -> bool:
    return value in _zones()


def _identifier(
    value: str | None, normalise: Callable[[str], str], problems: Problems, code: str, longest: int
) -> str | None:
    if not value:
        return None
    if len(value) > longest:
        problems.add(code, f"at most {longest} characters")
        return None
    try:
        return normalise(value)
    except InvalidIdentifier as error:
        problems.add(code, str(error))
        return None


def _text(value: str | None, longest: int, problems: Problems, code: str) -> str | None:
    if not value:
        return None
    if len(value) > longest or not _TEXT.match(value):
        problems.add(code, f"at most {longest} characters, no control characters")
        return None
    return value


def _member_number(value: str, problems: Problems) -> str | None:
    """Kept as printed (spaces and dashes ignored) so cards in members' wallets keep working; a
    number that isn't one we could have issued is refused rather than silently replaced."""
    if not value:
        return None
    digits = value.translate(_NUMBER_SEPARATORS)
    if len(digits) != 12 or not digits.isdigit() or digits[0] == "0" or not luhn_valid(digits):
        problems.add("invalid_member_number", "12 digits, not starting with 0, the last a Luhn check digit")
        return None
    return digits


def _birthday(value: str, program: Program, problems: Problems) -> date | None:
    if not value:
        return None
    day = _iso_date(value)
    # As the API: between 1900 and today wherever the member lives (the earliest zone is UTC+14).
    latest = (program.now + timedelta(hours=14)).date()
    if day is None or not date(1900, 1, 1) <= day <= latest:
        problems.add("invalid_birthday", "a date YYYY-MM-DD between 1900-01-01 and today")
        return None
    return day


def _iso_date(value: str) -> date | None:
    if not _DATE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _consent(values: dict[str, str], problems: Problems) -> str:
    given = {}
    for key, column in zip(CONSENT_KEYS, CONSENT_COLUMNS):
        text = (values.get(column) or "").lower()
        if text not in _YES and text not in _NO:
            problems.add("invalid_consent", f"{column}: true/false, yes/no, 1/0, or empty for no consent")
        given[key] = text in _YES
    return json.dumps(given, separators=(",", ":"))


def _tags(value: str, problems: Problems) -> str:
    tags = sorted({tag.strip() for tag in value.split(";") if tag.strip()})
    if len(tags) > _MAX_TAGS or any(len(tag) > 50 or not _TEXT.match(tag) for tag in tags):
        problems.add("invalid_tags", f"at most {_MAX_TAGS} tags separated by ';', each at most 50 characters")
        return "[]"
    return json.dumps(tags, ensure_ascii=False, separators=(",", ":"))


def _enrolled_at(value: str, program: Program, problems: Problems) -> datetime:
    """A date is the start of that day in the program's zone; an instant without an offset is read
    there too (exports from shop systems rarely carry one). Never later than now."""
    if not value:
        return program.now
    day = _iso_date(value)
    try:
        instant = (
            datetime.combine(day, time(0), tzinfo=program.zone)
            if day
            else datetime.fromisoformat(value.replace("Z", "+00:00"))
        )
    except ValueError:
        problems.add("invalid_enrolled_at", "a date YYYY-MM-DD or an instant such as 2024-03-01T09:30:00+08:00")
        return program.now
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=program.zone)
    instant = instant.astimezone(UTC)
    if instant > program.now:
        problems.add("enrolled_in_future", "enrolled_at is later than now")
    elif instant.year < 1900:
        problems.add("invalid_enrolled_at", "before 1900")
    return instant


def _points(value: str, problems: Problems) -> int:
    if not value:
        return 0
    text = value.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", value) else value
    if not text.isdigit() or not text.isascii() or int(text) > MAX_POINTS:
        problems.add("invalid_points", f"a whole number of points from 0 to {MAX_POINTS:,}")
        return 0
    return int(text)
