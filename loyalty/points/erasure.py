"""Erasure in the ledger: the entries stay (balances and liability must still add up), their notes go."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from loyalty.points.models import LedgerEntry


def forget_member(session: Session, member_id: str) -> None:
    # A staff correction's note is free text ("goodwill for Ms Li's broken vase"); kind, points,
    # source and actor keep the entry explainable without it.
    session.execute(
        update(LedgerEntry)
        .where(LedgerEntry.member_id == member_id, LedgerEntry.note.is_not(None))
        .values(note=None)
        .execution_options(synchronize_session=False)
    )
