"""Words the console shows for the service's codes (error codes, statuses, roles, channels).

The service speaks in stable codes; a page shows them in the reader's language. A code without
a label here is shown as it is, and tests/console/test_translations.py fails on any code the
service can produce that is missing.
"""

from __future__ import annotations

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
    "active": L("active"), "suspended": L("suspended"), "blocked": L("blocked"),
    # roles
    "staff": L("staff"), "admin": L("admin"), "pos": L("POS"), "storefront": L("storefront"),
    # channels
    "email": L("email"), "sms": L("SMS"), "phone": L("phone"), "push": L("push"), "marketing": L("marketing"),
    # lifecycle stages
    "new": L("new"), "at_risk": L("at risk"),
    "lapsed": L("lapsed"), "prospect": L("prospect"),
}


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
