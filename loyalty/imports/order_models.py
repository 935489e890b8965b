"""The staging table of `loyalty import orders`: every line of a run, read and checked, before any
order is posted. Lines of one order may lie anywhere in the file; staged, they are grouped by
member and order with indexed reads instead of being held in memory."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.core.db import Base, UTCDateTime
from loyalty.core.models import BigIntPK

Money = Numeric(18, 4)


class ImportOrderLine(Base):
    __tablename__ = "import_order_lines"
    __table_args__ = (
        Index("ix_import_order_lines_run_member", "run", "member_id", "placed_at"),
        Index("ix_import_order_lines_run_order", "run", "order_id"),
        Index("ix_import_order_lines_run_line", "run", "line"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    run: Mapped[str] = mapped_column(String(32))  # one import run; its rows are deleted when it ends
    staged_at: Mapped[datetime] = mapped_column(UTCDateTime())  # an interrupted run's leftovers age out
    line: Mapped[int] = mapped_column(Integer)  # the file's line, for the reject file
    raw: Mapped[str] = mapped_column(Text)  # the row as read (a JSON list), for the reject file
    # Why the line is rejected (a stable code); NULL while it may go in.
    reason: Mapped[str | None] = mapped_column(String(40))  # a code (order_rules.DETAILS)
    existing: Mapped[bool] = mapped_column(default=False)  # its order id was already known
    order_id: Mapped[str | None] = mapped_column(String(100))
    member_id: Mapped[str | None] = mapped_column(String(32))
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sku: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(50))
    quantity: Mapped[int | None] = mapped_column(Integer)
    unit_price: Mapped[Decimal | None] = mapped_column(Money)
    discount: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    channel: Mapped[str | None] = mapped_column(String(10))
    store: Mapped[str | None] = mapped_column(String(100))
    shipping: Mapped[Decimal | None] = mapped_column(Money)
    tax: Mapped[Decimal | None] = mapped_column(Money)
    refunded_amount: Mapped[Decimal | None] = mapped_column(Money)
