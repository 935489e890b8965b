"""What a member's answer carries besides the member's own columns: the two referral codes.

The codes belong to `referrals`, above `members`; their source comes through the registry
(`loyalty.registry`, filled by `loyalty.wiring`), so members imports nothing above it. Views that
answer members are decorated with `with_referral_codes`; services stay as they are for every other
caller.
"""

from __future__ import annotations

import functools

from sqlalchemy.orm import Session

from loyalty import registry
from loyalty.core.web import request_session


def add_referral_codes(session: Session, found):
    """Set `share_code` and `referred_by_code` on a member, or on each member of a page."""
    members = found["data"] if isinstance(found, dict) else [found]
    codes = registry.current().referral_codes(session, members)
    for member in members:
        member.share_code = codes[member.id]["share_code"]
        member.referred_by_code = codes[member.id]["referred_by_code"]
    return found


def with_referral_codes(view):
    """The view's member (or page of members) answered with their referral codes."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        return add_referral_codes(request_session(), view(*args, **kwargs))

    return wrapper
