"""privacy_retention

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 20:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Which member an event or a remembered response is about, so erasure finds them by index
    # (and the retention purge finds a delivery's event) instead of scanning JSON and text.
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("member_id", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_outbox_events_member_id", ["member_id"], unique=False)
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("member_id", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_idempotency_records_member_id", ["member_id"], unique=False)
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_deliveries_event", ["event_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_event")
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.drop_index("ix_idempotency_records_member_id")
        batch_op.drop_column("member_id")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_events_member_id")
        batch_op.drop_column("member_id")
