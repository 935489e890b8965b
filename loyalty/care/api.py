from __future__ import annotations

from loyalty.care import callbacks, rules_service, schemas, service
from loyalty.care.models import KINDS
from loyalty.core.api import Blueprint
from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.errors import NotFound
from loyalty.core.web import current_actor, request_session
from loyalty.members.schemas import ListArgsSchema

blp = Blueprint("care", __name__, url_prefix="/v1", description="Member care: rules, touches, callbacks, interactions")


@blp.route("/care/rules", methods=["GET"])
@blp.response(200, schemas.CareRulesSchema)
@requires("staff")
def list_rules():
    """Care rules for every kind of touch"""
    return rules_service.list_rules(request_session())


@blp.route("/care/rules/<kind>", methods=["PUT"])
@blp.arguments(schemas.CareRuleInSchema)
@blp.response(200, schemas.CareRuleSchema)
@blp.doc(responses={"404": "NotFound"})
@accepts_json
@requires()
def put_rule(data, kind):
    """Change one kind's rule (admin); a template that doesn't render is a 422 here"""
    if kind not in KINDS:
        raise NotFound(f"No kind `{kind}` (one of {', '.join(KINDS)}).")
    return rules_service.put_rule(request_session(), kind=kind, data=data)


@blp.route("/care/touches", methods=["GET"])
@blp.arguments(schemas.TouchQueryArgsSchema, location="query")
@blp.response(200, schemas.TouchPageSchema)
@requires("staff")
def list_touches(args):
    """Touches, newest first (filters: member, kind, status, channel, campaign, due window)"""
    return service.list_touches(request_session(), **args)


@blp.route("/care/touches/<touch_id>/outcome", methods=["POST"])
@blp.arguments(schemas.OutcomeInSchema)
@blp.response(200, schemas.TouchSchema)
@blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@accepts_json
@idempotent
@requires("staff")
def record_outcome(data, touch_id):
    """What came of a touch: reached, no_answer, call_back_later (callback_at), responded, not_interested"""
    return service.record_outcome(request_session(), touch_id=touch_id, data=data, staff=current_actor().label)


@blp.route("/callbacks", methods=["GET"])
@blp.arguments(schemas.CallbackQueryArgsSchema, location="query")
@blp.response(200, schemas.CallbackPageSchema)
@requires("staff")
def list_callbacks(args):
    """The calls staff must make, soonest due first, with the member's name, phone, tier and what it is about"""
    return callbacks.queue(request_session(), **args)


@blp.route("/members/<member_id>/interactions", methods=["GET"])
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, schemas.InteractionPageSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("staff")
def list_interactions(args, member_id):
    """A member's interactions, newest first"""
    return service.list_interactions(request_session(), member_id=member_id, **args)


@blp.route("/members/<member_id>/interactions", methods=["POST"])
@blp.arguments(schemas.InteractionInSchema)
@blp.response(201, schemas.InteractionSchema)
@blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@accepts_json
@idempotent
@requires("staff")
def log_interaction(data, member_id):
    """Log a call, message, visit, complaint (opens a callback due within 24 h), feedback or note"""
    return service.log_interaction(request_session(), member_id=member_id, data=data, staff=current_actor().label)


@blp.route("/interactions/<interaction_id>/resolve", methods=["POST"])
@blp.arguments(schemas.ResolveInSchema)
@blp.response(200, schemas.InteractionSchema)
@blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@accepts_json
@idempotent
@requires("staff")
def resolve_interaction(data, interaction_id):
    """Resolve a complaint, once; goodwill points are granted with it"""
    return service.resolve_interaction(request_session(), interaction_id=interaction_id, staff=current_actor().label,
                                       **data)
