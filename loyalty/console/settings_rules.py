"""Program settings pages of the console (admin): program, tier ladder, care rules and templates, rewards, webhooks."""

from __future__ import annotations

from loyalty.console.blueprint import bp  # noqa: F401
