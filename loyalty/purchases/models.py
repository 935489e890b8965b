"""The orders, refunds and refunded items tables: written by `orders`, read by features below it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.core.db import Base, UTCDateTime

Money = Numeric(18, 4)


class Order(Base):
    """An order seen once: its id is the storefront's, so a retried post can't award twice."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_member_placed", "member_id", "placed_at"),)

    order_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.id"))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    currency: Mapped[str] = mapped_column(String(3))
    exchange_rate: Mapped[Decimal] = mapped_column(Numeric(18, 8))
    channel: Mapped[str] = mapped_column(String(10))
    store_id: Mapped[str | None] = mapped_column(String(100))
    items: Mapped[list] = mapped_column(JSON)
    shipping: Mapped[Decimal] = mapped_column(Money)
    tax: Mapped[Decimal] = mapped_column(Money)
    net_amount: Mapped[Decimal] = mapped_column(Money)  # items after discounts, order currency
    eligible_amount: Mapped[Decimal] = mapped_column(Money)  # what earns, order currency
    program_amount: Mapped[Decimal] = mapped_column(Money)  # net_amount in program currency
    points_earned: Mapped[int] = mapped_column(BigInteger)
    bonus_points: Mapped[int] = mapped_column(BigInteger)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime())
    tier_after: Mapped[str | None] = mapped_column(String(20))
    refunded_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    refunded_eligible: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    points_reversed: Mapped[int] = mapped_column(BigInteger, default=0)
    # Of points_reversed, those not taken again because they had already expired.
    points_forgiven: Mapped[int] = mapped_column(BigInteger, default=0)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str | None] = mapped_column(String(40))

    @property
    def reversed_points(self) -> int:
        """Points refunds actually took back (expired ones aren't taken twice)."""
        return (self.points_reversed or 0) - (self.points_forgiven or 0)


class Refund(Base):
    __tablename__ = "refunds"

    refund_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    eligible_amount: Mapped[Decimal] = mapped_column(Money)
    items: Mapped[list | None] = mapped_column(JSON)
    points_reversed: Mapped[int] = mapped_column(BigInteger)
    # Points the member had paid on the order with points, given back in the refund's proportion.
    points_returned: Mapped[int] = mapped_column(BigInteger, default=0)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str | None] = mapped_column(String(40))


class RefundedItem(Base):
    """Quantity refunded per order line, so items can't be refunded twice."""

    __tablename__ = "refunded_items"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
