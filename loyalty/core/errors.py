"""Typed business errors and their RFC 9457 problem+json form.

Each error is a class with its HTTP status and a stable machine ``code``;
services raise them and one handler turns them into problem documents, so
views never build error bodies.
"""

from __future__ import annotations

from typing import Any

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
    "coupon_unusable": "The coupon was already used or has expired (`reason`).",
    "redemption_not_held": "The redemption is no longer held (captured, cancelled or expired).",
    "invalid_cursor": "The pagination cursor is not one this service issued.",
    "idempotency_key_reused": "The Idempotency-Key was first used with a different request body.",
    "idempotency_in_flight": "The first request with this Idempotency-Key has not finished; retry later.",
    "invalid_idempotency_key": "Idempotency-Key must be 1-255 printable ASCII characters.",
    "conflict": "The request conflicts with the current state.",
    "not_acceptable": "The requested representation is not available.",
}
