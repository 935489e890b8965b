"""Which writes the audit log keeps, and how a body becomes field names (pure)."""

from __future__ import annotations

from typing import Any

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Settings that change what every member gets are audited whoever changes them.
ALWAYS_AUDITED_PATHS = ("/v1/program", "/v1/tiers", "/v1/care/rules", "/v1/webhooks")
# A storefront may change a member's contact fields (its customer's own profile page): kept, so a
# changed email or phone can always be traced to the key that changed it.
STOREFRONT_AUDITED_ACTIONS = frozenset({"members.update_member"})
_MAX_FIELDS = 50


def should_record(*, role: str, method: str, rule: str, action: str) -> bool:
    if method not in WRITE_METHODS:
        return False
    if role in ("staff", "admin"):
        return True
    if any(rule == path or rule.startswith(path + "/") for path in ALWAYS_AUDITED_PATHS):
        return True
    return action in STOREFRONT_AUDITED_ACTIONS


def field_names(body: Any) -> list[str]:
    """The names of the fields a JSON body sets, one level of nesting dotted (`consent.sms`).

    Names only: the values are what an erasure must be able to remove, so they never come here.
    A name is kept only when it is a plausible field name, so a body can't smuggle values in as keys.
    """
    if not isinstance(body, dict):
        return []
    names: list[str] = []
    for key, value in body.items():
        if not _plausible(key):
            continue
        if isinstance(value, dict) and value:
            names.extend(f"{key}.{sub}" for sub in value if _plausible(sub))
        else:
            names.append(key)
    return sorted(set(names))[:_MAX_FIELDS]


def _plausible(name: Any) -> bool:
    return (
        isinstance(name, str)
        and 0 < len(name) <= 40
        and name.replace("_", "").isascii()
        and name.replace("_", "").isalnum()
    )
