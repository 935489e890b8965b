from __future__ import annotations

from loyalty.core.api import Blueprint

from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.web import current_actor, request_session
from loyalty.orders import refunds, schemas, service

blp = Blueprint("orders", __name__, url_prefix="/v1", description="Orders, refunds and quotes")


@blp.route("/orders", methods=["POST"])
@blp.arguments(schemas.OrderCreateSchema)
@blp.response(201, schemas.OrderSchema, description="The order was new: points awarded")
@blp.alt_response(200, schema=schemas.OrderSchema, description="The order id was seen before: nothing awarded again")
@blp.doc(responses={"403": "Forbidden", "404": "NotFound", "409": "Conflict"})
@accepts_json
@idempotent
@requires("storefront", "pos")
def post_order(data):
    """Award points for an order; the same order id never awards twice (409 order_conflict if its contents differ)"""
    order, created = service.post_order(request_session(), data=data, actor=current_actor().label)
    return order, 201 if created else 200


@blp.route("/orders/<order_id>", methods=["GET"])
@blp.response(200, schemas.OrderSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("storefront", "pos", "staff")
def get_order(order_id):
    """Read an order and the points it earned"""
    return service.get_order(request_session(), order_id)


@blp.route("/orders/<order_id>/refunds", methods=["POST"])
@blp.arguments(schemas.RefundCreateSchema)
@blp.response(201, schemas.RefundSchema, description="The refund was new: points reversed")
@blp.alt_response(200, schema=schemas.RefundSchema, description="The refund id was seen before: nothing reversed again")
@blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@accepts_json
@idempotent
@requires("storefront", "pos", "staff")
def refund_order(data, order_id):
    """Refund an amount or items; points are reversed in proportion (422 on over-refund)"""
    row, created = refunds.refund(request_session(), order_id=order_id, data=data, actor=current_actor().label)
    return row, 201 if created else 200


@blp.route("/quote", methods=["POST"])
@blp.arguments(schemas.QuoteSchema)
@blp.response(200, schemas.QuoteOutSchema)
@blp.doc(responses={"403": "Forbidden", "404": "NotFound"})
@accepts_json
@idempotent
@requires("storefront", "pos")
def quote(data):
    """Tier discount, points to earn and most points payable for a basket; writes nothing"""
    return service.quote(request_session(), data=data)
