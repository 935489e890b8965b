"""Who may find members how (pure)."""

from __future__ import annotations

# An exact identifier names at most one member: a storefront or till can look up the customer in
# front of it, but can't page through everyone's personal data.
EXACT_IDENTIFIERS = ("member_number", "email", "phone", "external_id")
BROWSING = ("q", "tag", "tier", "status", "cursor")
BROWSING_ROLES = frozenset({"staff", "admin"})


def lookup_refusal(role: str, filters: dict) -> str | None:
    """Why this role may not run this member search, or None when it may."""
    if role in BROWSING_ROLES:
        return None
    browsing = [name for name in BROWSING if filters.get(name) is not None]
    if browsing:
        return (f"Role `{role}` finds members only by an exact identifier; "
                f"{', '.join(browsing)} are for staff and admin keys.")
    if not any(filters.get(name) for name in EXACT_IDENTIFIERS):
        return (f"Role `{role}` finds members only by an exact identifier: "
                f"send one of {', '.join(EXACT_IDENTIFIERS)}.")
    return None
