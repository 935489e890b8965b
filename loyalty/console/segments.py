"""Segments in the console: build one with a form (every filter the API has) and watch who it
holds as the filters change, save it, read it. The form is turned into the API's filters and
validated by the API's own schema, so a filter means the same here and in /v1/segments."""

from __future__ import annotations

from babel.dates import get_month_names
from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as L
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from loyalty.campaigns import preview, segments
from loyalty.campaigns.segment_schemas import SegmentFiltersSchema, SegmentInSchema
from loyalty.console.blueprint import bp
from loyalty.console.labels import word
from loyalty.console.web import limit_arg, page
from loyalty.core.db import utcnow
from loyalty.core.errors import ValidationFailed
from loyalty.core.web import current_actor, request_session
from loyalty.insights.models import STAGES
from loyalty.members.models import CONSENT_KEYS, STATUSES
from loyalty.members.service import people
from loyalty.tiers.service import ladder

SAMPLE = 10
LISTS = ("tiers", "statuses", "stages", "birthday_months")  # checkboxes
WORD_LISTS = ("tags", "cities")  # typed, comma separated
NUMBERS = ("r_min", "r_max", "f_min", "f_max", "m_min", "m_max", "age_min", "age_max", "balance_min", "balance_max")
TEXTS = ("last_order_after", "last_order_before", "spend_12m_min", "enrolled_after", "enrolled_before")
LABELS = {
    "name": L("Name"),
    "tiers": L("Tiers"),
    "statuses": L("Statuses"),
    "stages": L("Lifecycle stages"),
    "tags": L("Tags"),
    "cities": L("Cities"),
    "r_min": L("Recency score from"),
    "r_max": L("Recency score to"),
    "f_min": L("Frequency score from"),
    "f_max": L("Frequency score to"),
    "m_min": L("Monetary score from"),
    "m_max": L("Monetary score to"),
    "last_order_after": L("Last order on or after"),
    "last_order_before": L("No order since"),
    "spend_12m_min": L("Spent in the last 12 months, at least"),
    "birthday_months": L("Birthday months"),
    "age_min": L("Age from"),
    "age_max": L("Age to"),
    "balance_min": L("Points balance from"),
    "balance_max": L("Points balance to"),
    "consent": L("Consent"),
    "enrolled_after": L("Enrolled on or after"),
    "enrolled_before": L("Enrolled before"),
}


def filters_from_form(form: MultiDict) -> dict:
    """The API's filters from the form's fields; an empty field is a filter left out. Values that
    aren't numbers are passed on as typed, for the schema to refuse with its own message."""
    found: dict = {}
    for name in LISTS:
        values = [v for v in form.getlist(name) if v]
        if values:
            found[name] = [number_or_text(v) for v in values] if name == "birthday_months" else values
    for name in WORD_LISTS:
        words = [w.strip() for w in form.get(name, "").replace("，", ",").split(",") if w.strip()]
        if words:
            found[name] = words
    for name in NUMBERS:
        if form.get(name, "").strip():
            found[name] = number_or_text(form[name].strip())
    for name in TEXTS:
        if form.get(name, "").strip():
            found[name] = form[name].strip()
    consent = {
        key: form[f"consent_{key}"] == "yes" for key in CONSENT_KEYS if form.get(f"consent_{key}") in ("yes", "no")
    }
    if consent:
        found["consent"] = consent
    return found


def number_or_text(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text


def field_errors(messages: dict) -> dict[str, list[str]]:
    """marshmallow's nested messages (or a ValidationFailed's dotted keys) flattened per form field."""
    flat: dict[str, list[str]] = {}

    def walk(field: str, value) -> None:
        if isinstance(value, dict):
            for inner in value.values():
                walk(field, inner)
        elif isinstance(value, (list, tuple)):
            for inner in value:
                walk(field, inner)
        else:
            flat.setdefault(field, []).append(str(value))

    for key, value in messages.items():
        parts = str(key).split(".")
        if parts == ["filters"] and isinstance(value, dict):  # the API's body nests the filters
            for inner, messages_of in value.items():
                walk(str(inner), messages_of)
        else:
            walk(parts[1] if parts[0] == "filters" and len(parts) > 1 else parts[0], value)
    return flat


def form_context(form: MultiDict, errors: dict | None = None) -> dict:
    months = get_month_names("wide", locale=get_locale())
    return {
        "form": form,
        "errors": errors or {},
        "labels": LABELS,
        "tiers": [r.code for r in ladder(request_session())],
        "statuses": STATUSES,
        "stages": STAGES,
        "consent_keys": CONSENT_KEYS,
        "months": range(1, 13),
        "show_word": word,
        "month_name": months.__getitem__,
    }


def _live(filters: dict) -> dict:
    session, now = request_session(), utcnow()
    ids = preview.segment_page(session, filters, after="", limit=SAMPLE, now=now)
    found = people(session, ids)
    return {"count": segments.count(session, filters, now=now), "sample": [found[i] for i in ids]}


@bp.get("/segments")
def segments_list() -> ResponseReturnValue:
    found = segments.list_segments(request_session(), limit=limit_arg(), cursor=request.args.get("cursor"))
    return page("console/campaigns/segments.html", found=found, labels=LABELS)


@bp.get("/segments/new")
def segment_new() -> ResponseReturnValue:
    return page("console/campaigns/segment_new.html", **form_context(MultiDict()), live=_live({}))


@bp.get("/segments/count")
def segment_count() -> ResponseReturnValue:
    """The live count and sample for the filters as they stand in the form (a fragment)."""
    try:
        filters = SegmentFiltersSchema().load(filters_from_form(request.args))
    except ValidationError as error:
        return page(
            "console/campaigns/_segment_live.html", 422, errors=field_errors(error.messages_dict), labels=LABELS
        )
    return page("console/campaigns/_segment_live.html", live=_live(filters), errors={}, labels=LABELS)


@bp.post("/segments")
def segment_create() -> ResponseReturnValue:
    session = request_session()
    try:
        data = SegmentInSchema().load(
            {"name": request.form.get("name", ""), "filters": filters_from_form(request.form)}
        )
        segment = segments.create(session, name=data["name"], filters=data["filters"], actor=current_actor().label)
    except ValidationError as error:
        return page(
            "console/campaigns/segment_new.html",
            422,
            **form_context(request.form, field_errors(error.messages_dict)),
            live=None,
        )
    except ValidationFailed as error:
        return page(
            "console/campaigns/segment_new.html",
            422,
            **form_context(request.form, field_errors(error.extra.get("errors", {}))),
            live=None,
        )
    return _saved(segment.id)


def _saved(segment_id: str):
    flash(_("Segment saved."))
    return redirect(url_for("console.segment", segment_id=segment_id), 303)


@bp.get("/segments/<segment_id>")
def segment(segment_id: str) -> ResponseReturnValue:
    session = request_session()
    found = segments.with_count(session, segments.get(session, segment_id))
    members = segments.members_page(
        session, segment_id=segment_id, limit=limit_arg(), cursor=request.args.get("cursor")
    )
    return page("console/campaigns/segment.html", segment=found, members=members, labels=LABELS)
