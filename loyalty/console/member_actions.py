"""Actions on one member: log an interaction, record a callback's outcome, resolve a complaint with
goodwill points, adjust points, set or lift a tier floor, change status, merge a duplicate, erase.

Each form posts here and calls the service function the JSON API calls, its input read by the API's
own marshmallow schema, so the rules are the API's. A refused form is shown again with the messages
(422, or the error's status), and as the status is >= 400 the request writes nothing.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as L

from loyalty.care import schemas as care_schemas
from loyalty.care import service as care
from loyalty.care.service import OUTCOMES
from loyalty.console.blueprint import bp
from loyalty.console.labels import error_title
from loyalty.console.web import page
from loyalty.core.errors import LoyaltyError, NotFound, ValidationFailed
from loyalty.core.web import request_session
from loyalty.members import schemas as member_schemas
from loyalty.members import search
from loyalty.members import service as members
from loyalty.members.models import STATUSES
from loyalty.points import schemas as points_schemas
from loyalty.points import service as points
from loyalty.tiers import member_tier
from loyalty.tiers import schemas as tier_schemas
from loyalty.tiers.service import get_ladder

FORM_PAGE = "console/member/actions/form.html"
_INTEGER = re.compile(r"[+-]?[0-9]{1,15}")
CHOICES = SimpleNamespace(
    kinds=care_schemas.INTERACTION_KINDS,
    outcomes=OUTCOMES,
    statuses=STATUSES,
    channels=("phone", "sms", "email", "push", "in_store", "chat"),
)


def _form(*names: str, ints: tuple[str, ...] = ()) -> dict:
    """The filled-in fields (an empty one is not sent, as in a JSON body); whole numbers as ints, so
    the API's strict integer fields read them, anything else left as typed for the schema to refuse."""
    data = {}
    for name in names:
        value = request.form.get(name, "").strip()
        if value:
            data[name] = int(value) if name in ints and _INTEGER.fullmatch(value) else value
    return data


def _snapshot(member_id: str) -> SimpleNamespace:
    """The member as plain values, for a refused form shown again. The views themselves pass the
    URL's id on untouched, so the service reads (and locks) the row first and refuses a merged-away
    id as the API does."""
    member = members.resolve(request_session(), member_id)
    return SimpleNamespace(id=member.id, name=member.name, member_number=member.member_number, status=member.status)


def _same_member(member_id: str, other_id: str) -> bool:
    return members.brief(request_session(), member_id).id == members.brief(request_session(), other_id).id


def _flat(messages) -> dict[str, list[str]]:
    if isinstance(messages, list):
        return {"_": [str(m) for m in messages]}
    flat: dict[str, list[str]] = {}
    for name, value in messages.items():
        if isinstance(value, dict):
            flat.update({f"{name}.{key}": found for key, found in _flat(value).items()})
        else:
            flat[name] = [str(m) for m in (value if isinstance(value, list) else [value])]
    return flat


def _act(member_id: str, form: str, work, **context):
    """Run `work` (returns the flash message); on a refusal show `form` again with why."""
    values = request.form.to_dict()
    values.pop("csrf_token", None)
    try:
        message = work()
    except ma.ValidationError as error:
        return _again(member_id, form, values, errors=_flat(error.messages), status=422, **context)
    except ValidationFailed as error:
        return _again(member_id, form, values, errors=error.extra.get("errors") or {}, status=422, **context)
    except LoyaltyError as error:
        return _again(
            member_id,
            form,
            values,
            errors={},
            status=error.status,
            problem=(error_title(error.code), error.detail),
            **context,
        )
    flash(message)
    return redirect(url_for("console.member", member_id=member_id), 303)


_FORMS = {  # each form's heading and the fields it shows its messages beside
    "interaction": (L("Log an interaction"), {"kind", "channel", "content", "score", "assignee"}),
    "outcome": (L("Record a callback's outcome"), {"outcome", "callback_at", "score", "notes"}),
    "resolve": (L("Resolve a complaint"), {"resolution", "goodwill_points"}),
    "adjust": (L("Adjust points"), {"points", "reason", "note"}),
    "floor": (L("Tier floor"), {"tier", "until", "reason"}),
    "status": (L("Change status"), {"status"}),
}


def _again(member_id, form, values, *, errors, status, problem=None, **context):
    heading, fields = _FORMS[form]
    if problem is None:
        problem = (error_title("validation_error"), None)
    if form == "floor":
        context["ladder"] = [(tier.code, tier.name) for tier in get_ladder(request_session())["tiers"]]
    other_errors = {name: found for name, found in errors.items() if name not in fields}
    return page(
        FORM_PAGE,
        status=status,
        member=_snapshot(member_id),
        form=form,
        heading=str(heading),
        values=values,
        errors=errors,
        other_errors=other_errors,
        problem=problem,
        **context,
    )


