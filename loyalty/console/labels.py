"""Words the console shows for the service's codes (error codes, statuses, roles, channels).

The service speaks in stable codes; a page shows them in the reader's language. A code without
a label here is shown as it is, and tests/console/test_translations.py fails on any code the
service can produce that is missing.
"""

from __future__ import annotations

import re

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as L

_ERRORS = {
    "admin_only": L("Admin keys only"),
    "bad_request": L("The request could not be understood"),
    "conflict": L("This conflicts with the current state"),
    "coupon_unusable": L("The coupon can't be used"),
    "csrf_failed": L("The form expired or did not come from this console; reload the page and try again"),
    "duplicate_member": L("A member with this identifier exists"),
    "duplicate_source": L("This was already recorded"),
    "forbidden": L("Not allowed for this key"),
    "http_400": L("The request could not be understood"),
    "http_403": L("Not allowed for this key"),
    "http_404": L("Not found"),
    "http_405": L("Not allowed here"),
    "http_413": L("The form is too large"),
    "http_429": L("Too many attempts; wait a minute"),
    "http_500": L("Something went wrong; nothing was changed"),
    "insufficient_points": L("Not enough points"),
    "internal_error": L("Something went wrong; nothing was changed"),
    "invalid_cursor": L("This page link is no longer valid"),
    "member_blocked": L("The member is blocked"),
    "member_erased": L("The member was erased"),
    "member_merged": L("The member was merged into another"),
    "member_suspended": L("The member is suspended"),
    "not_found": L("Not found"),
    "order_conflict": L("This order id was recorded with other contents"),
    "out_of_stock": L("The reward is out of stock"),
    "redemption_not_held": L("The redemption is no longer held"),
    "redemption_not_reversible": L("The redemption can't be reversed"),
    "refund_conflict": L("This refund id was used with other contents"),
    "reward_unavailable": L("The reward can't be redeemed now"),
    "segment_in_use": L("Campaigns use this segment"),
    "unavailable": L("The service is unavailable; try again shortly"),
    "validation_error": L("Some fields are not valid"),
}

WORDS = {
    # member status
    "active": L("active"),
    "suspended": L("suspended"),
    "blocked": L("blocked"),
    # roles
    "staff": L("staff"),
    "admin": L("admin"),
    "pos": L("POS"),
    "storefront": L("storefront"),
    # channels
    "email": L("email"),
    "sms": L("SMS"),
    "phone": L("phone"),
    "push": L("push"),
    "marketing": L("marketing"),
    # lifecycle stages
    "new": L("new"),
    "at_risk": L("at risk"),
    "lapsed": L("lapsed"),
    "prospect": L("prospect"),
    # gender (members/schemas.py GENDERS)
    "female": L("female"),
    "male": L("male"),
    "other": L("other"),
    "undisclosed": L("undisclosed"),
}

# Insights (touch kinds, statuses and outcomes; referral statuses and reasons; campaign statuses).
# Added only where no other area named the code first, so the areas' additions can't collide.
for _code, _label in {
    "birthday": L("birthday"),
    "holiday": L("holiday"),
    "anniversary": L("anniversary"),
    "follow_up": L("follow-up"),
    "complaint_callback": L("complaint callback"),
    "win_back": L("win-back"),
    "campaign": L("campaign"),
    "planned": L("planned"),
    "sent": L("sent"),
    "suppressed": L("suppressed"),
    "callback": L("callback"),
    "done": L("done"),
    "failed": L("failed"),
    "held_out": L("held out"),
    "reached": L("reached"),
    "no_answer": L("no answer"),
    "call_back_later": L("call back later"),
    "responded": L("responded"),
    "not_interested": L("not interested"),
    "pending": L("pending"),
    "qualified": L("qualified"),
    "rejected": L("rejected"),
    "unknown_code": L("unknown code"),
    "self_referral": L("self-referral"),
    "referee_already_member": L("already a member"),
    "referee_had_ordered": L("had ordered before"),
    "referrer_blocked": L("referrer blocked"),
    "referrer_suspended": L("referrer suspended"),
    "monthly_cap_reached": L("monthly cap reached"),
    "total_cap_reached": L("total cap reached"),
    "order_refunded": L("order refunded"),
    "referee_blocked": L("new member blocked"),
    "referrer_gone": L("referrer erased"),
    "cli": L("command line"),
    "draft": L("draft"),
    "running": L("running"),
    "paused": L("paused"),
    "finished": L("finished"),
}.items():
    WORDS.setdefault(_code, _label)
del _code, _label

