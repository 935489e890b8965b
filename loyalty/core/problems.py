"""Every error becomes RFC 9457 problem+json with a stable ``code``.

Business errors (LoyaltyError), HTTP errors from routing, parsing and limits,
and unexpected exceptions (logged with the request id, never shown).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, jsonify
from werkzeug.exceptions import HTTPException, InternalServerError

from loyalty.core.errors import HTTP_CODES, OTHER_CODES, LoyaltyError, registry
from loyalty.core.logging import get_logger
from loyalty.core.ratelimit_web import retry_after
from loyalty.core.web import problem_response

log = get_logger("loyalty.errors")


def _flatten(messages: object, prefix: str = "") -> dict[str, list[str]]:
    """webargs' nested {location: {field: [...] | {...}}} -> {"field.sub": [...]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            # marshmallow files object-level errors under "_schema": they belong to the object itself.
            name = (
                prefix
                if key == "_schema" and prefix
                else ("_body" if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key)))
            )
            flat.update(_flatten(value, name))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_body"] = list(messages)
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            flat.update(_flatten(value, f"{prefix}.{index}"))
    else:
        flat[prefix or "_body"] = [str(messages)]
    return flat


def _validation_errors(data: Mapping[str, Any] | None) -> dict[str, list[str]]:
    messages = (data or {}).get("messages") or (data or {}).get("errors") or {}
    # Drop the webargs location level ("json", "query", ...): field names are what callers know.
    merged: dict[str, Any] = {}
    if isinstance(messages, dict):
        for location, fields in messages.items():
            if location in ("json", "query", "path", "headers", "form", "files", "view_args") and isinstance(
                fields, dict
            ):
                merged.update(fields)
            else:
                merged[location] = fields
    return _flatten(merged)


def handle_loyalty_error(error: LoyaltyError) -> Response:
    if error.keep_changes:
        g.keep_changes = True
    body = error.to_problem()
    return problem_response(
        error.status,
        body.pop("code"),
        body.pop("title"),
        body.pop("detail"),
        headers=error.headers,
        **{k: v for k, v in body.items() if k not in ("type", "status")},
    )


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        return handle_unexpected(error)
    code, title = HTTP_CODES.get(status, ("http_error", error.name))  # http_error: see OTHER_CODES
    headers = {k: v for k, v in error.get_headers() if k.lower() not in ("content-type", "content-length")}
    data = getattr(error, "data", None)
    extra: dict[str, Any] = {}
    detail = error.description if isinstance(error.description, str) else title
    if status in (400, 422) and data:
        errors = _validation_errors(data)
        if any("Invalid JSON body." in messages for messages in errors.values()):
            status, code, title = 400, "malformed_json", OTHER_CODES["malformed_json"][1]
            detail = "The request body is not valid JSON."
        else:
            code, title = "validation_error", HTTP_CODES[422][1]
            status = 422
            extra["errors"] = errors
            detail = "Invalid fields: " + ", ".join(sorted(errors))
    if status == 429:
        detail = f"Rate limit exceeded ({error.description}). Retry after the time in Retry-After."
        headers["Retry-After"] = str(retry_after())
    if status == 404:
        detail = "No such resource."
    return problem_response(status, code, title, detail, headers=headers, **extra)


def handle_unexpected(error: Exception) -> Response:
    original = getattr(error, "original_exception", None) or error
    if not isinstance(original, InternalServerError) or original is not error:
        log.error("unhandled_exception", exc_info=original)
    return problem_response(
        500,
        "internal_error",
        "Internal server error",
        f"An unexpected error occurred. Quote request id {g.get('request_id')} when reporting it.",
    )


def problem_catalog(code: str) -> Response:
    """What one error code means (the `type` every problem+json body links to)."""
    known = registry().get(code)
    if known is None:
        return problem_response(404, "not_found", "Not found", f"No problem type `{code}`; see /problems.")
    return jsonify(known._asdict())


def problem_index() -> Response:
    """Every error code the service answers."""
    return jsonify({"data": [known._asdict() for known in registry().values()]})


def install_error_handlers(app: Flask) -> None:
    app.register_error_handler(LoyaltyError, handle_loyalty_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
    app.add_url_rule("/problems", "problem_index", problem_index)
    app.add_url_rule("/problems/<code>", "problem_catalog", problem_catalog)
