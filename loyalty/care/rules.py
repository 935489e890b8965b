"""Pure care decisions: when an occasion falls, when a touch may go out, why it must not.

Care is only kind when it is welcome: consent per channel (and for marketing), no messages in the
member's night, and no more promotional touches a week than the program allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
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
NO_LONGER_LAPSED = "no_longer_lapsed"  # a win-back for a member who ordered after it was planned
SUPPRESSIONS = (
    MEMBER_BLOCKED,
    MEMBER_GONE,
    RULE_DISABLED,
    NO_LONGER_LAPSED,
    NO_CONSENT,
    NO_MARKETING_CONSENT,
    NO_ADDRESS,
    WEEKLY_CAP,
)
LAST_ORDER = "last_order:"  # a win-back touch's source: the last order it saw, as an instant


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
    return datetime.combine(day, clock(at), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _inside(current: time, begin: time, finish: time) -> bool:
    if begin > finish:  # overnight, e.g. 21:00-09:00
        return current >= begin or current < finish
    return begin <= current < finish


def in_quiet_hours(now: datetime, zone: str, start: str, end: str) -> datetime | None:
    """When the quiet hours around `now` end (a UTC instant), or None if `now` isn't inside them."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    begin, finish, current = clock(start), clock(end), local.time()
    if begin == finish or not _inside(current, begin, finish):
        return None
    end_day = local.date() + timedelta(days=1) if begin > finish and current >= begin else local.date()
    # Where the clock goes back the end happens twice (fold 0 and 1): the first one after now
    # counts; where it jumps forward fold 0 lands after the gap.
    ends = sorted(datetime.combine(end_day, finish.replace(fold=fold), tzinfo=tz).astimezone(UTC) for fold in (0, 1))
    return next(
        (moment for moment in ends if moment > now and not _inside(moment.astimezone(tz).time(), begin, finish)),
        ends[-1],
    )


def callback_due(asked: datetime, zone: str, start: str, end: str) -> datetime:
    """When a staff call asked for at `asked` falls due: then, if that is in working hours in the
    member's zone (quiet end to quiet start), else when the quiet hours end. A no-answer at 01:59
    retried 4 hours later (05:59, the member's night) is due at the end of the night instead."""
    moment = asked.astimezone(UTC)
    for _ in range(3):  # a daylight-saving jump can put an end of quiet hours inside them again
        until = in_quiet_hours(moment, zone, start, end)
        if until is None:
            return moment
        moment = max(until, moment)
    return moment


def working_hours(start: str, end: str) -> str:
    """The hours staff may call, for messages: "09:00-21:00"."""
    return f"{end}-{start}"


def lapse_seen(source: str | None, occasion: str) -> datetime:
    """The last order a win-back touch was planned on: its source, or (touches planned before the
    source was kept) the end of the day named in its occasion `lapsed:YYYY-MM-DD`."""
    if source and source.startswith(LAST_ORDER):
        return datetime.fromisoformat(source[len(LAST_ORDER) :]).astimezone(UTC)
    day = date.fromisoformat(occasion.split(":", 1)[1])
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def came_back(lapse: datetime, latest_order: datetime | None) -> bool:
    """A member who ordered after the order the win-back was planned on is no longer lapsed."""
    return latest_order is not None and latest_order > lapse


@dataclass(frozen=True)
class Recipient:
    status: str
    gone: bool
    consent: Mapping[str, bool]  # channel (and "marketing") -> given
    sent_this_week: int
    addresses: frozenset[str] = frozenset({"email", "sms", "phone", "push"})  # channels it can be reached on


def suppression(
    recipient: Recipient,
    *,
    channel: str,
    promotional: bool,
    enabled: bool,
    weekly_cap: int,
    service_call: bool = False,
    returned: bool = False,
) -> str | None:
    """Why this touch must not go out, or None. A complaint callback is the member's own request:
    it needs no consent and no marketing consent. `returned`: a win-back whose member ordered since."""
    if recipient.gone:
        return MEMBER_GONE
    if recipient.status == "blocked":
        return MEMBER_BLOCKED
    if not enabled:
        return RULE_DISABLED
    if returned:
        return NO_LONGER_LAPSED
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
