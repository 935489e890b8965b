"""Settings (admin): the index of the settings pages, API keys and the audit log.

Keys are made, revoked and rotated by the same functions as `loyalty keys ...`. A new key is
shown once, in the answer to the POST that made it (never in a redirect, a URL or the flash
cookie); only its hash is stored. The request lifecycle audits each POST under the signed-in key
(the revoked or rotated key's prefix is the target); the new key's prefix, which that entry can't
know, gets its own `keys.create` entry as the CLI writes.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import flash, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from loyalty.audit.schemas import AuditQueryArgsSchema
from loyalty.audit.service import list_entries, record
from loyalty.console import sessions
from loyalty.console.access import admin_only
from loyalty.console.blueprint import bp
from loyalty.console.web import day_start, limit_arg, page
from loyalty.core.auth import ROLES, create_key, list_keys, revoke_key, rotate_key
from loyalty.core.db import utcnow
from loyalty.core.errors import NotFound
from loyalty.core.fields import TEXT_PATTERN
from loyalty.core.web import request_session

DEFAULT_GRACE_HOURS = 24  # as `loyalty keys rotate`
MAX_GRACE_HOURS = 24 * 30
AUDIT_FILTERS = ("actor", "action", "target", "from", "to")


@bp.get("/settings")
@admin_only
def settings() -> ResponseReturnValue:
    return page("console/settings/index.html")


def _zone() -> ZoneInfo:
    return ZoneInfo(g.get("console_timezone") or "UTC")


def _start_of(day: str, *, plus_days: int = 0) -> datetime:
    """The start of a typed day (YYYY-MM-DD) in the program's zone; ValueError when it isn't one."""
    return day_start(day, plus_days=plus_days)


# ---- API keys ----------------------------------------------------------------------------------------


def _keys_page(status: int = 200, **context):
    context.setdefault("form", {})
    context.setdefault("errors", {})
    return page(
        "console/settings/keys.html",
        status=status,
        keys=list_keys(request_session()),
        now=utcnow(),
        roles=ROLES,
        **context,
    )


@bp.get("/settings/keys")
@admin_only
def settings_keys() -> ResponseReturnValue:
    return _keys_page()


@bp.post("/settings/keys")
@admin_only
def settings_keys_create() -> ResponseReturnValue:
    form = {name: request.form.get(name, "").strip() for name in ("role", "name", "expires_on")}
    errors: dict[str, list[str]] = {}
    if form["role"] not in ROLES:
        errors["role"] = [_("Choose a role.")]
    if not form["name"] or len(form["name"]) > 100 or not re.match(TEXT_PATTERN, form["name"]):
        errors["name"] = [_("Give the key a name of 1 to 100 characters, without control characters.")]
    expires_at = None
    if form["expires_on"]:
        try:  # the key works to the end of the chosen day in the shop's zone
            expires_at = _start_of(form["expires_on"], plus_days=1)
        except ValueError:
            errors["expires_on"] = [_("Enter a date such as 2026-01-31.")]
        else:
            if expires_at <= utcnow():
                errors["expires_on"] = [_("The expiry must lie in the future.")]
    if errors:
        return _keys_page(422, form=form, errors=errors)
    db = request_session()
    row, key = create_key(db, role=form["role"], name=form["name"], expires_at=expires_at)
    record(db, actor=g.actor, action="keys.create", target=row.prefix, fields=["role", "name"])
    return page("console/settings/keys_new.html", status=201, row=row, key=key, rotated=None)


def _active(prefix: str):
    now = utcnow()
    row = next((k for k in list_keys(request_session()) if k.prefix == prefix), None)
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        raise NotFound(_("There is no active key with this prefix."))
    return row


@bp.get("/settings/keys/<prefix>/revoke")
@admin_only
def settings_key_revoke_confirm(prefix: str) -> ResponseReturnValue:
    return page("console/settings/keys_revoke.html", row=_active(prefix), own=prefix == g.actor.prefix)


@bp.post("/settings/keys/<prefix>/revoke")
@admin_only
def settings_key_revoke(prefix: str) -> ResponseReturnValue:
    own = prefix == g.actor.prefix
    if own and request.form.get("confirm") != prefix:  # only from the page that warned them
        return page("console/settings/keys_revoke.html", status=409, row=_active(prefix), own=True)
    if not revoke_key(request_session(), prefix):
        raise NotFound(_("There is no active key with this prefix."))
    if not own:
        flash(_("Key %(prefix)s was revoked; it no longer works.", prefix=prefix))
        return redirect(url_for("console.settings_keys"), 303)
    # The admin revoked the key they are signed in with: its session ends with it.
    sessions.sign_out(request_session(), session_id=session["sid"])
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    flash(_("You revoked the key you were signed in with, so you are signed out."))
    return redirect(url_for("console.sign_in"), 303)


@bp.get("/settings/keys/<prefix>/rotate")
@admin_only
def settings_key_rotate_confirm(prefix: str) -> ResponseReturnValue:
    return page("console/settings/keys_rotate.html", row=_active(prefix), grace=DEFAULT_GRACE_HOURS, errors={})


@bp.post("/settings/keys/<prefix>/rotate")
@admin_only
def settings_key_rotate(prefix: str) -> ResponseReturnValue:
    row = _active(prefix)
    text = request.form.get("grace_hours", "").strip()
    try:
        grace = float(text)
        if not 0 <= grace <= MAX_GRACE_HOURS:
            raise ValueError(text)
    except ValueError:
        errors = {"grace_hours": [_("Enter a number of hours from 0 to %(most)s.", most=MAX_GRACE_HOURS)]}
        return page("console/settings/keys_rotate.html", status=422, row=row, grace=text[:20], errors=errors)
    db = request_session()
    rotated = rotate_key(db, prefix, grace=timedelta(hours=grace))
    if rotated is None:  # revoked or expired since `_active` read it
        raise NotFound(_("There is no active key with this prefix."))
    old, new, key = rotated
    record(db, actor=g.actor, action="keys.create", target=new.prefix, fields=["role", "name"])
    return page("console/settings/keys_new.html", status=200, row=new, key=key, rotated=old)


# ---- Audit log ---------------------------------------------------------------------------------------


@bp.get("/settings/audit")
@admin_only
def settings_audit() -> ResponseReturnValue:
    typed = {name: request.args.get(name, "").strip() for name in AUDIT_FILTERS}
    args = {name: typed[name] for name in ("actor", "action", "target") if typed[name]}
    errors: dict[str, list[str]] = {}
    for name, plus_days in (("from", 0), ("to", 1)):  # `to` is inclusive: up to the end of that day
        if typed[name]:
            try:
                args[name] = _start_of(typed[name], plus_days=plus_days).isoformat()
            except ValueError:
                errors[name] = [_("Enter a date such as 2026-01-31.")]
    if request.args.get("cursor"):
        args["cursor"] = request.args["cursor"]
    try:
        loaded = AuditQueryArgsSchema().load({**args, "limit": limit_arg()})
    except ma.ValidationError as invalid:
        errors.update({name: [_("This filter is too long.")] for name in invalid.messages})
    if errors:
        return page(
            "console/settings/audit.html", status=422, filters=typed, errors=errors, entries=[], next_cursor=None
        )
    found = list_entries(request_session(), **loaded)
    return page(
        "console/settings/audit.html", filters=typed, errors={}, entries=found["data"], next_cursor=found["next_cursor"]
    )
