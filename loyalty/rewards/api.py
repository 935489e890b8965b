from __future__ import annotations

from loyalty.core.api import Blueprint

from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.web import request_session
from loyalty.rewards import schemas, service

blp = Blueprint("rewards", __name__, url_prefix="/v1/rewards", description="Rewards catalog")


@blp.route("", methods=["GET"])
@blp.arguments(schemas.RewardQuerySchema, location="query")
@blp.response(200, schemas.RewardPageSchema)
@requires("storefront", "pos", "staff")
def list_rewards(args):
    """The rewards catalog"""
    return service.list_rewards(request_session(), **args)


@blp.route("", methods=["POST"])
@blp.arguments(schemas.RewardCreateSchema)
@blp.response(201, schemas.RewardSchema)
@accepts_json
@idempotent
@requires()
def create_reward(data):
    """Add a reward: points cost, kind, stock, minimum tier, validity (admin)"""
    return service.create_reward(request_session(), data=data)


@blp.route("/<reward_id>", methods=["GET"])
@blp.response(200, schemas.RewardSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("storefront", "pos", "staff")
def get_reward(reward_id):
    """Read a reward"""
    return service.get_reward(request_session(), reward_id)


@blp.route("/<reward_id>", methods=["PATCH"])
@blp.arguments(schemas.RewardUpdateSchema)
@blp.response(200, schemas.RewardSchema)
@blp.doc(responses={"404": "NotFound"})
@accepts_json
@requires()
def update_reward(changes, reward_id):
    """Change a reward (admin); stock set here is what is left to redeem"""
    return service.update_reward(request_session(), reward_id=reward_id, changes=changes)


coupons = Blueprint("coupons", __name__, url_prefix="/v1/coupons", description="Coupons issued by reward redemptions")


@coupons.route("/<code>/use", methods=["POST"])
@coupons.response(200, schemas.CouponSchema)
@coupons.doc(responses={"404": "NotFound", "409": "Conflict"})
@idempotent
@requires("storefront", "pos")
def use_coupon(code):
    """Accept a coupon at checkout: once only (409 coupon_unusable when used or expired)"""
    return service.use_coupon(request_session(), code=code)
