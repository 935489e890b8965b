from __future__ import annotations

from loyalty.core.api import Blueprint
from loyalty.core.auth import accepts_json, requires
from loyalty.core.web import request_session
from loyalty.tiers import schemas, service

blp = Blueprint("tiers", __name__, url_prefix="/v1/tiers", description="The tier ladder")


@blp.route("", methods=["GET"])
@blp.response(200, schemas.LadderSchema)
@requires("storefront", "pos", "staff")
def get_ladder():
    """The tier ladder, lowest rank first"""
    return service.get_ladder(request_session())


@blp.route("", methods=["PUT"])
@blp.arguments(schemas.LadderInSchema)
@blp.response(200, schemas.LadderSchema)
@accepts_json
@requires()
def put_ladder(data):
    """Replace the whole ladder (admin): unique codes and ranks, thresholds rising from 0, multipliers >= 1"""
    return service.put_ladder(request_session(), tiers=data["tiers"])
