"""Pure campaign decisions: who is held out, and what a campaign achieved against the hold-out.

The hold-out is the "check" of plan-do-check-act: members of the segment who are not contacted,
so the orders of the contacted can be compared with what would have happened anyway.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

MAX_HOLDOUT_PERCENT = 50
RATE = Decimal("0.0001")
# campaigns.run fires every minute in every scheduler process; firings of one minute fall within a
# few seconds of each other, the next minute's 60 s later.
FAN_OUT_EVERY = timedelta(seconds=50)


def held_out(campaign_id: str, member_id: str, percent: int) -> bool:
    """Is this member in the campaign's hold-out? A hash of the two ids against the percentage:
    random across members (campaign ids are random), yet the same answer every time it is asked,
    so preview, fan-out and a second run agree, and the fan-out records it on the member's touch."""
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"{campaign_id}:{member_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000 < percent * 100


def rate(part: int, whole: int) -> Decimal | None:
    """part / whole to 4 places; None when there is nobody to divide by."""
    return (Decimal(part) / Decimal(whole)).quantize(RATE) if whole else None


def lift(*, contacted: int, converted: int, held: int, converted_held: int) -> dict[str, Decimal | None]:
    """Conversion of the contacted and of the hold-out, and the difference the contact made:
    `lift` in absolute terms (0.0500 = five percentage points), `relative_lift` as a share of the
    hold-out's rate. None where a group is empty (or, for the relative lift, converted nobody)."""
    contacted_rate, held_rate = rate(converted, contacted), rate(converted_held, held)
    if not contacted or not held:
        return {
            "conversion_rate": contacted_rate,
            "conversion_rate_held_out": held_rate,
            "lift": None,
            "relative_lift": None,
        }
    # From the exact fractions, rounded once at the end (rounded rates made 3/6 vs 1/6 a 1.9994 lift).
    exact_contacted, exact_held = Fraction(converted, contacted), Fraction(converted_held, held)
    absolute = _decimal(exact_contacted - exact_held)
    relative = _decimal((exact_contacted - exact_held) / exact_held) if converted_held else None
    return {
        "conversion_rate": contacted_rate,
        "conversion_rate_held_out": held_rate,
        "lift": absolute,
        "relative_lift": relative,
    }


def _decimal(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(RATE)


def fan_out_due(fanned_at: datetime | None, now: datetime) -> bool:
    """May a campaign fan out its next `send_rate` touches now? Not when a full page went out less
    than a minute's firing ago (another process's run of the same minute): the rate is per minute
    for all processes together. After a short page (the segment ran out) the next run may look again."""
    return fanned_at is None or now - fanned_at >= FAN_OUT_EVERY or now < fanned_at
