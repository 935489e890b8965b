"""The staff console: the care desk in a browser (/console), in English and Chinese.

Server-rendered pages over the same services the API uses; writes go through the request
lifecycle like the API's (one transaction, the audit log under the signed-in key's name).
"""

from __future__ import annotations

from flask import Flask, request

from loyalty.config import Config
from loyalty.console import i18n
from loyalty.console.cookies import COOKIE_NAME, ConsoleCookies
from loyalty.core import ratelimit_web

SIGN_IN_LIMIT = "30 per minute"


def _pages() -> None:
    # Each module adds its routes to the one blueprint when imported.
    from loyalty.console import (  # noqa: F401
        access,
        campaigns,
        insights,
        member_actions,
        member_page,
        members,
        segments,
        settings,
        settings_rules,
        signin,
        today,
        web,
    )


def install(app: Flask, config: Config) -> None:
    from loyalty.console.access import csrf
    from loyalty.console.blueprint import bp

    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_PATH="/console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Only console forms are checked (in the console's own guard); the JSON API uses bearer keys.
        WTF_CSRF_CHECK_DEFAULT=False,
        # The token lives as long as the session it belongs to, so a page left open still posts.
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.session_interface = ConsoleCookies(config.secret_key)
    csrf.init_app(app)
    i18n.install(app)
    _pages()
    app.register_blueprint(bp)
    # Keys can't be guessed (256 bits); a flood of tries is refused all the same, per address.
    ratelimit_web.limit_view(app, "console.sign_in_post", SIGN_IN_LIMIT, lambda: request.remote_addr or "")
