from __future__ import annotations

from loyalty.core.api import Blueprint

from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.web import current_actor, request_session
from loyalty.redemptions import returns, schemas, service

blp = Blueprint("redemptions", __name__, url_prefix="/v1/redemptions", description="Paying with points")
_ERRORS = {"403": "Forbidden", "404": "NotFound", "409": "Conflict"}


@blp.route("", methods=["POST"])
@blp.arguments(schemas.RedemptionCreateSchema)
@blp.response(201, schemas.RedemptionSchema)
@blp.doc(responses=_ERRORS)
@accepts_json
@idempotent
@requires("storefront", "pos")
def create_redemption(data):
    """Hold points (or a reward) for a member; 409 insufficient_points carries `available`"""
    return service.hold(request_session(), data=data, actor=current_actor().label)


@blp.route("/<redemption_id>/capture", methods=["POST"])
@blp.response(200, schemas.RedemptionSchema)
@blp.doc(responses=_ERRORS)
@idempotent
@requires("storefront", "pos")
def capture_redemption(redemption_id):
    """Spend the held points (a reward issues its coupon); capturing twice is harmless"""
    return service.capture(request_session(), redemption_id=redemption_id, actor=current_actor().label)


@blp.route("/<redemption_id>/cancel", methods=["POST"])
@blp.response(200, schemas.RedemptionSchema)
@blp.doc(responses=_ERRORS)
@idempotent
@requires("storefront", "pos")
def cancel_redemption(redemption_id):
    """Give held points back; a captured redemption can't be cancelled"""
    return service.cancel(request_session(), redemption_id=redemption_id)


@blp.route("/<redemption_id>", methods=["GET"])
@blp.response(200, schemas.RedemptionSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("storefront", "pos", "staff")
def get_redemption(redemption_id):
    """Read a redemption"""
    return service.get_redemption(request_session(), redemption_id)


@blp.route("/<redemption_id>/reverse", methods=["POST"])
@blp.arguments(schemas.RedemptionReverseSchema)
@blp.response(200, schemas.RedemptionSchema)
@blp.doc(responses=_ERRORS)
@accepts_json
@idempotent
@requires("staff")
def reverse_redemption(data, redemption_id):
    """Give a captured redemption's points back, with a reason (staff); a reward's only while its coupon is unused"""
    return returns.reverse(request_session(), redemption_id=redemption_id, reason=data["reason"],
                           actor=current_actor().label)
