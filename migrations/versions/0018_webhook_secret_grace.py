"""webhook_secret_grace: the secret a rotation replaced keeps signing until its grace period ends

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 02:00:00
"""

import sqlalchemy as sa
from alembic import op

import loyalty.core.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_secret", sa.String(length=120), nullable=True))
        batch_op.add_column(
            sa.Column("previous_secret_until", loyalty.core.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions", schema=None) as batch_op:
        batch_op.drop_column("previous_secret_until")
        batch_op.drop_column("previous_secret")
