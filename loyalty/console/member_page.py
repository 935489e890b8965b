"""member_page pages of the console."""

from __future__ import annotations

from loyalty.console.blueprint import bp
from loyalty.console.web import page


@bp.get("/members/<member_id>")
def member(member_id):
    return page("console/base.html")
