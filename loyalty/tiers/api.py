from __future__ import annotations

from loyalty.core.api import Blueprint
from loyalty.core.apidoc import path_params
from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.web import current_actor, request_session
from loyalty.tiers import member_tier, schemas, service

blp = Blueprint("tiers", __name__, url_prefix="/v1/tiers", description="The tier ladder")


@blp.route("", methods=["GET"])
@blp.doc(operationId="tiers.list")
@blp.response(200, schemas.LadderSchema)
@requires("storefront", "pos", "staff")
def get_ladder():
    """The tier ladder, lowest rank first

    Lists the tier ladder, lowest rank first, with thresholds, multipliers and discounts. Errors:
    only authentication and rate limiting.
    """
    return service.get_ladder(request_session())


@blp.route("", methods=["PUT"])
@blp.doc(operationId="tiers.replace")
@blp.arguments(schemas.LadderInSchema)
@blp.response(200, schemas.LadderSchema)
@accepts_json
@requires()
def put_ladder(data):
    """Replace the whole ladder (admin): unique codes and ranks, thresholds rising from 0, multipliers >= 1

    Replaces the whole ladder (admin); members are regraded by the next `tiers.grade` run. Errors:
    422 validation_error for duplicate codes or ranks, thresholds not rising from 0, or multipliers
    below 1.
    """
    return service.put_ladder(request_session(), **data)


member_tiers = Blueprint("member_tiers", __name__, url_prefix="/v1/members", description="A member's tier")


@member_tiers.route("/<member_id>/tier", methods=["GET"], parameters=path_params("member_id"))
@member_tiers.doc(operationId="member_tiers.get")
@member_tiers.response(200, schemas.MemberTierSchema)
@member_tiers.doc(responses={"404": "NotFound"})
@requires("storefront", "staff")
def get_member_tier(member_id):
    """A member's tier: since when, kept until, what the next tier still needs, recent history

    Reads a member's tier: since when, kept until, what the next tier still needs and recent
    history. Errors: 404 not_found.
    """
    return member_tier.member_tier(request_session(), member_id=member_id)


@member_tiers.route("/<member_id>/tier", methods=["POST"], parameters=path_params("member_id"))
@member_tiers.doc(operationId="member_tiers.set_floor")
@member_tiers.arguments(schemas.FloorInSchema)
@member_tiers.response(200, schemas.MemberTierSchema)
@member_tiers.doc(responses={"404": "NotFound", "409": "Conflict"})
@accepts_json
@idempotent
@requires("staff")
def set_member_tier(data, member_id):
    """Set a tier by hand until a date: a floor that never lowers what the member earned (tier null removes it)

    Sets a tier floor by hand until a date; it never lowers what the member earned, and `tier: null`
    removes it. Errors: 404 not_found; 409 conflict; 422 validation_error for an unknown tier.
    """
    return member_tier.set_floor(request_session(), member_id=member_id, actor=current_actor().label, **data)
