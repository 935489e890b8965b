"""returns_and_coupons

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 19:20:00
"""

import sqlalchemy as sa
from alembic import op

import loyalty.core.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Points paid on an order come back with its refunds, or with a staff reversal.
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("points_returned", sa.BigInteger(), nullable=False, server_default=sa.text("0")))
        batch_op.add_column(sa.Column("reversed_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reversal_reason", sa.String(length=500), nullable=True))
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("points_returned", sa.BigInteger(), nullable=False, server_default=sa.text("0")))
    # A coupon records the order it was used on, and is voided when its redemption is reversed.
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("order_id", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("voided_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.drop_column("voided_at")
        batch_op.drop_column("order_id")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_column("points_returned")
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.drop_column("reversal_reason")
        batch_op.drop_column("reversed_at")
        batch_op.drop_column("points_returned")
