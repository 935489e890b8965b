"""member_actions pages of the console."""

from __future__ import annotations

from loyalty.console.blueprint import bp
