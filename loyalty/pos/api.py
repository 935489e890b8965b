from __future__ import annotations

from typing import cast

from flask import Response, current_app

from loyalty.core.api import Blueprint
from loyalty.core.apidoc import path_params
from loyalty.core.auth import requires
from loyalty.core.web import read_engine
from loyalty.pos import api_examples, lookup, schemas

blp = Blueprint("pos", __name__, url_prefix="/v1/pos", description="The till's fast lookup")


@blp.route("/members/<identifier>", methods=["GET"], parameters=path_params("identifier"))
@blp.doc(operationId="pos.lookup")
@blp.response(200, schemas.PosMemberSchema, example=api_examples.LOOKUP_RESPONSE)
@blp.doc(responses={"404": "NotFound"})
@requires("pos", "staff")
def pos_member(identifier: str) -> Response:
    """Find a member by member number (check digit verified), phone in any common format, or coupon code

    The till's fast lookup: finds a member by member number (check digit verified), phone in any
    common format, or coupon code, and answers name, tier and balance. Errors: 404 not_found when
    nothing matches.
    """
    # Already in its answered shape (see loyalty/pos/lookup.py): no schema dump on the till's hot path.
    return cast(Response, current_app.json.response(lookup.lookup(read_engine(), identifier=identifier)))
