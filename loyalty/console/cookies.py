"""The console's cookie: Flask's signed session, scoped to /console, holding a random session id,
the CSRF token and the chosen language; nothing else, and never the API key."""

from __future__ import annotations

import threading

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

from loyalty.console.sessions import cookie_secret

COOKIE_NAME = "loyalty_console"


class ConsoleCookies(SecureCookieSessionInterface):
    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._lock = threading.Lock()

    def _signing_secret(self, app: Flask) -> str:
        if not self._secret:
            with self._lock:
                if not self._secret:
                    with app.extensions["loyalty.db"].unit_of_work() as session:
                        self._secret = cookie_secret(session)
        return self._secret

    def get_signing_serializer(self, app: Flask):
        app.secret_key = self._signing_secret(app)
        return super().get_signing_serializer(app)

    def open_session(self, app: Flask, request_):
        # The API never reads this cookie: its requests get an empty session without touching the
        # serializer, so the POS lookup pays nothing for the console.
        if not request_.path.startswith("/console"):
            return self.session_class()
        return super().open_session(app, request_)

    def save_session(self, app: Flask, session, response) -> None:
        if not request.path.startswith("/console"):
            return
        super().save_session(app, session, response)

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure  # Secure whenever the console is served over https
