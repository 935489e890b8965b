"""Erasure in redemptions: a staff reversal's free-text reason goes; the redemption stays."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from loyalty.redemptions.models import Redemption


def forget_member(session: Session, member_id: str) -> None:
    session.execute(
        update(Redemption)
        .where(Redemption.member_id == member_id, Redemption.reversal_reason.is_not(None))
        .values(reversal_reason=None)
        .execution_options(synchronize_session=False)
    )