def open_work(member_id: str) -> dict:
    """What the panel's forms choose from: open callbacks and complaints, the ladder, the floor."""
    session = request_session()
    callbacks = care.list_touches(session, member_id=member_id, status="callback", limit=50)["data"]
    steps = get_ladder(session)["tiers"]
    floor = member_tier.member_tier(session, member_id=member_id).get("floor") if steps else None
    if floor:  # it ends at the midnight after its last day: show that day
        names = {tier.code: tier.name for tier in steps}
        floor = {**floor, "last_day": floor["until"] - timedelta(seconds=1), "tier_name": names.get(floor["tier"])}
    return {
        "callbacks": callbacks,
        "complaints": care.open_complaints(session, member_id=member_id),
        "ladder": [(tier.code, tier.name) for tier in steps],
        "floor": floor,
    }


@bp.context_processor
def _panel_helpers():
    return {"member_open_work": open_work, "action_choices": CHOICES}


@bp.get("/members/<member_id>/actions")
def member_actions(member_id: str) -> ResponseReturnValue:
    """The panel on its own (the member page includes the same template): for an htmx refresh."""
    return page("console/member/actions/panel.html", member=members.resolve(request_session(), member_id))


@bp.post("/members/<member_id>/interactions")
def member_log_interaction(member_id: str) -> ResponseReturnValue:
    def work():
        data = care_schemas.InteractionInSchema().load(
            _form("kind", "channel", "content", "score", "assignee", ints=("score",))
        )
        care.log_interaction(request_session(), member_id=member_id, data=data, staff=g.actor.label)
        return _("Interaction logged.")

    return _act(member_id, "interaction", work)


