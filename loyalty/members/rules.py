"""Who may find members how (pure)."""

from __future__ import annotations

from collections.abc import Mapping

# An exact identifier names at most one member: a storefront or till can look up the customer in
# front of it, but can't page through everyone's personal data.
EXACT_IDENTIFIERS = ("member_number", "email", "phone", "external_id")
BROWSING = ("q", "tag", "tier", "status", "cursor")
BROWSING_ROLES = frozenset({"staff", "admin"})


def lookup_refusal(role: str, filters: Mapping[str, object]) -> str | None:
    """Why this role may not run this member search, or None when it may."""
    if role in BROWSING_ROLES:
        return None
    browsing = [name for name in BROWSING if filters.get(name) is not None]
    if browsing:
        return (
            f"Role `{role}` finds members only by an exact identifier; "
            f"{', '.join(browsing)} are for staff and admin keys."
        )
    if not any(filters.get(name) for name in EXACT_IDENTIFIERS):
        return f"Role `{role}` finds members only by an exact identifier: send one of {', '.join(EXACT_IDENTIFIERS)}."
    return None


def may_read_replica(filters: Mapping[str, object]) -> bool:
    """Browsing (name fragment, tag, tier, status, or everyone) may be answered from the read replica,
    a moment behind. A search by exact identifier may not: integrations look a member up that way
    right after enrolling them, or to decide whether to enrol them at all."""
    return not any(filters.get(name) for name in EXACT_IDENTIFIERS)
