"""Typed business errors and their RFC 9457 problem+json form.

Each error is a class with its HTTP status and a stable machine ``code``;
services raise them and one handler turns them into problem documents, so
views never build error bodies.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

PROBLEM_MEDIA_TYPE = "application/problem+json"


class LoyaltyError(Exception):
    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"
    # Most errors undo the request's work. Some are found by doing work that must stand
    # (a hold discovered to be past its time is released, then capture is refused).
    keep_changes: bool = False

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra
        self.headers: dict[str, str] = {}

    def to_problem(self) -> dict[str, Any]:
        return problem(self.status, self.code, self.title, self.detail, **self.extra)


class ValidationFailed(LoyaltyError):
    status, code, title = 422, "validation_error", "The request is not valid"

    def __init__(self, errors: dict[str, list[str]], detail: str | None = None) -> None:
        fields = ", ".join(sorted(errors))
        super().__init__(detail or f"Invalid fields: {fields}", errors=errors)


class NotFound(LoyaltyError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(LoyaltyError):
    status, code, title = 409, "conflict", "Conflict"


class DuplicateMember(LoyaltyError):
    status, code, title = 409, "duplicate_member", "A member with this identifier exists"


class MemberBlocked(LoyaltyError):
    status, code, title = 403, "member_blocked", "The member is blocked"


class MemberMerged(LoyaltyError):
    status, code, title = 409, "member_merged", "The member was merged into another"


class MemberErased(LoyaltyError):
    status, code, title = 409, "member_erased", "The member was erased"


class InvalidCursor(LoyaltyError):
    status, code, title = 400, "invalid_cursor", "The cursor is not valid"


class IdempotencyKeyReused(LoyaltyError):
    status, code, title = 422, "idempotency_key_reused", "Idempotency-Key was used with a different request"


class IdempotencyInFlight(LoyaltyError):
    status, code, title = 409, "idempotency_in_flight", "A request with this Idempotency-Key is in progress"


class InvalidIdempotencyKey(LoyaltyError):
    status, code, title = 400, "invalid_idempotency_key", "Idempotency-Key is not valid"


# Refusals of the request itself, before any view runs (core/web.py's checks).
class NulInRequest(LoyaltyError):
    status, code, title = 400, "bad_request", "Bad request"


class LengthRequired(LoyaltyError):
    status, code, title = 411, "length_required", "Content-Length required"


class UnsupportedMediaType(LoyaltyError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


def problem_type(code: str) -> str:
    return f"/problems/{code}"


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    # Extras add members; they never overwrite the standard ones.
    body.update({key: value for key, value in extra.items() if key not in body})
    return body


# Codes produced from HTTP-level failures (routing, parsing, limits, auth).
HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed for this API key"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("payload_too_large", "Request body too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("validation_error", "The request is not valid"),
    429: ("rate_limited", "Too many requests"),
    500: ("internal_error", "Internal server error"),
    503: ("unavailable", "Service unavailable"),
}

# What each code means, served at /problems/<code> for people reading errors.
CATALOG: dict[str, str] = {
    "bad_request": "The request could not be understood.",
    "malformed_json": "The body is not valid JSON.",
    "unauthorized": "Send `Authorization: Bearer <key>` with a valid, unrevoked API key.",
    "forbidden": "The API key's role may not use this endpoint.",
    "not_found": "No such resource (or path).",
    "method_not_allowed": "The path exists but not with this method; see the Allow header.",
    "payload_too_large": "The body is over the configured size limit.",
    "unsupported_media_type": "Send JSON with `Content-Type: application/json`.",
    "validation_error": "One or more fields are invalid; `errors` maps each field to its messages.",
    "rate_limited": "Too many requests for this API key; wait `Retry-After` seconds.",
    "internal_error": "Something failed on our side. Quote the request id when reporting it.",
    "unavailable": "The service is not ready.",
    "duplicate_member": "A member with this email, phone or external id exists; `existing_member_id` names it.",
    "member_blocked": "The member is blocked and may not earn or redeem.",
    "member_erased": "The member's personal data was erased on request.",
    "member_merged": "The id names a member merged into another (`survivor_id`); change the survivor instead.",
    "length_required": "Send a Content-Length; chunked request bodies are not accepted.",
    "member_suspended": "The member is suspended and may not redeem.",
    "insufficient_points": "Not enough available points; `available` says how many there are.",
    "order_conflict": "The order id was already posted with other contents; an order awards once.",
    "refund_conflict": "The refund id was already used with other contents.",
    "duplicate_source": "This source already produced an entry of this kind for the member.",
    "out_of_stock": "The reward has no stock left.",
    "reward_unavailable": "The reward is inactive, outside its validity, or above the member's tier.",
    "coupon_unusable": "The coupon was already used, has expired, or was voided when its redemption was reversed "
    "(`reason`: used, expired, void).",
    "redemption_not_reversible": "Only a captured redemption is reversed, and a reward's only while its coupon is "
    "unused (`reason`: not_captured, coupon_used).",
    "redemption_not_held": "The redemption is no longer held (captured, cancelled or expired).",
    "invalid_cursor": "The pagination cursor is not one this service issued.",
    "idempotency_key_reused": "The Idempotency-Key was first used with a different request body.",
    "idempotency_in_flight": "The first request with this Idempotency-Key has not finished; retry later.",
    "invalid_idempotency_key": "Idempotency-Key must be 1-255 printable ASCII characters.",
    "conflict": "The request conflicts with the current state.",
    "not_acceptable": "The requested representation is not available.",
    "http_error": "An HTTP-level refusal without a more specific code; `status` and `title` say which.",
}

# Codes answered for failures that have no class: the body parser's and any HTTP status without its own code.
OTHER_CODES: dict[str, tuple[int | str, str]] = {
    "malformed_json": (400, "Malformed JSON"),
    "http_error": ("4xx", "HTTP error"),
}


class ProblemType(NamedTuple):
    code: str
    status: int | str
    title: str
    description: str


def _error_classes(root: type[LoyaltyError] = LoyaltyError) -> Iterator[type[LoyaltyError]]:
    yield root
    for sub in root.__subclasses__():
        yield from _error_classes(sub)


def registry() -> dict[str, ProblemType]:
    """Every code the service answers, in one place: the HTTP-level codes plus the code of every
    LoyaltyError subclass, wherever it is defined (a new error class is registered by existing, once
    its module is imported; create_app imports them all). /problems/<code> serves exactly these, and
    a test holds the README's table to them. A class may say what its code means in `description`;
    otherwise CATALOG does, or at least its title."""
    found: dict[str, tuple[int | str, str]] = {code: (status, title) for status, (code, title) in HTTP_CODES.items()}
    found.update(OTHER_CODES)
    for cls in _error_classes():
        found.setdefault(cls.code, (cls.status, cls.title))
    described = {cls.code: cls.__dict__["description"] for cls in _error_classes() if "description" in cls.__dict__}
    return {
        code: ProblemType(code, status, title, described.get(code) or CATALOG.get(code) or title)
        for code, (status, title) in sorted(found.items())
    }
