"""Finding a member: /console/members?q="""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue

from loyalty.console.blueprint import bp
from loyalty.console.search import find_members
from loyalty.console.web import limit_arg, page
from loyalty.core.web import request_session


@bp.get("/members")
def members() -> ResponseReturnValue:
    q = request.args.get("q", "")[:200]
    found = find_members(request_session(), q=q, limit=limit_arg(), cursor=request.args.get("cursor"))
    return page("console/members.html", q=q, found=found)
