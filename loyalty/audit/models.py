"""The audit log: who changed what, when, in which request.

Rows hold ids and field names, never values: a member's erasure must never need to
change the log, and the log must never become a second copy of anyone's data.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.core.db import Base, UTCDateTime
from loyalty.core.models import BigIntPK


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(20), index=True)  # the key's prefix, or "cli"
    actor_name: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(100))  # e.g. members.update_member, keys.create
    target: Mapped[str | None] = mapped_column(String(100), index=True)
    fields: Mapped[list] = mapped_column(JSON)  # names of the fields sent, e.g. ["email", "consent.sms"]
    request_id: Mapped[str | None] = mapped_column(String(128))
