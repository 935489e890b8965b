"""Rendering helpers shared by every console page: the page frame, paging, errors."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import g, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from loyalty.console import access, i18n
from loyalty.console.blueprint import bp
from loyalty.console.labels import error_title
from loyalty.core.errors import LoyaltyError
from loyalty.core.web import request_session

PAGE_SIZE = 25


def page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """A whole page (or, for an htmx request that names a target, the same template: templates
    extend console/base.html, which renders only the main block for htmx)."""
    context.setdefault("actor", g.get("console_actor"))
    context.setdefault("is_admin", access.is_admin())
    context.setdefault("language", i18n.language())
    context.setdefault("languages", i18n.LANGUAGES)
    return render_template(template, **context), status


def htmx() -> bool:
    return bool(request.headers.get("HX-Request"))


def limit_arg(default: int = PAGE_SIZE) -> int:
    try:
        return max(1, min(100, int(request.args.get("limit", default))))
    except ValueError:
        return default


def _error_page(status: int, code: str, detail: str | None, errors: dict | None = None):
    return page(
        "console/error.html",
        status=status,
        status_code=status,
        title=error_title(code),
        code=code,
        detail=detail,
        errors=errors or {},
    )


@bp.errorhandler(LoyaltyError)
def _loyalty_error(error: LoyaltyError):
    return _error_page(error.status, error.code, error.detail, error.extra.get("errors"))


@bp.errorhandler(access.AdminOnly)
def _admin_only(_error):
    return _error_page(403, "admin_only", _("This page is for admin keys only."))


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    code = "csrf_failed" if error.__class__.__name__ == "CSRFError" else f"http_{error.code}"
    return _error_page(error.code or 500, code, None)


def tier_name(code: str | None) -> str:
    """A tier's name as the shop set it (its code when the ladder no longer has it), read once per request."""
    if not code:
        return "—"
    names = g.get("_console_tier_names")
    if names is None:
        from loyalty.tiers.service import get_ladder

        names = g._console_tier_names = {tier.code: tier.name for tier in get_ladder(request_session())["tiers"]}
    return names.get(code) or code


def assignee_name(assignee: str | None) -> str:
    """Who a callback is assigned to, as staff know them: "you", a key's name for `key:<prefix>`
    (what claiming writes), or the text someone typed."""
    if not assignee:
        return "—"
    actor = g.get("console_actor")
    if actor is not None and assignee in (actor.label, actor.name):
        return _("you")
    if assignee.startswith("key:"):
        from sqlalchemy import select

        from loyalty.core.models import ApiKey

        name = request_session().scalar(select(ApiKey.name).where(ApiKey.prefix == assignee[4:]))
        return name or assignee
    return assignee


@bp.context_processor
def _shared_helpers() -> dict:
    return {"tier_name": tier_name, "assignee_name": assignee_name}


def day_start(text: str, *, plus_days: int = 0) -> datetime:
    """A day typed in a form (YYYY-MM-DD) as the start of that day, or of a later one, in the program's
    time zone (where the shop's days begin). ValueError for anything else, including days so far off
    (before 1900, after 2199) that adding to them would leave the calendar."""
    day = date.fromisoformat(text.strip())
    if not 1900 <= day.year < 2200:
        raise ValueError("out of range")
    return datetime.combine(day + timedelta(days=plus_days), time(), ZoneInfo(g.get("console_timezone") or "UTC"))


def console_path(target: str | None) -> str | None:
    """`target` when it is a path of the console's own to go back to after a form, else None: never
    another host or scheme, never a dot segment that a browser would resolve out of /console,
    never a control character (a header can't carry it)."""
    if not target or len(target) > 2000 or "\\" in target or "//" in target:
        return None
    if any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    path, _, _query = target.partition("?")
    segments = path.lower().replace("%2e", ".").split("/")
    if any(segment in (".", "..") for segment in segments):
        return None
    if path != "/console" and not path.startswith("/console/"):
        return None
    return target.rstrip("?")
