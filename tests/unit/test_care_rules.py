from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

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
    now = datetime(2026, 7, 1, 13, 0, tzinfo=UTC)
    assert rules.in_quiet_hours(now, "UTC", "12:00", "14:00") == datetime(2026, 7, 1, 14, 0, tzinfo=UTC)
    assert rules.in_quiet_hours(now, "UTC", "00:00", "00:00") is None


@pytest.mark.parametrize(
    "recipient, kwargs, reason",
    [
        (Recipient("active", True, ALL, 0), {}, rules.MEMBER_GONE),
        (Recipient("blocked", False, ALL, 0), {}, rules.MEMBER_BLOCKED),
        (Recipient("active", False, ALL, 0), {"enabled": False}, rules.RULE_DISABLED),
        (Recipient("active", False, {**ALL, "sms": False}, 0), {}, rules.NO_CONSENT),
        (Recipient("active", False, {**ALL, "marketing": False}, 0), {}, rules.NO_MARKETING_CONSENT),
        (Recipient("active", False, ALL, 2), {}, rules.WEEKLY_CAP),
        (Recipient("active", False, ALL, 1), {}, None),
        (Recipient("suspended", False, ALL, 0), {}, None),
        (Recipient("active", False, {}, 5), {"promotional": False, "service_call": True}, None),
    ],
)
def test_every_suppression_reason(recipient, kwargs, reason):
    args = {"channel": "sms", "promotional": True, "enabled": True, "weekly_cap": 2, **kwargs}
    assert rules.suppression(recipient, **args) == reason


def test_lapsed_by_rhythm_or_by_days():
    first, last = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 21, tzinfo=UTC)
    assert not rules.lapsed(first=first, last=last, orders=3, now=last + timedelta(days=20), inactive_days=None)
    assert rules.lapsed(first=first, last=last, orders=3, now=last + timedelta(days=21), inactive_days=None)
    assert not rules.lapsed(first=last, last=last, orders=1, now=last + timedelta(days=900), inactive_days=None)
    assert rules.lapsed(first=last, last=last, orders=1, now=last + timedelta(days=61), inactive_days=60)


# --- callbacks fall due in working hours ------------------------------------------------------------

ZONES = (
    "Asia/Shanghai",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "UTC",
)
clocks = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from((0, 15, 30, 59)))


@given(
    asked=st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC)),
    zone=st.sampled_from(ZONES),
    start=clocks,
    end=clocks,
)
def test_a_callback_is_never_due_in_quiet_hours_nor_earlier_than_asked(asked, zone, start, end):
    due = rules.callback_due(asked, zone, start, end)
    assert due >= asked
    assert rules.in_quiet_hours(due, zone, start, end) is None
    if rules.in_quiet_hours(asked, zone, start, end) is None:
        assert due == asked  # in working hours already: kept as asked
    else:
        assert due - asked <= timedelta(hours=26)  # the end of that night, not a later one


def test_a_no_answer_at_1_59_in_shanghai_is_called_again_when_the_night_ends():
    no_answer = datetime(2026, 11, 19, 1, 59, tzinfo=timezone(timedelta(hours=8)))
    due = rules.callback_due(no_answer + timedelta(hours=4), "Asia/Shanghai", "21:00", "09:00")
    assert due == datetime(2026, 11, 19, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, not 05:59
    daytime = datetime(2026, 11, 19, 14, 0, tzinfo=UTC)  # 22:00 local: the next morning
    assert rules.callback_due(daytime, "Asia/Shanghai", "21:00", "09:00") == datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def test_quiet_hours_end_across_daylight_saving_changes():
    # New York, 8 March 2026: 02:00 EST jumps to 03:00 EDT, so 02:30 never happens that night.
    before_jump = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)  # 01:00 EST
    due = rules.callback_due(before_jump, "America/New_York", "21:00", "02:30")
    assert due > before_jump and rules.in_quiet_hours(due, "America/New_York", "21:00", "02:30") is None
    # 1 November 2026: 01:00-02:00 happens twice; 01:15 the second time ends at 01:30 the second time.
    second_pass = datetime(2026, 11, 1, 6, 15, tzinfo=UTC)  # 01:15 EST
    assert rules.callback_due(second_pass, "America/New_York", "21:00", "01:30") == datetime(
        2026, 11, 1, 6, 30, tzinfo=UTC
    )


# --- a win-back is re-checked before it goes out --------------------------------------------------------


def test_a_member_who_ordered_after_the_lapse_is_no_longer_lapsed():
    last = datetime(2026, 1, 21, 4, 0, tzinfo=UTC)
    seen = rules.lapse_seen(f"{rules.LAST_ORDER}{last.isoformat()}", "lapsed:2026-01-21")
    assert seen == last
    assert not rules.came_back(seen, None) and not rules.came_back(seen, last)
    assert rules.came_back(seen, last + timedelta(seconds=1))
    # planned before the source was kept: the day in the occasion, whole
    older = rules.lapse_seen(None, "lapsed:2026-01-21")
    assert not rules.came_back(older, last + timedelta(hours=10))
    assert rules.came_back(older, datetime(2026, 1, 22, 0, 1, tzinfo=UTC))
    recipient = Recipient("active", False, ALL, 0)
    assert (
        rules.suppression(recipient, channel="sms", promotional=True, enabled=True, weekly_cap=2, returned=True)
        == rules.NO_LONGER_LAPSED
    )
