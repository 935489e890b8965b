"""Pure decisions about referrals: codes, self-referral, when a referral qualifies or is refused.

No Flask, SQLAlchemy or marshmallow here, so every reason a referral is refused is tested on
its own. A referral pays only for a real customer: someone new, not the referrer under another
address, whose first order of at least the minimum was kept through the return window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

# No 0/O, 1/I/L: codes are read aloud, printed on cards and typed on phones.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
_SEPARATORS = re.compile(r"[\s\-_.]")
# Providers that deliver mail for "f.o.o" to "foo": the dots don't make another person.
DOTLESS_DOMAINS = {"gmail.com", "googlemail.com"}

# Why a referral was refused (stable codes, in the API).
UNKNOWN_CODE = "unknown_code"
SELF_REFERRAL = "self_referral"
REFEREE_ALREADY_MEMBER = "referee_already_member"
REFEREE_HAD_ORDERED = "referee_had_ordered"
REFERRER_BLOCKED = "referrer_blocked"
REFERRER_SUSPENDED = "referrer_suspended"
MONTHLY_CAP = "monthly_cap_reached"
TOTAL_CAP = "total_cap_reached"
ORDER_REFUNDED = "order_refunded"
REFEREE_BLOCKED = "referee_blocked"
REFERRER_GONE = "referrer_gone"  # erased on request: they earn nothing more
REASONS = (
    UNKNOWN_CODE,
    SELF_REFERRAL,
    REFEREE_ALREADY_MEMBER,
    REFEREE_HAD_ORDERED,
    REFERRER_BLOCKED,
    REFERRER_SUSPENDED,
    MONTHLY_CAP,
    TOTAL_CAP,
    ORDER_REFUNDED,
    REFEREE_BLOCKED,
    REFERRER_GONE,
)
# A purchase made at the sign-up itself (checkout enrols and orders at once) is not "before" it.
SIGNUP_GRACE = timedelta(minutes=30)


def canonical_code(text: str | None) -> str | None:
    """A code as typed, upper-cased and without spaces, dashes, dots or underscores (whether or not it
    is one this program issued): how a member's `referred_by_code` is answered."""
    return (_SEPARATORS.sub("", text).upper() or None) if text else None


def normalise_code(text: str | None) -> str | None:
    """A code as typed (any case, with spaces or dashes) in its stored form; None if it can't be one."""
    code = canonical_code(text)
    if not code or len(code) != CODE_LENGTH or any(char not in ALPHABET for char in code):
        return None
    return code


def canonical_email(email: str | None) -> str | None:
    """The mailbox an address delivers to: `+tags` dropped, dots dropped where the provider ignores them."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


@dataclass(frozen=True)
class Person:
    """What tells two members apart for referral purposes."""

    member_id: str
    status: str = "active"
    phone: str | None = None
    email: str | None = None
    external_id: str | None = None


def is_self_referral(referrer: Person, referee: Person) -> bool:
    if referrer.member_id == referee.member_id:
        return True

    def same(a: str | None, b: str | None) -> bool:
        return a is not None and b is not None and a == b

    return (
        same(referrer.phone, referee.phone)
        or same(referrer.external_id, referee.external_id)
        or same(canonical_email(referrer.email), canonical_email(referee.email))
    )


def refusal_at_signup(referrer: Person | None, referee: Person) -> str | None:
    """Why a sign-up with a code makes no pending referral; None: it does."""
    if referrer is None:
        return UNKNOWN_CODE
    if is_self_referral(referrer, referee):
        return SELF_REFERRAL
    return _referrer_refusal(referrer)


def _referrer_refusal(referrer: Person) -> str | None:
    if referrer.status == "erased":
        return REFERRER_GONE
    if referrer.status == "blocked":
        return REFERRER_BLOCKED
    if referrer.status == "suspended":
        return REFERRER_SUSPENDED
    return None


@dataclass(frozen=True)
class FirstOrder:
    """The referee's first order of at least the minimum amount."""

    order_id: str
    placed_at: datetime
    kept_from: datetime  # the end of its return window (its points' available_at)
    fully_refunded: bool


@dataclass(frozen=True)
class Caps:
    monthly: int | None
    total: int | None


@dataclass(frozen=True)
class Verdict:
    status: str  # pending (not yet), qualified, rejected
    reason: str | None = None
    order_id: str | None = None


def qualification(
    *,
    referrer: Person,
    referee: Person,
    referred_at: datetime,
    first: FirstOrder | None,
    ordered_before: bool,
    now: datetime,
    caps: Caps,
    rewarded_this_month: int,
    rewarded_ever: int,
) -> Verdict:
    """Where a pending referral stands as of `now`."""
    if ordered_before:
        return Verdict("rejected", REFEREE_HAD_ORDERED)
    if first is None:
        return Verdict("pending")
    if first.fully_refunded:
        return Verdict("rejected", ORDER_REFUNDED, first.order_id)
    if first.kept_from > now:
        return Verdict("pending")  # still inside the return window
    refusal = _referrer_refusal(referrer) or (SELF_REFERRAL if is_self_referral(referrer, referee) else None)
    if refusal is None and referee.status == "blocked":
        refusal = REFEREE_BLOCKED  # a blocked member earns nothing, a welcome reward included
    if refusal is None and caps.total is not None and rewarded_ever >= caps.total:
        refusal = TOTAL_CAP
    if refusal is None and caps.monthly is not None and rewarded_this_month >= caps.monthly:
        refusal = MONTHLY_CAP
    if refusal is not None:
        return Verdict("rejected", refusal, first.order_id)
    return Verdict("qualified", None, first.order_id)
