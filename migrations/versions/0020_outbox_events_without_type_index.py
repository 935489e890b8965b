"""outbox_events_without_type_index: no index on the event's type

Nothing reads events by type (delivery goes by id among the undispatched, retention by time,
erasure by member), and every order's event paid for the index on its insert.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 12:00:00
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_events_type")


def downgrade() -> None:
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_events_type", ["type"], unique=False)
