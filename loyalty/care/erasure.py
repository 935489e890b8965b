"""Erasure of what care keeps about a member: rendered messages, call notes, complaints."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from loyalty.care.models import Interaction, Touch
from loyalty.core.db import utcnow

ERASED_TEXT = "[erased]"  # interactions.content can't be empty: it says what was there, not what it was


def forget_member(session: Session, member_id: str) -> None:
    """Messages are rendered with the member's name and notes and complaints describe them: all of
    it goes. What happened (kind, channel, outcome, score, dates) stays for the figures."""
    session.execute(
        update(Touch)
        .where(Touch.member_id == member_id)
        .values(message=None, notes=None)
        .execution_options(synchronize_session=False)
    )
    # Nobody is left to greet or call back: what was still to do is dropped, with the reason, so
    # it leaves the staff's call list and the dispatcher's queue.
    session.execute(
        update(Touch)
        .where(Touch.member_id == member_id, Touch.status.in_(("planned", "callback")))
        .values(status="suppressed", reason="member_erased", closed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Interaction)
        .where(Interaction.member_id == member_id)
        .values(content=ERASED_TEXT, resolution=None)
        .execution_options(synchronize_session=False)
    )