def _callback_at(text: str, zone: str) -> str:
    """A datetime-local field means the member's wall clock: send the schema an instant with its offset."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).isoformat()
    except ValueError:
        return text  # the schema refuses it with its own words


@bp.post("/members/<member_id>/callbacks/<touch_id>/outcome")
def member_callback_outcome(member_id: str, touch_id: str) -> ResponseReturnValue:
    session = request_session()
    touch = care.get_touch(session, touch_id, lock=True)  # locked as record_outcome locks it
    if not _same_member(touch.member_id, member_id):
        raise NotFound(f"No touch `{touch_id}` for this member.")

    def work():
        raw = _form("outcome", "callback_at", "score", "notes", ints=("score",))
        if "callback_at" in raw:
            member = members.people(session, [touch.member_id])[touch.member_id]
            raw["callback_at"] = _callback_at(raw["callback_at"], member.timezone or g.console_timezone)
        data = care_schemas.OutcomeInSchema().load(raw)
        care.record_outcome(session, touch_id=touch_id, data=data, staff=g.actor.label)
        return _("Outcome recorded.")

    return _act(member_id, "outcome", work, touch=SimpleNamespace(id=touch_id))


@bp.post("/members/<member_id>/complaints/<interaction_id>/resolve")
def member_resolve_complaint(member_id: str, interaction_id: str) -> ResponseReturnValue:
    session = request_session()
    owner = care.interaction_member(session, interaction_id)
    if owner is None or not _same_member(owner, member_id):
        raise NotFound(f"No interaction `{interaction_id}` for this member.")

    def work():
        data = care_schemas.ResolveInSchema().load(_form("resolution", "goodwill_points", ints=("goodwill_points",)))
        # The API's resolve grants the goodwill points itself, in this same transaction.
        care.resolve_interaction(session, interaction_id=interaction_id, staff=g.actor.label, **data)
        return _("Complaint resolved.")

    return _act(member_id, "resolve", work, complaint=SimpleNamespace(id=interaction_id))


@bp.post("/members/<member_id>/adjustments")
def member_adjust_points(member_id: str) -> ResponseReturnValue:
    def work():
        data = points_schemas.AdjustmentCreateSchema().load(_form("points", "reason", "note", ints=("points",)))
        points.adjust(request_session(), member_id=member_id, actor=g.actor.label, **data)
        return _("Points adjusted.")

    return _act(member_id, "adjust", work)


@bp.post("/members/<member_id>/tier-floor")
def member_tier_floor(member_id: str) -> ResponseReturnValue:
    def work():
        raw = _form("until", "reason")
        raw["tier"] = request.form.get("tier", "").strip() or None  # none chosen: lift the floor
        if raw["tier"] is None:
            raw.pop("until", None)
        data = tier_schemas.FloorInSchema().load(raw)
        member_tier.set_floor(request_session(), member_id=member_id, actor=g.actor.label, **data)
        return _("Tier floor set.") if data["tier"] else _("Tier floor lifted.")

    return _act(member_id, "floor", work)


@bp.post("/members/<member_id>/status")
def member_change_status(member_id: str) -> ResponseReturnValue:
    def work():
        changes = member_schemas.MemberUpdateSchema(only=("status",)).load(_form("status"))
        if "status" not in changes:
            raise ma.ValidationError({"status": [_("Choose a status.")]})
        members.update_member(
            request_session(),
            member_id=member_id,
            changes=changes,
            actor=g.actor.label,
            may_change_status=g.actor.role in ("staff", "admin"),
        )
        return _("Status changed.")

    return _act(member_id, "status", work)


# Merge and erase: a page first (both records side by side; what goes and a typed confirmation).


def _find_source(text: str):
    """The duplicate named by its member number (spaces and dashes allowed) or its id."""
    session = request_session()
    number = re.sub(r"[\s-]", "", text)
    if number.isdigit():
        found = search.search_members(session, role=g.actor.role, member_number=number, limit=1)["data"]
        return found[0] if found else None
    return members.people(session, [text[:32]]).get(text[:32])


def _merge_page(member_id: str, source_text: str, *, status: int = 200, problem=None, errors=None):
    session = request_session()
    survivor = members.resolve(session, member_id)
    source = _find_source(source_text) if source_text else None
    if source_text and source is None and problem is None:
        problem = (_("No member has this member number or id."), None)
    elif source is not None and problem is None and (source.merged_into or source.id == survivor.id):
        problem = (
            _("This is the same member.")
            if source.id == survivor.id
            else _("That member was already merged into another."),
            None,
        )
        source = None
    balances = {m.id: points.balance(session, member_id=m.id)["available"] for m in (survivor, source) if m}
    return page(
        "console/member/actions/merge.html",
        status=status,
        member=survivor,
        source=source,
        source_text=source_text,
        balances=balances,
        problem=problem,
        errors=errors or {},
    )


@bp.get("/members/<member_id>/merge")
def member_merge(member_id: str) -> ResponseReturnValue:
    return _merge_page(member_id, request.args.get("source", "").strip()[:100])


@bp.post("/members/<member_id>/merge")
def member_merge_confirm(member_id: str) -> ResponseReturnValue:
    source_id = request.form.get("member_id", "").strip()
    try:
        data = member_schemas.MergeSchema().load(_form("member_id"))
        merged = members.merge_members(
            request_session(), survivor_id=member_id, source_id=data["member_id"], actor=g.actor.label
        )
    except ma.ValidationError as error:
        return _merge_page(member_id, source_id, status=422, errors=_flat(error.messages))
    except LoyaltyError as error:
        errors = error.extra.get("errors") if isinstance(error, ValidationFailed) else None
        return _merge_page(
            member_id, source_id, status=error.status, errors=errors, problem=(error_title(error.code), error.detail)
        )
    flash(_("The duplicate was merged into this member."))
    return redirect(url_for("console.member", member_id=merged.id), 303)


def _erase_page(member_id: str, *, status: int = 200, errors=None, problem=None):
    session = request_session()
    member = members.resolve(session, member_id)
    return page(
        "console/member/actions/erase.html",
        status=status,
        member=member,
        errors=errors or {},
        problem=problem,
        duplicates=members.merged_away(session, member.id),
    )


@bp.get("/members/<member_id>/erase")
def member_erase(member_id: str) -> ResponseReturnValue:
    return _erase_page(member_id)


@bp.post("/members/<member_id>/erase")
def member_erase_confirm(member_id: str) -> ResponseReturnValue:
    # Read and locked as erase_member reads it (a merged-away id refused); the typed member number is
    # checked here too: the disabled button is only a help.
    member = members.direct(request_session(), member_id, lock=True)
    if request.form.get("confirm", "").strip() != member.member_number:
        return _erase_page(
            member_id, status=422, errors={"confirm": [_("Type the member number exactly as shown to confirm.")]}
        )
    try:
        members.erase_member(request_session(), member_id=member_id, actor=g.actor.label)
    except LoyaltyError as error:
        return _erase_page(member_id, status=error.status, problem=(error_title(error.code), error.detail))
    flash(_("The member's personal data was erased."))
    return redirect(url_for("console.members"), 303)
