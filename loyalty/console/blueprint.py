"""The console's one blueprint: every page module adds its routes to it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")
