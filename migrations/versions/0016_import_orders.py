"""import_orders

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 00:00:00
"""

import sqlalchemy as sa
from alembic import op

import loyalty.core.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # `loyalty import orders` stages every line of a run here before posting any order, so lines of
    # one order scattered through the file are grouped by indexed reads, not held in memory.
    op.create_table(
        "import_order_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("run", sa.String(length=32), nullable=False),
        sa.Column("staged_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("existing", sa.Boolean(), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=True),
        sa.Column("member_id", sa.String(length=32), nullable=True),
        sa.Column("placed_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("category", sa.String(length=50), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("unit_price", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("discount", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=True),
        sa.Column("store", sa.String(length=100), nullable=True),
        sa.Column("shipping", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("tax", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("refunded_amount", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_order_lines")),
    )
    op.create_index("ix_import_order_lines_run_member", "import_order_lines", ["run", "member_id", "placed_at"])
    op.create_index("ix_import_order_lines_run_order", "import_order_lines", ["run", "order_id"])
    op.create_index("ix_import_order_lines_run_line", "import_order_lines", ["run", "line"])


def downgrade() -> None:
    op.drop_index("ix_import_order_lines_run_line", table_name="import_order_lines")
    op.drop_index("ix_import_order_lines_run_order", table_name="import_order_lines")
    op.drop_index("ix_import_order_lines_run_member", table_name="import_order_lines")
    op.drop_table("import_order_lines")
