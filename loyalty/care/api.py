from __future__ import annotations

from loyalty.care import callbacks, rule_settings, schemas, service
from loyalty.care.models import KINDS
from loyalty.core.api import Blueprint
from loyalty.core.apidoc import path_params
from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.errors import NotFound
from loyalty.core.schemas import ListArgsSchema
from loyalty.core.web import current_actor, request_session

blp = Blueprint("care", __name__, url_prefix="/v1", description="Member care: rules, touches, callbacks, interactions")


@blp.route("/care/rules", methods=["GET"])
@blp.doc(operationId="care_rules.list")
@blp.response(200, schemas.CareRulesSchema)
@requires("staff")
def list_rules():
    """Care rules for every kind of touch

    Lists the care rule of every touch kind: whether it is on, its channel, timing and template.
    Errors: only authentication and rate limiting.
    """
    return rule_settings.list_rules(request_session())


@blp.route("/care/rules/<kind>", methods=["PUT"], parameters=path_params("kind"))
@blp.doc(operationId="care_rules.put")
@blp.arguments(schemas.CareRuleInSchema)
@blp.response(200, schemas.CareRuleSchema)
@blp.doc(responses={"404": "NotFound"})
@accepts_json
@requires()
def put_rule(data, kind):
    """Change one kind's rule (admin); a template that doesn't render is a 422 here

    Replaces the rule of one touch kind (admin). Errors: 404 not_found for an unknown kind; 422
    validation_error, including a template that does not render.
    """
    if kind not in KINDS:
        raise NotFound(f"No kind `{kind}` (one of {', '.join(KINDS)}).")
    return rule_settings.put_rule(request_session(), kind=kind, data=data)


@blp.route("/care/touches", methods=["GET"])
@blp.doc(operationId="touches.list")
@blp.arguments(schemas.TouchQueryArgsSchema, location="query")
@blp.response(200, schemas.TouchPageSchema)
@requires("staff")
def list_touches(args):
    """Touches, newest first (filters: member, kind, status, channel, campaign, due window)

    Pages through planned and sent touches, newest first, filtered by member, kind, status, channel,
    campaign and due window. Errors: 400 invalid_cursor for a cursor
    this service didn't issue; 422 validation_error for a bad filter.
    """
    return service.list_touches(request_session(), **args)


@blp.route("/care/touches/<touch_id>/outcome", methods=["POST"], parameters=path_params("touch_id"))
@blp.doc(operationId="touches.record_outcome")
@blp.arguments(schemas.OutcomeInSchema)
@blp.response(200, schemas.TouchSchema)
@blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@accepts_json
@idempotent
@requires("staff")
def record_outcome(data, touch_id):
    """What came of a touch: reached, no_answer, call_back_later (callback_at), responded, not_interested

    Records what came of a touch; `call_back_later` needs `callback_at` and plans a callback.
    Errors: 404 not_found; 409 conflict when the touch already has an outcome; 422 validation_error.
    """
    return service.record_outcome(request_session(), touch_id=touch_id, data=data, staff=current_actor().label)


@blp.route("/callbacks", methods=["GET"])
@blp.doc(operationId="callbacks.list")
@blp.arguments(schemas.CallbackQueryArgsSchema, location="query")
@blp.response(200, schemas.CallbackPageSchema)
@requires("staff")
def list_callbacks(args):
    """The calls staff must make, soonest due first, with the member's name, phone, tier and what it is about

    Pages through the open callbacks staff must make, soonest due first, with the member's contact
    details. Errors: 400 invalid_cursor for a cursor
    this service didn't issue; 422 validation_error for a bad filter.
    """
    return callbacks.queue(request_session(), **args)


@blp.route("/members/<member_id>/interactions", methods=["GET"], parameters=path_params("member_id"))
@blp.doc(operationId="interactions.list")
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, schemas.InteractionPageSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("staff")
def list_interactions(args, member_id):
    """A member's interactions, newest first

    Pages through a member's logged interactions, newest first. Errors: 404 not_found for an unknown
    member.
    """
    return service.list_interactions(request_session(), member_id=member_id, **args)


@blp.route("/members/<member_id>/interactions", methods=["POST"], parameters=path_params("member_id"))
@blp.doc(operationId="interactions.create")
@blp.arguments(schemas.InteractionInSchema)
@blp.response(201, schemas.InteractionSchema)
@blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@accepts_json
@idempotent
@requires("staff")
def log_interaction(data, member_id):
    """Log a call, message, visit, complaint (opens a callback due within 24 h), feedback or note

    Logs a call, message, visit, complaint, feedback or note against a member; a complaint opens a
    callback due within 24 hours. Errors: 404 not_found for an unknown member; 422 validation_error.
    """
    return service.log_interaction(request_session(), member_id=member_id, data=data, staff=current_actor().label)


@blp.route("/interactions/<interaction_id>/resolve", methods=["POST"], parameters=path_params("interaction_id"))
@blp.doc(operationId="interactions.resolve")
@blp.arguments(schemas.ResolveInSchema)
@blp.response(200, schemas.InteractionSchema)
@blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@accepts_json
@idempotent
@requires("staff")
def resolve_interaction(data, interaction_id):
    """Resolve a complaint, once; goodwill points are granted with it

    Resolves a complaint once, optionally granting goodwill points in the same transaction. Errors:
    404 not_found; 409 conflict when already resolved or not a complaint; 422 validation_error.
    """
    return service.resolve_interaction(
        request_session(), interaction_id=interaction_id, staff=current_actor().label, **data
    )
