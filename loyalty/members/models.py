from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.core.db import Base, UTCDateTime
from loyalty.core.models import BigIntPK

CHANNELS = ("email", "sms", "phone", "push")
CONSENT_KEYS = CHANNELS + ("marketing",)
STATUSES = ("active", "suspended", "blocked")


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        Index("ix_members_birthday", "birthday"),
        Index("ix_members_tier_code_status", "tier_code", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    member_number: Mapped[str] = mapped_column(String(12), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    # casefold()ed name for `?q=`: SQLite's lower() only folds ASCII.
    search_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    birthday: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    occupation: Mapped[str | None] = mapped_column(String(100))
    timezone: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(35))
    consent: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), index=True)
    tier_code: Mapped[str | None] = mapped_column(String(20))
    referral_code_used: Mapped[str | None] = mapped_column(String(32))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A merged member is a tombstone that resolves to the survivor.
    merged_into: Mapped[str | None] = mapped_column(ForeignKey("members.id"), index=True)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    tag_rows: Mapped[list[MemberTag]] = relationship(
        cascade="all, delete-orphan", order_by="MemberTag.tag", lazy="select"
    )

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]

    @property
    def tier(self) -> str | None:
        return self.tier_code

    @property
    def referral_code(self) -> str | None:
        return self.referral_code_used


class MemberTag(Base):
    """Tags in their own table so `?tag=` is an indexed lookup on both databases."""

    __tablename__ = "member_tags"

    member_id: Mapped[str] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(50), primary_key=True, index=True)


class MemberEvent(Base):
    """What happened to the member record itself (enrolled, changed, merged, erased).

    Holds field names, never their values, so erasure leaves nothing personal here.
    """

    __tablename__ = "member_events"
    __table_args__ = (Index("ix_member_events_member_at", "member_id", "at", "id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[dict] = mapped_column(JSON)
