from __future__ import annotations

from flask import current_app

from loyalty.core.api import Blueprint
from loyalty.core.apidoc import path_params
from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.web import current_actor, request_session
from loyalty.orders import answers, api_examples, refunds, schemas, service

blp = Blueprint("orders", __name__, url_prefix="/v1", description="Orders, refunds and quotes")


@blp.route("/orders", methods=["POST"])
@blp.doc(operationId="orders.create")
@blp.arguments(schemas.OrderCreateSchema, example=api_examples.CREATE_REQUEST)
@blp.response(
    201, schemas.OrderSchema, description="The order was new: points awarded", example=api_examples.CREATE_RESPONSE
)
@blp.alt_response(200, schema=schemas.OrderSchema, description="The order id was seen before: nothing awarded again")
@blp.doc(responses={"403": "Forbidden", "404": "NotFound", "409": "Conflict"})
@accepts_json
@idempotent
@requires("storefront", "pos")
def post_order(data):
    """Award points for an order; the same order id never awards twice (409 order_conflict if its contents differ)

    Records an order and awards its points (pending until the return window ends). Posting the same
    order id again answers the first result; it never awards twice. Errors: 404 not_found for an
    unknown member; 409 order_conflict when the same order id comes with different contents; 422
    validation_error.
    """
    order, created = service.post_order(request_session(), data=data, actor=current_actor().label)
    response = current_app.json.response(answers.order_answer(order))
    response.status_code = 201 if created else 200
    return response


@blp.route("/orders/<order_id>", methods=["GET"], parameters=path_params("order_id"))
@blp.doc(operationId="orders.get")
@blp.response(200, schemas.OrderSchema)
@blp.doc(responses={"404": "NotFound"})
@requires("storefront", "pos", "staff")
def get_order(order_id):
    """Read an order and the points it earned

    Reads an order, its lines, refunds and the points it earned. Errors: 404 not_found.
    """
    return service.get_order(request_session(), order_id)


@blp.route("/orders/<order_id>/refunds", methods=["POST"], parameters=path_params("order_id"))
@blp.doc(operationId="orders.refund")
@blp.arguments(schemas.RefundCreateSchema, example=api_examples.REFUND_REQUEST)
@blp.response(
    201, schemas.RefundSchema, description="The refund was new: points reversed", example=api_examples.REFUND_RESPONSE
)
@blp.alt_response(200, schema=schemas.RefundSchema, description="The refund id was seen before: nothing reversed again")
@blp.doc(responses={"404": "NotFound", "409": "Conflict"})
@accepts_json
@idempotent
@requires("storefront", "pos", "staff")
def refund_order(data, order_id):
    """Refund an amount or items; points are reversed in proportion (422 on over-refund)

    Refunds an amount or items of an order; the points it earned are reversed in proportion. Errors:
    404 not_found; 422 validation_error, including refunding more than is left.
    """
    row, created = refunds.refund(request_session(), order_id=order_id, data=data, actor=current_actor().label)
    return row, 201 if created else 200


@blp.route("/quote", methods=["POST"])
@blp.doc(operationId="orders.quote")
@blp.arguments(schemas.QuoteSchema, example=api_examples.QUOTE_REQUEST)
@blp.response(200, schemas.QuoteOutSchema, example=api_examples.QUOTE_RESPONSE)
@blp.doc(responses={"403": "Forbidden", "404": "NotFound"})
@accepts_json
@idempotent
@requires("storefront", "pos")
def quote(data):
    """Tier discount, points to earn and most points payable for a basket; writes nothing

    Prices a basket for a member without writing anything: tier discount, points it would earn and
    the most points payable. Errors: 404 not_found for an unknown member; 422 validation_error.
    """
    return service.quote(request_session(), data=data)
