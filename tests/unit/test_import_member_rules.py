"""Reading one row of a members file: the API's rules, stable reason codes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import marshmallow as ma
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.core.ids import luhn_check_digit
from loyalty.imports.member_rules import (
    COLUMNS,
    Member,
    Problems,
    Program,
    email_address,
    parse,
)
from loyalty.members.identity import InvalidIdentifier, normalise_email
from loyalty.members.schemas import MemberCreateSchema
from tests.clock import NOW

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROGRAM = Program(
    region="CN", zone=SHANGHAI, tiers=frozenset({"regular", "silver", "gold"}), entry_tier="regular", now=NOW
)


def _ok(**values) -> Member:
    result = parse(values, PROGRAM)
    assert isinstance(result, Member), result
    return result


def _codes(**values) -> list[str]:
    result = parse(values, PROGRAM)
    assert isinstance(result, Problems), result
    return list(result)


def test_the_columns_are_the_issues_list():
    assert set(COLUMNS) == {
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
        "consent_email",
        "consent_sms",
        "consent_phone",
        "consent_push",
        "consent_marketing",
        "points",
        "tier",
    }


def test_a_full_row():
    number = "60012345678" + str(luhn_check_digit("60012345678"))
    member = _ok(
        external_id="C-1",
        member_number=number,
        name="张伟",
        email="Zhang.Wei@Example.CN",
        phone="138 1234 5678",
        birthday="1986-04-12",
        gender="Male",
        city="上海",
        tags="vip; wine;vip;",
        enrolled_at="2019-03-02",
        timezone="Asia/Shanghai",
        locale="zh-CN",
        consent_email="YES",
        consent_sms="1",
        consent_phone="",
        consent_push="no",
        consent_marketing="true",
        points="12,800",
        tier="gold",
    )
    assert member.member_number == number and member.email == "zhang.wei@example.cn"
    assert member.phone == "+8613812345678" and member.birthday == date(1986, 4, 12) and member.gender == "male"
    assert json.loads(member.tags) == ["vip", "wine"] and member.points == 12800 and member.tier == "gold"
    assert json.loads(member.consent) == {"email": True, "sms": True, "phone": False, "push": False, "marketing": True}
    assert member.enrolled_at == datetime(2019, 3, 2, tzinfo=SHANGHAI)


def test_defaults_for_empty_cells():
    member = _ok(email="a@example.com")
    assert member.enrolled_at == NOW and member.tier == "regular" and member.points == 0
    assert member.member_number is None and json.loads(member.consent) == dict.fromkeys(
        ["email", "sms", "phone", "push", "marketing"], False
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-03-01", datetime(2024, 3, 1, tzinfo=SHANGHAI)),
        ("2024-03-01 09:30", datetime(2024, 3, 1, 9, 30, tzinfo=SHANGHAI)),  # no offset: the program's zone
        ("2024-03-01T09:30:00Z", datetime(2024, 3, 1, 9, 30, tzinfo=UTC)),
        ("2024-03-01T09:30:00+02:00", datetime(2024, 3, 1, 7, 30, tzinfo=UTC)),
    ],
)
def test_enrolled_at_is_a_date_or_an_instant(text, expected):
    assert _ok(email="a@example.com", enrolled_at=text).enrolled_at == expected


@pytest.mark.parametrize(
    "values, code",
    [
        ({"name": "Ann"}, "no_identifier"),
        ({"email": "not-an-email"}, "invalid_email"),
        ({"email": "a@localhost"}, "invalid_email"),
        ({"phone": "12345"}, "invalid_phone"),
        ({"phone": "+" + "1" * 45}, "invalid_phone"),
        ({"external_id": "has space"}, "invalid_external_id"),
        ({"member_number": "600123456780"}, "invalid_member_number"),  # Luhn
        ({"member_number": "12345"}, "invalid_member_number"),
        ({"email": "a@example.com", "birthday": "1899-12-31"}, "invalid_birthday"),
        ({"email": "a@example.com", "birthday": "2026-11-20"}, "invalid_birthday"),
        ({"email": "a@example.com", "birthday": "12/05/1990"}, "invalid_birthday"),
        ({"email": "a@example.com", "gender": "man"}, "invalid_gender"),
        ({"email": "a@example.com", "timezone": "Mars/Base"}, "invalid_timezone"),
        ({"email": "a@example.com", "locale": "not a locale"}, "invalid_locale"),
        ({"email": "a@example.com", "consent_sms": "maybe"}, "invalid_consent"),
        ({"email": "a@example.com", "tags": ";".join(f"t{n}" for n in range(51))}, "invalid_tags"),
        ({"email": "a@example.com", "name": "a\x00b"}, "invalid_name"),
        ({"email": "a@example.com", "city": "x" * 101}, "invalid_city"),
        ({"email": "a@example.com", "enrolled_at": "2026-11-19"}, "enrolled_in_future"),
        ({"email": "a@example.com", "enrolled_at": "last year"}, "invalid_enrolled_at"),
        ({"email": "a@example.com", "points": "-5"}, "invalid_points"),
        ({"email": "a@example.com", "points": "1.5"}, "invalid_points"),
        ({"email": "a@example.com", "points": "1000000001"}, "invalid_points"),
        ({"email": "a@example.com", "tier": "platinum"}, "unknown_tier"),
    ],
)
def test_each_mistake_has_its_code(values, code):
    assert _codes(**values) == [code]


def test_every_mistake_of_a_row_is_named_with_a_detail():
    problems = parse({"email": "x", "phone": "1", "gender": "?"}, PROGRAM)
    assert list(problems) == ["invalid_email", "invalid_phone", "invalid_gender"]
    assert problems.text().startswith("invalid_email: ") and "; invalid_phone: " in problems.text()


@pytest.mark.parametrize(
    "field, column, values",
    [
        ("gender", "gender", ["female", "other", "x"]),
        ("timezone", "timezone", ["Europe/Paris", "Paris"]),
        ("locale", "locale", ["zh-Hans-CN", "en", "e", "english language"]),
        ("external_id", "external_id", ["ok-1", "not ok", "x" * 101]),
    ],
)
def test_the_same_answers_as_the_api(field, column, values):
    for value in values:
        try:
            MemberCreateSchema().load({field: value})
            api_ok = True
        except ma.ValidationError:
            api_ok = False
        assert isinstance(parse({"email": "a@example.com", column: value}, PROGRAM), Member) == api_ok, value


_LOCAL = st.text(alphabet="abcXYZ019._%+-!#'\"() ", min_size=0, max_size=12)
_DOMAIN = st.sampled_from(
    [
        "example.com",
        "Example.CN",
        "localhost",
        "x.test",
        "-a.com",
        "a.b",
        "sub.example.co.uk",
        "exa mple.com",
        "例子.中国",
        "a..com",
        "x." + "a" * 64 + ".com",
    ]
)


@settings(max_examples=400, deadline=None)
@given(local=_LOCAL, domain=_DOMAIN)
def test_the_cached_email_check_answers_as_the_api(local, domain):
    address = f"{local}@{domain}"
    try:
        expected = normalise_email(address)
    except InvalidIdentifier:
        expected = None
    try:
        got = email_address(address)
    except InvalidIdentifier:
        got = None
    assert got == expected