# Member actions (interaction kinds and channels, callback outcomes); added only where no other area named them.
for _code, _label in {
    "call": L("call"),
    "message": L("message"),
    "visit": L("visit"),
    "complaint": L("complaint"),
    "feedback": L("feedback"),
    "note": L("note"),
    "in_store": L("in store"),
    "chat": L("chat"),
    "reached": L("reached"),
    "no_answer": L("no answer"),
    "call_back_later": L("call back later"),
    "responded": L("responded"),
    "not_interested": L("not interested"),
}.items():
    WORDS.setdefault(_code, _label)
del _code, _label

# Campaigns (campaign statuses; why a touch is held back, care.rules); added only where no other area named them.
for _code, _label in {
    "draft": L("draft"),
    "running": L("running"),
    "paused": L("paused"),
    "finished": L("finished"),
    "member_blocked": L("member blocked"),
    "member_gone": L("member erased or merged"),
    "rule_disabled": L("rule switched off"),
    "no_consent": L("no consent for the channel"),
    "no_marketing_consent": L("no marketing consent"),
    "no_address": L("no address for the channel"),
    "weekly_cap": L("weekly limit reached"),
    "no_longer_lapsed": L("ordered again since"),
}.items():
    WORDS.setdefault(_code, _label)
del _code, _label

# Today and the member page (tier change reasons, interaction channels), added the same way.
for _code, _label in {
    "retention_ended": L("kept period ended"),
    "floor_set": L("floor set by staff"),
    "floor_ended": L("floor ended"),
    "floor_removed": L("floor lifted"),
    "merged": L("merged"),
    "renewed": L("kept another period"),
    "ladder": L("ladder changed"),
    "in_store": L("in store"),
    "chat": L("chat"),
}.items():
    WORDS.setdefault(_code, _label)
del _code, _label


def error_title(code: str) -> str:
    label = _ERRORS.get(code)
    return str(label) if label is not None else _("The action could not be done")


def word(code: str | None) -> str:
    if code is None:
        return "—"
    label = WORDS.get(code)
    return str(label) if label is not None else code


def known_error_codes() -> set[str]:
    return set(_ERRORS)


# The validation messages of marshmallow's fields and validators, as the API's schemas give them.
# A business rule's own message (from a service) is shown as the service wrote it.
_MESSAGES = {
    "Missing data for required field.": L("Required."),
    "Field may not be null.": L("Required."),
    "Unknown field.": L("Unknown field."),
    "Not a valid integer.": L("Enter a whole number."),
    "Not a valid number.": L("Enter a number."),
    "Not a valid string.": L("Enter text."),
    "Not a valid boolean.": L("Choose yes or no."),
    "Not a valid date.": L("Enter a date (YYYY-MM-DD)."),
    "Not a valid datetime.": L("Enter a date and time."),
    "Not a valid email address.": L("Enter a valid email address."),
    "Not a valid URL.": L("Enter a valid URL."),
    "Not a valid list.": L("Enter a list."),
    "String does not match expected pattern.": L("The format is not valid."),
    "Invalid value.": L("The value is not valid."),
    "Shorter than minimum length 1.": L("Required."),
}
_PATTERNS = [
    (re.compile(r"^Must be one of: (?P<a>.+)\.$"), L("Choose one of: %(a)s.")),
    (re.compile(r"^Length must be between (?P<a>\d+) and (?P<b>\d+)\.$"), L("Between %(a)s and %(b)s characters.")),
    (re.compile(r"^Shorter than minimum length (?P<a>\d+)\.$"), L("At least %(a)s characters.")),
    (re.compile(r"^Longer than maximum length (?P<a>\d+)\.$"), L("At most %(a)s characters.")),
    (
        re.compile(r"^Must be greater than or equal to (?P<a>\S+) and less than or equal to (?P<b>\S+)\.$"),
        L("From %(a)s to %(b)s."),
    ),
    (re.compile(r"^Must be greater than or equal to (?P<a>\S+)\.$"), L("At least %(a)s.")),
    (re.compile(r"^Must be less than or equal to (?P<a>\S+)\.$"), L("At most %(a)s.")),
    (re.compile(r"^Must be greater than (?P<a>\S+)\.$"), L("More than %(a)s.")),
    (re.compile(r"^Must be less than (?P<a>\S+)\.$"), L("Less than %(a)s.")),
]


def message(text: object) -> str:
    """A validation message in the reader's language where it is one of marshmallow's own (in
    English, the API's own words, so the console and the API say the same)."""
    text = str(text)
    if str(get_locale() or "en") == "en":
        return text
    label = _MESSAGES.get(text)
    if label is not None:
        return str(label)
    for pattern, translated in _PATTERNS:
        found = pattern.match(text)
        if found:
            return str(translated) % found.groupdict()
    return text
