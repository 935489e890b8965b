"""Signing in and out, and choosing the language."""

from __future__ import annotations

from flask import current_app, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from loyalty.console import sessions
from loyalty.console.access import public
from loyalty.console.blueprint import bp
from loyalty.console.i18n import LANGUAGES
from loyalty.console.web import console_path, page
from loyalty.core.web import request_session

_REFUSALS = {
    "invalid": lambda: _("This key is not valid. Check that it was copied whole."),
    "revoked": lambda: _("This key was revoked. Ask an admin for a new one."),
    "expired": lambda: _("This key has expired. Ask an admin for a new one."),
    "role": lambda: _(
        "Only staff and admin keys can sign in to the console; POS and storefront keys are for the till and the shop."
    ),
}


def _safe_next(target: str | None) -> str:
    """Only a console path of ours (no open redirect, no way out of /console)."""
    return console_path(target) or url_for("console.today")


@bp.get("/sign-in")
@public
def sign_in() -> ResponseReturnValue:
    if g.get("console_actor") is not None:
        return redirect(_safe_next(request.args.get("next")), 303)
    return sign_in_page(next_path=request.args.get("next", ""))


def sign_in_page(*, next_path: str, error: str | None = None, status: int = 200):
    return page("console/sign_in.html", status=status, error=error, next=next_path)


@bp.post("/sign-in")
@public
def sign_in_post() -> ResponseReturnValue:
    try:
        signed_in = sessions.sign_in(
            request_session(),
            api_key=request.form.get("api_key", "")[:200],
            verifier=current_app.extensions["loyalty.keys"],
        )
    except sessions.SignInRefused as refused:
        return sign_in_page(next_path=request.form.get("next", ""), error=_REFUSALS[refused.reason](), status=401)
    language = session.get("lang")
    session.clear()  # a new session id and a new CSRF token: nothing from before sign-in carries over
    if language:
        session["lang"] = language
    session["sid"] = signed_in.session_id
    g.actor = signed_in.actor  # the sign-in itself is in the audit log, under the key that signed in
    return redirect(_safe_next(request.form.get("next")), 303)


@bp.post("/sign-out")
@public
def sign_out() -> ResponseReturnValue:
    if session.get("sid"):
        sessions.sign_out(request_session(), session_id=session["sid"])
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    return redirect(url_for("console.sign_in"), 303)


@bp.post("/language")
@public
def choose_language() -> ResponseReturnValue:
    chosen = request.form.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
    return redirect(_safe_next(request.form.get("next")), 303)
