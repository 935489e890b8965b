from __future__ import annotations

from loyalty.core.api import Blueprint

from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.web import current_actor, request_session
from loyalty.members.schemas import ListArgsSchema
from loyalty.points import promotions, schemas, service

blp = Blueprint("points", __name__, url_prefix="/v1", description="Points: balance, ledger, adjustments, promotions")


@blp.route("/members/<member_id>/balance", methods=["GET"])
@blp.response(200, schemas.BalanceSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("storefront", "pos", "staff")
def member_balance(member_id):
    """A member's points: available, pending, lifetime earned, expiring in 30 days"""
    return service.balance(request_session(), member_id=member_id)


@blp.route("/members/<member_id>/ledger", methods=["GET"])
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, schemas.LedgerPageSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("storefront", "staff")
def member_ledger(args, member_id):
    """A member's ledger entries, newest first"""
    return service.ledger_page(request_session(), member_id=member_id, **args)


@blp.route("/members/<member_id>/adjustments", methods=["POST"])
@blp.arguments(schemas.AdjustmentCreateSchema)
@blp.response(201, schemas.LedgerEntrySchema)
@blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@accepts_json
@idempotent
@requires("staff")
def create_adjustment(data, member_id):
    """Correct a member's points by hand, with a reason (409 insufficient_points for a debit)"""
    return service.adjust(request_session(), member_id=member_id, actor=current_actor().label, **data)


@blp.route("/promotions", methods=["GET"])
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, schemas.PromotionPageSchema)
@requires("staff")
def list_promotions(args):
    """Earning promotions"""
    return promotions.list_page(request_session(), **args)


@blp.route("/promotions", methods=["POST"])
@blp.arguments(schemas.PromotionCreateSchema)
@blp.response(201, schemas.PromotionSchema)
@accepts_json
@idempotent
@requires()
def create_promotion(data):
    """Create a promotion: a multiplier for a window, optionally some categories or channels (admin)"""
    return promotions.create(request_session(), data=data)


@blp.route("/promotions/<promotion_id>", methods=["PATCH"])
@blp.arguments(schemas.PromotionUpdateSchema)
@blp.response(200, schemas.PromotionSchema)
@blp.doc(responses={"404": "NotFound"})
@accepts_json
@requires()
def update_promotion(changes, promotion_id):
    """Rename, end early or switch off a promotion (admin)"""
    return promotions.update(request_session(), promotion_id=promotion_id, changes=changes)
