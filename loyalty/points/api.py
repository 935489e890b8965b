from __future__ import annotations

from loyalty.core.api import Blueprint
from loyalty.core.apidoc import path_params
from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.schemas import ListArgsSchema
from loyalty.core.web import current_actor, request_session
from loyalty.points import promotions, schemas, service

blp = Blueprint("points", __name__, url_prefix="/v1", description="Points: balance, ledger, adjustments, promotions")


@blp.route("/members/<member_id>/balance", methods=["GET"], parameters=path_params("member_id"))
@blp.doc(operationId="points.balance")
@blp.response(200, schemas.BalanceSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("storefront", "pos", "staff")
def member_balance(member_id):
    """A member's points: available, pending, lifetime earned, expiring in 30 days

    Reads a member's points: available, pending, lifetime earned and expiring within 30 days.
    Errors: 404 not_found.
    """
    return service.balance(request_session(), member_id=member_id)


@blp.route("/members/<member_id>/ledger", methods=["GET"], parameters=path_params("member_id"))
@blp.doc(operationId="points.ledger")
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, schemas.LedgerPageSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("storefront", "staff")
def member_ledger(args, member_id):
    """A member's ledger entries, newest first

    Pages through a member's ledger entries (earn, redeem, expire, adjust, reverse), newest first.
    Errors: 404 not_found; 400 invalid_cursor for a cursor
    this service didn't issue.
    """
    return service.ledger_page(request_session(), member_id=member_id, **args)


@blp.route("/members/<member_id>/adjustments", methods=["POST"], parameters=path_params("member_id"))
@blp.doc(operationId="points.adjust")
@blp.arguments(schemas.AdjustmentCreateSchema)
@blp.response(201, schemas.LedgerEntrySchema)
@blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@accepts_json
@idempotent
@requires("staff")
def create_adjustment(data, member_id):
    """Correct a member's points by hand, with a reason (409 insufficient_points for a debit)

    Credits or debits a member's points by hand with a reason; the adjustment is audited. Errors:
    404 not_found; 409 insufficient_points for a debit larger than the available balance; 422
    validation_error.
    """
    return service.adjust(request_session(), member_id=member_id, actor=current_actor().label, **data)


@blp.route("/promotions", methods=["GET"])
@blp.doc(operationId="promotions.list")
@blp.arguments(ListArgsSchema, location="query")
@blp.response(200, schemas.PromotionPageSchema)
@requires("staff")
def list_promotions(args):
    """Earning promotions

    Pages through earning promotions, newest first. Errors: 400 invalid_cursor for a cursor
    this service didn't issue.
    """
    return promotions.list_page(request_session(), **args)


@blp.route("/promotions", methods=["POST"])
@blp.doc(operationId="promotions.create")
@blp.arguments(schemas.PromotionCreateSchema)
@blp.response(201, schemas.PromotionSchema)
@accepts_json
@idempotent
@requires()
def create_promotion(data):
    """Create a promotion: a multiplier for a window, optionally some categories or channels (admin)

    Creates a points multiplier for a time window, optionally limited to categories or channels
    (admin). Errors: 422 validation_error.
    """
    return promotions.create(request_session(), data=data)


@blp.route("/promotions/<promotion_id>", methods=["PATCH"], parameters=path_params("promotion_id"))
@blp.doc(operationId="promotions.update")
@blp.arguments(schemas.PromotionUpdateSchema)
@blp.response(200, schemas.PromotionSchema)
@blp.doc(responses={"404": "NotFound"})
@accepts_json
@idempotent
@requires()
def update_promotion(changes, promotion_id):
    """Rename, end early or switch off a promotion (admin)

    Renames a promotion, ends it early or switches it off (admin). Errors: 404 not_found; 422
    validation_error.
    """
    return promotions.update(request_session(), promotion_id=promotion_id, changes=changes)
