"""Campaigns in the console: the list, a new draft with a live preview of its message, and a
campaign's page — who it would reach and why not, launch, pause, resume, and its results with a
chart. Every action calls the service function the /v1/campaigns route calls, with the same
schema, so the API's rules (and its `staff` role, which every console key has) hold here too."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as L
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from loyalty.campaigns import preview as previews
from loyalty.campaigns import schemas, segments, service
from loyalty.campaigns.rules import MAX_HOLDOUT_PERCENT
from loyalty.care.templates import SAMPLE, TemplateFailed, problem, render
from loyalty.console import campaign_results
from loyalty.console.blueprint import bp
from loyalty.console.segments import field_errors, number_or_text
from loyalty.console.web import limit_arg, page
from loyalty.core.db import utcnow
from loyalty.core.errors import NotFound, ValidationFailed
from loyalty.core.web import current_actor, request_session
from loyalty.rewards.service import list_rewards

CHANNELS = ("sms", "email", "push", "phone")
NUMBERS = ("gift_points", "send_rate", "conversion_days", "holdout_percent")
CHOICES = 100  # segments and rewards offered in the form's lists (the newest)


@bp.get("/campaigns")
def campaigns() -> ResponseReturnValue:
    found = service.list_campaigns(request_session(), limit=limit_arg(), cursor=request.args.get("cursor"))
    return page("console/campaigns/list.html", found=found)


def _form_data(form: MultiDict) -> dict:
    """The API's create body from the form: empty fields left out (the schema's defaults apply),
    numbers as numbers, the start time read in the program's zone. What can't be read is passed on
    as typed, for the schema to refuse with its own message."""
    data = {name: form.get(name, "") for name in ("name", "segment_id", "channel")}
    data["template"] = form.get("template", "").replace("\r\n", "\n")
    for name in NUMBERS:
        text = form.get(name, "").strip()
        if text:
            data[name] = number_or_text(text)
    if form.get("reward_id"):
        data["reward_id"] = form["reward_id"]
    starts = form.get("starts_at", "").strip()
    if starts:
        try:
            moment = datetime.fromisoformat(starts)
            data["starts_at"] = (
                moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(g.console_timezone))
            ).isoformat()
        except ValueError:
            data["starts_at"] = starts
    return data


def _form_page(form: MultiDict, errors: dict | None = None, status: int = 200):
    session = request_session()
    return page(
        "console/campaigns/new.html",
        status,
        form=form,
        errors=errors or {},
        segments=segments.list_segments(session, limit=CHOICES)["data"],
        rewards=list_rewards(session, limit=CHOICES, active=True)["data"],
        channels=CHANNELS,
        fields=sorted(SAMPLE),
        max_holdout=MAX_HOLDOUT_PERCENT,
        message=_message(form),
    )


@bp.get("/campaigns/new")
def campaign_new() -> ResponseReturnValue:
    return _form_page(
        MultiDict(
            {
                "segment_id": request.args.get("segment_id", ""),
                "channel": "sms",
                "gift_points": "0",
                "send_rate": "1000",
                "conversion_days": "14",
                "holdout_percent": "0",
                "template": _("Hello {{ name }}!"),
            }
        )
    )


def _message(form: MultiDict) -> dict:
    """The draft's message for the segment's first member, or why it can't be made."""
    template = form.get("template", "").replace("\r\n", "\n")
    trouble = problem(template)
    if trouble:
        return {"error": trouble}
    try:
        gift = int(form.get("gift_points") or 0)
    except ValueError:
        gift = 0
    session = request_session()
    try:
        filters = segments.get(session, form.get("segment_id", "")).filters
    except NotFound:
        filters = None
    try:
        if filters is None:
            return {"member": None, "text": render(template, {"gift_points": gift}), "no_segment": True}
        member, text = previews.sample_message(
            session, filters=filters, template=template, gift_points=gift, now=utcnow()
        )
    except TemplateFailed as error:
        return {"error": str(error)}
    return {"member": member, "text": text}


@bp.get("/campaigns/message")
def campaign_message() -> ResponseReturnValue:
    """The live preview of the message (a fragment): 422 with the template's error."""
    message = _message(request.args)
    return page("console/campaigns/_message.html", 422 if message.get("error") else 200, message=message)


@bp.post("/campaigns")
def campaign_create() -> ResponseReturnValue:
    session = request_session()
    try:
        data = schemas.CampaignInSchema().load(_form_data(request.form))
        campaign = service.create(session, data=data, actor=current_actor().label)
    except ValidationError as error:
        return _form_page(request.form, field_errors(error.messages_dict), 422)
    except ValidationFailed as error:
        return _form_page(request.form, field_errors(error.extra.get("errors", {})), 422)
    flash(_("Draft campaign saved. Check who it would reach, then launch it."))
    return redirect(url_for("console.campaign", campaign_id=campaign.id), 303)


@bp.get("/campaigns/<campaign_id>")
def campaign(campaign_id: str) -> ResponseReturnValue:
    session = request_session()
    found = service.results(session, campaign_id=campaign_id)
    try:
        segment = segments.get(session, found["segment_id"])
    except NotFound:  # a finished campaign may name a segment deleted since
        segment = None
    # Who it would reach is read over the whole segment: asked where a decision waits (launch, resume).
    preview = service.preview(session, campaign_id=campaign_id) if found["status"] in ("draft", "paused") else None
    holdout = _has_holdout(found)
    return page(
        "console/campaigns/campaign.html",
        campaign=found,
        segment=segment,
        preview=preview,
        results=campaign_results.figures(found["results"]),
        holdout=holdout,
        chart=campaign_results.chart(found["results"], holdout=holdout),
        comparison=campaign_results.comparison(found["results"]) if holdout else None,
    )


def _has_holdout(campaign: dict) -> bool:
    return bool(campaign["holdout_percent"] or campaign["results"]["held_out"])


def _mover(action: str, done):
    def view(campaign_id):
        service.move(request_session(), campaign_id=campaign_id, action=action)
        flash(str(done))
        return redirect(url_for("console.campaign", campaign_id=campaign_id), 303)

    view.__name__ = f"campaign_{action}"
    return bp.post(f"/campaigns/<campaign_id>/{action}")(view)


_mover("launch", L("Campaign launched: it goes out from its start time at its send rate."))
_mover("pause", L("Campaign paused: nothing more goes out until it resumes."))
_mover("resume", L("Campaign resumed."))
