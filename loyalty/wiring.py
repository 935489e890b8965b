"""Connects features through the members' hooks; called by create_app, the CLI and the scheduler."""

from __future__ import annotations


def wire() -> None:
    from loyalty.members import hooks
    from loyalty.tiers.service import place_new_member

    hooks.register(hooks.on_enrolled, place_new_member)
