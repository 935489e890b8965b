"""The console's own tables: who is signed in, and the key that signs its cookies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.core.db import Base, UTCDateTime


class ConsoleSession(Base):
    __tablename__ = "console_sessions"

    # sha256 of the random id in the cookie: a stolen copy of this table signs nobody in.
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    api_key_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), ForeignKey("api_keys.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ConsoleSecret(Base):
    __tablename__ = "console_secret"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
