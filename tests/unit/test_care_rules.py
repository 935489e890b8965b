from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.care import rules
from loyalty.care.rules import Recipient

ALL = {"email": True, "sms": True, "phone": True, "push": True, "marketing": True}


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)), st.integers(1901, 2199))
def test_a_birthday_always_has_a_day_and_keeps_it_when_it_exists(birthday, year):
    day = rules.birthday_in(year, birthday)
    assert day.year == year
    if (birthday.month, birthday.day) != (2, 29):
        assert (day.month, day.day) == (birthday.month, birthday.day)
    else:
        assert (day.month, day.day) in ((2, 29), (2, 28))
        assert (day.month, day.day) == ((2, 29) if year % 4 == 0 and (year % 100 or year % 400 == 0) else (2, 28))


@pytest.mark.parametrize("local_hour, quiet", [(20, False), (21, True), (23, True), (2, True), (8, True), (9, False)])
def test_overnight_quiet_hours(local_hour, quiet):
    zone = "Asia/Shanghai"
    now = datetime(2026, 7, 1, local_hour, 30, tzinfo=timezone(timedelta(hours=8)))
    ends = rules.in_quiet_hours(now, zone, "21:00", "09:00")
    assert (ends is not None) == quiet
    if ends:
        assert ends > now and ends.astimezone(timezone(timedelta(hours=8))).hour == 9
        assert ends - now <= timedelta(hours=12)


def test_daytime_quiet_hours_and_none():
    now = datetime(2026, 7, 1, 13, 0, tzinfo=timezone.utc)
    assert rules.in_quiet_hours(now, "UTC", "12:00", "14:00") == datetime(2026, 7, 1, 14, 0, tzinfo=timezone.utc)
    assert rules.in_quiet_hours(now, "UTC", "00:00", "00:00") is None


@pytest.mark.parametrize("recipient, kwargs, reason", [
    (Recipient("active", True, ALL, 0), {}, rules.MEMBER_GONE),
    (Recipient("blocked", False, ALL, 0), {}, rules.MEMBER_BLOCKED),
    (Recipient("active", False, ALL, 0), {"enabled": False}, rules.RULE_DISABLED),
    (Recipient("active", False, {**ALL, "sms": False}, 0), {}, rules.NO_CONSENT),
    (Recipient("active", False, {**ALL, "marketing": False}, 0), {}, rules.NO_MARKETING_CONSENT),
    (Recipient("active", False, ALL, 2), {}, rules.WEEKLY_CAP),
    (Recipient("active", False, ALL, 1), {}, None),
    (Recipient("suspended", False, ALL, 0), {}, None),
    (Recipient("active", False, {}, 5), {"promotional": False, "service_call": True}, None),
])
def test_every_suppression_reason(recipient, kwargs, reason):
    args = {"channel": "sms", "promotional": True, "enabled": True, "weekly_cap": 2, **kwargs}
    assert rules.suppression(recipient, **args) == reason


def test_lapsed_by_rhythm_or_by_days():
    first, last = datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 1, 21, tzinfo=timezone.utc)
    assert not rules.lapsed(first=first, last=last, orders=3, now=last + timedelta(days=20), inactive_days=None)
    assert rules.lapsed(first=first, last=last, orders=3, now=last + timedelta(days=21), inactive_days=None)
    assert not rules.lapsed(first=last, last=last, orders=1, now=last + timedelta(days=900), inactive_days=None)
    assert rules.lapsed(first=last, last=last, orders=1, now=last + timedelta(days=61), inactive_days=60)
