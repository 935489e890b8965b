from __future__ import annotations

from loyalty.core.api import Blueprint
from loyalty.core.apidoc import path_params
from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.web import current_actor, request_session
from loyalty.redemptions import api_examples, returns, schemas, service

blp = Blueprint("redemptions", __name__, url_prefix="/v1/redemptions", description="Paying with points")
_ERRORS = {"403": "Forbidden", "404": "NotFound", "409": "Conflict"}


@blp.route("", methods=["POST"])
@blp.doc(operationId="redemptions.create")
@blp.arguments(schemas.RedemptionCreateSchema, example=api_examples.CREATE_REQUEST)
@blp.response(201, schemas.RedemptionSchema, example=api_examples.CREATE_RESPONSE)
@blp.doc(responses=_ERRORS)
@accepts_json
@idempotent
@requires("storefront", "pos")
def create_redemption(data):
    """Hold points (or a reward) for a member; 409 insufficient_points carries `available`

    Holds points, or a reward's points cost, for a member until captured or cancelled; an unused
    hold lapses. Errors: 404 not_found for an unknown member or reward; 409 insufficient_points
    (with `available`) or reward unavailable; 422 validation_error.
    """
    return service.hold(request_session(), data=data, actor=current_actor().label)


@blp.route("/<redemption_id>/capture", methods=["POST"], parameters=path_params("redemption_id"))
@blp.doc(operationId="redemptions.capture")
@blp.response(200, schemas.RedemptionSchema, example=api_examples.CAPTURE_RESPONSE)
@blp.doc(responses=_ERRORS)
@idempotent
@requires("storefront", "pos")
def capture_redemption(redemption_id):
    """Spend the held points (a reward issues its coupon); capturing twice is harmless

    Spends the held points; a reward redemption issues its coupon. Capturing twice answers the same
    result. Errors: 404 not_found; 409 conflict when the hold was cancelled or has lapsed.
    """
    return service.capture(request_session(), redemption_id=redemption_id, actor=current_actor().label)


@blp.route("/<redemption_id>/cancel", methods=["POST"], parameters=path_params("redemption_id"))
@blp.doc(operationId="redemptions.cancel")
@blp.response(200, schemas.RedemptionSchema)
@blp.doc(responses=_ERRORS)
@idempotent
@requires("storefront", "pos")
def cancel_redemption(redemption_id):
    """Give held points back; a captured redemption can't be cancelled

    Gives held points back. Errors: 404 not_found; 409 conflict when already captured.
    """
    return service.cancel(request_session(), redemption_id=redemption_id)


@blp.route("/<redemption_id>", methods=["GET"], parameters=path_params("redemption_id"))
@blp.doc(operationId="redemptions.get")
@blp.response(200, schemas.RedemptionSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("storefront", "pos", "staff")
def get_redemption(redemption_id):
    """Read a redemption

    Reads one redemption and its status. Errors: 404 not_found.
    """
    return service.get_redemption(request_session(), redemption_id)


@blp.route("/<redemption_id>/reverse", methods=["POST"], parameters=path_params("redemption_id"))
@blp.doc(operationId="redemptions.reverse")
@blp.arguments(schemas.RedemptionReverseSchema)
@blp.response(200, schemas.RedemptionSchema)
@blp.doc(responses=_ERRORS)
@accepts_json
@idempotent
@requires("staff")
def reverse_redemption(data, redemption_id):
    """Give a captured redemption's points back, with a reason (staff); a reward's only while its coupon is unused

    Gives a captured redemption's points back with a reason (staff); a reward redemption only while
    its coupon is unused. Errors: 404 not_found; 409 conflict when not captured or the coupon was
    used; 422 validation_error.
    """
    return returns.reverse(
        request_session(), redemption_id=redemption_id, reason=data["reason"], actor=current_actor().label
    )
