"""foundation: api keys, idempotency, program, members, tiers

Revision ID: 0001
Revises:
Create Date: 2026-11-23 19:11:54.714923
"""

import sqlalchemy as sa
from alembic import op

import loyalty.core.db

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_table(
        "idempotency_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("response_content_type", sa.String(length=100), nullable=True),
        sa.Column("created_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_records")),
        sa.UniqueConstraint(
            "key_prefix", "idempotency_key", name=op.f("uq_idempotency_records_key_prefix_idempotency_key")
        ),
    )
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_records_created_at"), ["created_at"], unique=False)

    op.create_table(
        "members",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("member_number", sa.String(length=12), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("gender", sa.String(length=20), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("occupation", sa.String(length=100), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("locale", sa.String(length=35), nullable=True),
        sa.Column("consent", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("tier_code", sa.String(length=20), nullable=True),
        sa.Column("referral_code_used", sa.String(length=32), nullable=True),
        sa.Column("enrolled_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("merged_into", sa.String(length=32), nullable=True),
        sa.Column("erased_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["merged_into"], ["members.id"], name=op.f("fk_members_merged_into_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("email", name=op.f("uq_members_email")),
        sa.UniqueConstraint("external_id", name=op.f("uq_members_external_id")),
        sa.UniqueConstraint("member_number", name=op.f("uq_members_member_number")),
        sa.UniqueConstraint("phone", name=op.f("uq_members_phone")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index("ix_members_birthday", ["birthday"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_merged_into"), ["merged_into"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_members_status"), ["status"], unique=False)
        batch_op.create_index("ix_members_tier_code_status", ["tier_code", "status"], unique=False)

    op.create_table(
        "program",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("exchange_rates", sa.JSON(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("holiday_country", sa.String(length=8), nullable=False),
        sa.Column("points_per_unit", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("point_value", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("pending_days", sa.Integer(), nullable=False),
        sa.Column("expiry_months", sa.Integer(), nullable=False),
        sa.Column("max_redeem_share", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column("tier_metric", sa.String(length=20), nullable=False),
        sa.Column("referral", sa.JSON(), nullable=False),
        sa.Column("signup_bonus", sa.Integer(), nullable=False),
        sa.Column("first_order_bonus", sa.Integer(), nullable=False),
        sa.Column("birthday_bonus", sa.Integer(), nullable=False),
        sa.Column("updated_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program")),
    )
    op.create_table(
        "tiers",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("discount_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("earn_multiplier", sa.Numeric(precision=6, scale=3), nullable=False),
        sa.Column("benefits", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_tiers")),
        sa.UniqueConstraint("rank", name=op.f("uq_tiers_rank")),
    )
    op.create_table(
        "member_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_member_events_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_events")),
    )
    with op.batch_alter_table("member_events", schema=None) as batch_op:
        batch_op.create_index("ix_member_events_member_at", ["member_id", "at", "id"], unique=False)

    op.create_table(
        "member_tags",
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("tag", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_tags_member_id_members"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("member_id", "tag", name=op.f("pk_member_tags")),
    )
    with op.batch_alter_table("member_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_tags_tag"), ["tag"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("member_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_tags_tag"))

    op.drop_table("member_tags")
    with op.batch_alter_table("member_events", schema=None) as batch_op:
        batch_op.drop_index("ix_member_events_member_at")

    op.drop_table("member_events")
    op.drop_table("tiers")
    op.drop_table("program")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index("ix_members_tier_code_status")
        batch_op.drop_index(batch_op.f("ix_members_status"))
        batch_op.drop_index(batch_op.f("ix_members_name"))
        batch_op.drop_index(batch_op.f("ix_members_merged_into"))
        batch_op.drop_index("ix_members_birthday")

    op.drop_table("members")
    with op.batch_alter_table("idempotency_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_records_created_at"))

    op.drop_table("idempotency_records")
    op.drop_table("api_keys")
