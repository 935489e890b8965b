"""insights_without_member_key: member_insights keeps no foreign key to members

insights.refresh writes the row of every member in one INSERT ... SELECT from members; PostgreSQL
checked the key once per row (17 of the 42 s over 1,000,000 members). The rows are derived from
members in the statement that writes them and members are never deleted (erasure scrubs the row,
a merge keeps the tombstone), so the key guarded nothing the refresh doesn't.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 12:00:00
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member_insights", schema=None) as batch_op:
        batch_op.drop_constraint("fk_member_insights_member_id_members", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("member_insights", schema=None) as batch_op:
        batch_op.create_foreign_key("fk_member_insights_member_id_members", "members", ["member_id"], ["id"])
