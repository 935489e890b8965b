"""`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (IETF draft-ietf-httpapi-ratelimit-headers)
on every response the limiter counted.

Not Flask-Limiter's own `headers_enabled`: it sends `RateLimit-Reset` as an epoch timestamp where the
draft asks for seconds until the window resets, and adds `Retry-After` to every answer, not only to
429s. Here: one window read from the counter storage per limited request (a dict lookup with
`memory://`, one round trip with Redis); ops endpoints, which the limiter skips, carry none.
"""

from __future__ import annotations

import math
import time

from flask import Flask, Response
from flask_limiter import Limiter

from loyalty.core.logging import get_logger

log = get_logger("loyalty.ratelimit")


def install(app: Flask, limiter: Limiter) -> None:
    @app.after_request
    def add_rate_limit_headers(response: Response) -> Response:
        current = limiter.current_limit if limiter.enabled else None
        if current is None:
            return response
        try:
            # Fixed window: (when the window's counter expires, what is left of it after this request).
            reset_at, remaining = current.window
        except Exception as error:
            log.warning("rate_limit_headers_unavailable", error=type(error).__name__)
            return response
        retry_after = response.headers.get("Retry-After") if response.status_code == 429 else None
        reset = int(retry_after) if retry_after and retry_after.isdigit() else max(0, math.ceil(reset_at - time.time()))
        response.headers["RateLimit-Limit"] = str(current.limit.amount)
        response.headers["RateLimit-Remaining"] = str(0 if response.status_code == 429 else max(0, remaining))
        response.headers["RateLimit-Reset"] = str(reset)
        return response
