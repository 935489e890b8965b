"""stored_available_balance: each account's available points, for segments over every member

`points.balances` counts them; every balance change sets them back to NULL ("count live").
Members given lots without an account (imported history) get their account here, so that a
member without an account has no points.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 15:30:00
"""

import sqlalchemy as sa
from alembic import op

from loyalty.core.db import UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("point_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("balance", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("balance_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("balance_until", UTCDateTime(timezone=True), nullable=True))
    op.execute(
        "INSERT INTO point_accounts (member_id, debt, lifetime_earned, orders_count, updated_at) "
        "SELECT DISTINCT l.member_id, 0, 0, 0, CURRENT_TIMESTAMP FROM point_lots l "
        "WHERE NOT EXISTS (SELECT 1 FROM point_accounts a WHERE a.member_id = l.member_id) "
        "ON CONFLICT DO NOTHING"  # an account the running service made meanwhile
    )


def downgrade() -> None:
    with op.batch_alter_table("point_accounts", schema=None) as batch_op:
        batch_op.drop_column("balance_until")
        batch_op.drop_column("balance_at")
        batch_op.drop_column("balance")
