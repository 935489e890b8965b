"""shared_work: campaigns.fanned_at, so scheduler processes sharing campaigns.run keep the send rate;
an index of pending webhook deliveries, so claiming them stays quick behind a long backlog

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 00:00:00
"""

import sqlalchemy as sa
from alembic import op

import loyalty.core.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fanned_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_webhook_deliveries_pending",
        "webhook_deliveries",
        ["subscription_id", "event_id"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_webhook_deliveries_pending",
        table_name="webhook_deliveries",
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("fanned_at")
