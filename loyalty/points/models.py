from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Numeric, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.core.db import Base, UTCDateTime
from loyalty.core.models import BigIntPK

KINDS = ("earn", "bonus", "redeem", "reversal", "return", "expire", "adjust", "merge")


class PointAccount(Base):
    """One row per member: the lock every balance change takes, and what isn't a lot.

    `debt` is what a refund reversed beyond the points left: new earnings pay it first.
    """

    __tablename__ = "point_accounts"

    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"), primary_key=True)
    debt: Mapped[int] = mapped_column(BigInteger, default=0)
    lifetime_earned: Mapped[int] = mapped_column(BigInteger, default=0)
    # Orders awarded so far: tells the first order without counting the orders table.
    orders_count: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The available points (matured unexpired lots less the debt) as `points.balances` last counted
    # them at `balance_at`, for segments over a whole member base; right from then until
    # `balance_until` (the next open lot to mature or expire; NULL: none will). Every write that
    # takes this row's lock sets it to NULL: "changed since", and a reader counts that member's lots
    # live (loyalty/points/balances.py).
    balance: Mapped[int | None] = mapped_column(BigInteger)
    balance_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the instant it was counted at
    balance_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LedgerEntry(Base):
    """Append-only: never updated, never deleted. A source yields one entry of each kind per member."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        UniqueConstraint("member_id", "kind", "source_type", "source_id"),
        Index("ix_ledger_entries_member_id_id", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(10))
    points: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    available_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    source_type: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[str] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str | None] = mapped_column(String(40))


class PointLot(Base):
    """Points credited together, spent first-to-expire-first; only `remaining` ever changes."""

    __tablename__ = "point_lots"
    __table_args__ = (
        Index(
            "ix_point_lots_open_by_member",
            "member_id",
            "expires_at",
            "id",
            postgresql_where=text("remaining > 0"),
            sqlite_where=text("remaining > 0"),
        ),
        Index(
            "ix_point_lots_open_by_expiry",
            "expires_at",
            "id",
            postgresql_where=text("remaining > 0"),
            sqlite_where=text("remaining > 0"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    points: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Promotion(Base):
    """A multiplier for a date window, optionally only some categories or channels."""

    __tablename__ = "promotions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    multiplier: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    categories: Mapped[list] = mapped_column(JSON)
    channels: Mapped[list] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ExpiryNotice(Base):
    """Points about to expire, noted once per member and expiry instant (for `points.expiring`)."""

    __tablename__ = "expiry_notices"
    __table_args__ = (UniqueConstraint("member_id", "expires_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    points: Mapped[int] = mapped_column(BigInteger)
    noticed_at: Mapped[datetime] = mapped_column(UTCDateTime())
