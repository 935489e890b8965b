"""Pure care decisions: when an occasion falls, when a touch may go out, why it must not.

Care is only kind when it is welcome: consent per channel (and for marketing), no messages in the
member's night, and no more promotional touches a week than the program allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

# Why a touch did not go out (stable codes, in the API).
MEMBER_BLOCKED = "member_blocked"
MEMBER_GONE = "member_gone"  # erased or merged away
RULE_DISABLED = "rule_disabled"
NO_CONSENT = "no_consent"
NO_MARKETING_CONSENT = "no_marketing_consent"
NO_ADDRESS = "no_address"  # consent given, but no email or phone to send to
WEEKLY_CAP = "weekly_cap"
QUIET_HOURS = "quiet_hours"  # not a suppression: the touch waits for the morning
TEMPLATE_ERROR = "template_error"  # failed, not suppressed: the message couldn't be made
SUPPRESSIONS = (MEMBER_BLOCKED, MEMBER_GONE, RULE_DISABLED, NO_CONSENT, NO_MARKETING_CONSENT, NO_ADDRESS, WEEKLY_CAP)


def birthday_in(year: int, birthday: date) -> date:
    """The day a birthday is celebrated in `year`: 29 February is 28 February in common years."""
    try:
        return birthday.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def local_moment(day: date, at: str, zone: str) -> datetime:
    """`day` at the clock time `at` in `zone`, as a UTC instant."""
    return datetime.combine(day, clock(at), tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


def in_quiet_hours(now: datetime, zone: str, start: str, end: str) -> datetime | None:
    """When the quiet hours around `now` end (a UTC instant), or None if `now` isn't inside them."""
    local = now.astimezone(ZoneInfo(zone))
    begin, finish, current = clock(start), clock(end), local.time()
    if begin == finish:
        return None
    overnight = begin > finish
    inside = (current >= begin or current < finish) if overnight else (begin <= current < finish)
    if not inside:
        return None
    end_day = local.date() + timedelta(days=1) if overnight and current >= begin else local.date()
    return datetime.combine(end_day, finish, tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


@dataclass(frozen=True)
class Recipient:
    status: str
    gone: bool
    consent: dict
    sent_this_week: int
    addresses: frozenset = frozenset({"email", "sms", "phone", "push"})  # channels it can be reached on


def suppression(recipient: Recipient, *, channel: str, promotional: bool, enabled: bool, weekly_cap: int,
                service_call: bool = False) -> str | None:
    """Why this touch must not go out, or None. A complaint callback is the member's own request:
    it needs no consent and no marketing consent."""
    if recipient.gone:
        return MEMBER_GONE
    if recipient.status == "blocked":
        return MEMBER_BLOCKED
    if not enabled:
        return RULE_DISABLED
    if not service_call and not recipient.consent.get(channel, False):
        return NO_CONSENT
    if channel not in recipient.addresses:
        return NO_ADDRESS
    if promotional and not recipient.consent.get("marketing", False):
        return NO_MARKETING_CONSENT
    if promotional and recipient.sent_this_week >= weekly_cap:
        return WEEKLY_CAP
    return None


def lapsed(*, first: datetime, last: datetime, orders: int, now: datetime, inactive_days: int | None) -> bool:
    """Has a member drifted away? Past `inactive_days` since the last order when set; otherwise past
    twice their own usual interval between orders (which needs two orders to know)."""
    if inactive_days is not None:
        return now - last > timedelta(days=inactive_days)
    if orders < 2 or last <= first:
        return False
    usual = (last - first) / (orders - 1)
    return now - last > 2 * usual
