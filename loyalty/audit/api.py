from __future__ import annotations

from typing import Any

from loyalty.audit import schemas, service
from loyalty.core.api import Blueprint
from loyalty.core.auth import requires
from loyalty.core.web import request_session

blp = Blueprint("audit", __name__, url_prefix="/v1/audit-log", description="Audit log (admin)")


@blp.route("", methods=["GET"])
@blp.doc(operationId="audit.list")
@blp.arguments(schemas.AuditQueryArgsSchema, location="query")
@blp.response(200, schemas.AuditPageSchema)
@requires()
def list_audit_log(args: dict[str, Any]) -> dict[str, Any]:
    """Who changed what and when, newest first: ids and field names, never values

    Pages through the audit log, newest first, filtered by actor, target, action and time window.
    Entries name ids and field names, never personal values. Errors: 400 invalid_cursor for a cursor
    this service didn't issue; 422 validation_error for a bad filter.
    """
    return service.list_entries(request_session(), **args)
