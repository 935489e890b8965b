"""console_sessions

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 23:00:00
"""

import sqlalchemy as sa
from alembic import op

import loyalty.core.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A signed-in console user: the cookie carries a random id whose hash is the key here, never
    # the API key itself; signing out or idling deletes the row, so a copied cookie dies with it.
    op.create_table(
        "console_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("api_key_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index("ix_console_sessions_api_key_id", "console_sessions", ["api_key_id"])
    op.create_index("ix_console_sessions_last_seen_at", "console_sessions", ["last_seen_at"])
    # The key that signs console cookies when LOYALTY_SECRET_KEY is not set: made once, shared by
    # every worker and instance on this database.
    op.create_table(
        "console_secret",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("console_secret")
    op.drop_index("ix_console_sessions_last_seen_at", table_name="console_sessions")
    op.drop_index("ix_console_sessions_api_key_id", table_name="console_sessions")
    op.drop_table("console_sessions")
