"""settings pages of the console."""

from __future__ import annotations

from loyalty.console.blueprint import bp
from loyalty.console.web import page


@bp.get("/settings")
def settings():
    return page("console/base.html")
