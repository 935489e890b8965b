from __future__ import annotations

from loyalty.core.api import Blueprint
from loyalty.core.auth import accepts_json, idempotent, requires
from loyalty.core.web import request_session
from loyalty.program import service
from loyalty.program.schemas import ProgramSchema, ProgramUpdateSchema

blp = Blueprint("program", __name__, url_prefix="/v1/program", description="Program settings")


@blp.route("", methods=["GET"])
@blp.doc(operationId="program.get")
@blp.response(200, ProgramSchema)
@requires("storefront", "pos", "staff")
def get_program():
    """Read the program settings

    Reads the program settings: earning rate, pending days, expiry, redemption rules. Errors: only
    authentication and rate limiting.
    """
    return service.get_program(request_session())


@blp.route("", methods=["PATCH"])
@blp.doc(operationId="program.update")
@blp.arguments(ProgramUpdateSchema)
@blp.response(200, ProgramSchema)
@accepts_json
@idempotent
@requires()
def patch_program(changes):
    """Change program settings (admin); only the fields sent change

    Changes program settings (admin); only the fields sent change. Errors: 422 validation_error.
    """
    return service.update_program(request_session(), changes=changes)
