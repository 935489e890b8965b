from __future__ import annotations

from loyalty.core.api import Blueprint
from loyalty.core.apidoc import path_params
from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.web import request_session
from loyalty.rewards import coupons as coupon_service
from loyalty.rewards import schemas, service

blp = Blueprint("rewards", __name__, url_prefix="/v1/rewards", description="Rewards catalog")


@blp.route("", methods=["GET"])
@blp.doc(operationId="rewards.list")
@blp.arguments(schemas.RewardQuerySchema, location="query")
@blp.response(200, schemas.RewardPageSchema)
@requires("storefront", "pos", "staff")
def list_rewards(args):
    """The rewards catalog

    Pages through the rewards catalog, optionally only active rewards. Errors: 400 invalid_cursor for a cursor
    this service didn't issue.
    """
    return service.list_rewards(request_session(), **args)


@blp.route("", methods=["POST"])
@blp.doc(operationId="rewards.create")
@blp.arguments(schemas.RewardCreateSchema)
@blp.response(201, schemas.RewardSchema)
@accepts_json
@idempotent
@requires()
def create_reward(data):
    """Add a reward: points cost, kind, stock, minimum tier, validity (admin)

    Adds a reward to the catalog: points cost, kind, stock, minimum tier and coupon validity
    (admin). Errors: 422 validation_error.
    """
    return service.create_reward(request_session(), data=data)


@blp.route("/<reward_id>", methods=["GET"], parameters=path_params("reward_id"))
@blp.doc(operationId="rewards.get")
@blp.response(200, schemas.RewardSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("storefront", "pos", "staff")
def get_reward(reward_id):
    """Read a reward

    Reads one reward. Errors: 404 not_found.
    """
    return service.get_reward(request_session(), reward_id)


@blp.route("/<reward_id>", methods=["PATCH"], parameters=path_params("reward_id"))
@blp.doc(operationId="rewards.update")
@blp.arguments(schemas.RewardUpdateSchema)
@blp.response(200, schemas.RewardSchema)
@blp.doc(responses={"404": "NotFound"})
@accepts_json
@idempotent
@requires()
def update_reward(changes, reward_id):
    """Change a reward (admin); stock set here is what is left to redeem

    Changes a reward (admin); stock set here is what is left to redeem. Errors: 404 not_found; 422
    validation_error.
    """
    return service.update_reward(request_session(), reward_id=reward_id, changes=changes)


coupons = Blueprint("coupons", __name__, url_prefix="/v1", description="Coupons issued by reward redemptions")
_COUPON_ERRORS = {"403": "Forbidden", "404": "NotFound", "409": "Conflict"}


@coupons.route("/coupons/<code>/use", methods=["POST"], parameters=path_params("code"))
@coupons.doc(operationId="coupons.use")
@coupons.arguments(schemas.CouponUseSchema, required=False)
@coupons.response(200, schemas.CouponSchema)
@coupons.doc(responses=_COUPON_ERRORS)
@accepts_json
@idempotent
@requires("storefront", "pos")
def use_coupon(data, code):
    """Accept a coupon at checkout, once (409 coupon_unusable with `reason`: used, expired, void)

    Accepts a coupon at checkout, once; code case and separators are ignored. Errors: 403 forbidden
    for a coupon of another member's scope; 404 not_found; 409 coupon_unusable with `reason` (used,
    expired, void).
    """
    return coupon_service.use_coupon(request_session(), code=code, order_id=data.get("order_id"))


@coupons.route("/coupons/<code>", methods=["GET"], parameters=path_params("code"))
@coupons.doc(operationId="coupons.get")
@coupons.response(200, schemas.CouponSchema)
@coupons.doc(responses={"404": "NotFound"})
@requires("storefront", "pos", "staff")
def get_coupon(code):
    """Check a coupon without using it: status, reward, member, valid until (case and separators ignored)

    Checks a coupon without using it: status, reward, member and validity. Errors: 404 not_found.
    """
    return coupon_service.get_coupon(request_session(), code=code)


@coupons.route("/members/<member_id>/coupons", methods=["GET"], parameters=path_params("member_id"))
@coupons.doc(operationId="coupons.list_for_member")
@coupons.arguments(schemas.MemberCouponQuerySchema, location="query")
@coupons.response(200, schemas.CouponPageSchema)
@coupons.doc(responses={"404": "NotFound"})
@requires("storefront", "pos", "staff")
def member_coupons(args, member_id):
    """A member's coupons, newest first (optionally of one status)

    Pages through a member's coupons, newest first, optionally of one status. Errors: 404 not_found
    for an unknown member.
    """
    return coupon_service.member_coupons(request_session(), member_id=member_id, **args)
