"""Who may see a console page: sign-in, CSRF, roles and the headers every page carries."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect

from loyalty.console import sessions
from loyalty.console.blueprint import bp
from loyalty.core.web import request_session
from loyalty.program.service import settings

ADMIN_ONLY = "_console_admin_only"
PUBLIC = "_console_public"
csrf = CSRFProtect()

# No inline script or style at all (htmx is told not to inject its indicator style); pages and
# their charts use classes and SVG attributes only.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def admin_only(view):
    setattr(view, ADMIN_ONLY, True)
    return view


def public(view):
    setattr(view, PUBLIC, True)
    return view


def _view():
    return current_app.view_functions.get(request.endpoint) if request.endpoint else None


class AdminOnly(Exception):
    """A staff key asked for an admin page."""


@bp.before_request
def _guard():
    program = settings(request_session())
    g.console_timezone, g.console_currency = program.timezone, program.currency
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()  # 400 without the session's token, before anything is read or written
    config = current_app.extensions["loyalty.config"]
    session_id = session.get("sid")
    actor = (
        sessions.current(request_session(), session_id=session_id, idle=timedelta(minutes=config.console_idle_minutes))
        if session_id
        else None
    )
    if actor is None and session_id:
        session.pop("sid", None)
    g.console_actor = actor
    view = _view()
    if view is not None and getattr(view, PUBLIC, False):
        return None
    if actor is None:
        if request.endpoint == "console.today" and request.method == "GET":
            from loyalty.console.signin import sign_in_page

            return sign_in_page(next_path="")  # GET /console signed out: the sign-in form itself
        target = url_for("console.sign_in", next=request.full_path if request.method == "GET" else None)
        if request.headers.get("HX-Request"):
            response = current_app.response_class(status=204)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target, 303)
    g.actor = actor  # the request lifecycle audits writes under this key, as for the API
    if view is not None and getattr(view, ADMIN_ONLY, False) and actor.role != "admin":
        raise AdminOnly()
    return None


@bp.after_request
def _headers(response):
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"  # every page may show a member's personal data
    response.vary.add("Cookie")
    return response


def is_admin() -> bool:
    actor = g.get("console_actor")
    return actor is not None and actor.role == "admin"
