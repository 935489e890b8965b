"""Rate limits on the HTTP service, and the `RateLimit-Limit`, `RateLimit-Remaining`,
`RateLimit-Reset` headers (IETF draft-ietf-httpapi-ratelimit-headers) on every answer a limit counted.

One allowance per caller across all of /v1 (keyed by the verified API key, or by address without
one), counted before authentication so that key guessing is limited too. `RateLimit-Reset` is the
seconds until the window resets, as the draft asks (not an epoch timestamp); `Retry-After` is sent on
429s only. Ops endpoints (outside /v1) are not limited and carry none of these headers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g
from werkzeug.exceptions import TooManyRequests

from loyalty.core.ratelimit import Allowance, RateLimiter
from loyalty.core.web import request_state, this_request

LIMITER = "loyalty.limiter"


class RateLimited(TooManyRequests):
    """Over the allowance; its description names the limit (the problem+json detail quotes it)."""


def install(app: Flask, limiter: RateLimiter, limit: str, key: Callable[[], str]) -> None:
    items = limiter.parse(limit)
    app.extensions[LIMITER] = limiter

    def count_api_request() -> None:
        if this_request().path.startswith("/v1/"):
            _enforce(limiter.hit(items, key()), limit)

    app.before_request(count_api_request)
    app.after_request(_add_headers)


def limit_view(app: Flask, endpoint: str, limit: str, key: Callable[[], str]) -> None:
    """A limit of its own on one view (the console's sign-in, per address), counted apart from /v1's."""
    limiter: RateLimiter | None = app.extensions.get(LIMITER)
    if limiter is None:  # limits are off
        return
    items, view = limiter.parse(limit), app.view_functions[endpoint]

    @functools.wraps(view)
    def limited(*args: Any, **kwargs: Any) -> Any:
        _enforce(limiter.hit(items, f"{endpoint}:{key()}"), limit)
        return view(*args, **kwargs)

    app.view_functions[endpoint] = limited


def retry_after() -> int:
    """Seconds until the refused caller's window resets (for the 429's Retry-After)."""
    allowance: Allowance | None = g.get("rate_limit")
    return allowance.reset if allowance is not None else 1


def _enforce(allowance: Allowance, limit: str) -> None:
    request_state().rate_limit = allowance
    if not allowance.allowed:
        raise RateLimited(limit)


def _add_headers(response: Response) -> Response:
    allowance: Allowance | None = request_state().get("rate_limit")
    if allowance is None:
        return response
    # Added, not set: nothing else writes these, and setting scans the headers for an earlier one.
    response.headers.add("RateLimit-Limit", str(allowance.limit))
    response.headers.add("RateLimit-Remaining", str(allowance.remaining if allowance.allowed else 0))
    response.headers.add("RateLimit-Reset", str(allowance.reset))
    return response
