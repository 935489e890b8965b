from __future__ import annotations

from loyalty.core.api import Blueprint
from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.web import current_actor, request_session
from loyalty.tiers import member_tier, schemas, service

blp = Blueprint("tiers", __name__, url_prefix="/v1/tiers", description="The tier ladder")


@blp.route("", methods=["GET"])
@blp.response(200, schemas.LadderSchema)
@requires("storefront", "pos", "staff")
def get_ladder():
    """The tier ladder, lowest rank first"""
    return service.get_ladder(request_session())


@blp.route("", methods=["PUT"])
@blp.arguments(schemas.LadderInSchema)
@blp.response(200, schemas.LadderSchema)
@accepts_json
@requires()
def put_ladder(data):
    """Replace the whole ladder (admin): unique codes and ranks, thresholds rising from 0, multipliers >= 1"""
    return service.put_ladder(request_session(), **data)


member_tiers = Blueprint("member_tiers", __name__, url_prefix="/v1/members", description="A member's tier")


@member_tiers.route("/<member_id>/tier", methods=["GET"])
@member_tiers.response(200, schemas.MemberTierSchema)
@member_tiers.doc(responses={"404": "NotFound"})
@requires("storefront", "staff")
def get_member_tier(member_id):
    """A member's tier: since when, kept until, what the next tier still needs, recent history"""
    return member_tier.member_tier(request_session(), member_id=member_id)


@member_tiers.route("/<member_id>/tier", methods=["POST"])
@member_tiers.arguments(schemas.FloorInSchema)
@member_tiers.response(200, schemas.MemberTierSchema)
@member_tiers.doc(responses={"404": "NotFound", "409": "Conflict"})
@accepts_json
@idempotent
@requires("staff")
def set_member_tier(data, member_id):
    """Set a tier by hand until a date: a floor that never lowers what the member earned (tier null removes it)"""
    return member_tier.set_floor(request_session(), member_id=member_id, actor=current_actor().label, **data)
