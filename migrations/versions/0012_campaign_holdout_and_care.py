"""campaign_holdout_and_care

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 19:20:00
"""

import sqlalchemy as sa
from alembic import op

import loyalty.core.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Campaign hold-outs: the share held out, and the flag on each touch that records who is.
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holdout_percent", sa.Integer(), server_default=sa.text("0"), nullable=False))
    with op.batch_alter_table("touches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_out", sa.Boolean(), server_default=sa.false(), nullable=False))
    # Segments are deleted softly: finished campaigns still name theirs.
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
    with op.batch_alter_table("touches", schema=None) as batch_op:
        batch_op.drop_column("held_out")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("holdout_percent")
