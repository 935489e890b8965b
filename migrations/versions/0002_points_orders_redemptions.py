"""points ledger, lots, orders, refunds, redemptions, rewards, promotions; member search name

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:34:13.757651
"""

import sqlalchemy as sa
from alembic import op

import loyalty.core.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "promotions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("multiplier", sa.Numeric(precision=6, scale=3), nullable=False),
        sa.Column("starts_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotions")),
    )
    op.create_table(
        "rewards",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("points_cost", sa.BigInteger(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("min_tier", sa.String(length=20), nullable=True),
        sa.Column("valid_from", loyalty.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("valid_until", loyalty.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("coupon_valid_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards")),
    )
    op.create_table(
        "coupons",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("redemption_id", sa.String(length=32), nullable=False),
        sa.Column("reward_id", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("issued_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", loyalty.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_coupons_member_id_members")),
        sa.ForeignKeyConstraint(["reward_id"], ["rewards.id"], name=op.f("fk_coupons_reward_id_rewards")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_coupons")),
        sa.UniqueConstraint("redemption_id", name=op.f("uq_coupons_redemption_id")),
    )
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coupons_member_id"), ["member_id"], unique=False)

    op.create_table(
        "expiry_notices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("expires_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("noticed_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_expiry_notices_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expiry_notices")),
        sa.UniqueConstraint("member_id", "expires_at", name=op.f("uq_expiry_notices_member_id_expires_at")),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("created_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("available_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("source_type", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.String(length=120), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("actor", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_ledger_entries_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint(
            "member_id",
            "kind",
            "source_type",
            "source_id",
            name=op.f("uq_ledger_entries_member_id_kind_source_type_source_id"),
        ),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_entries_member_id_id", ["member_id", "id"], unique=False)

    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("placed_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("exchange_rate", sa.Numeric(precision=18, scale=8), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("store_id", sa.String(length=100), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("shipping", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("tax", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("net_amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("eligible_amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("program_amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("points_earned", sa.BigInteger(), nullable=False),
        sa.Column("bonus_points", sa.BigInteger(), nullable=False),
        sa.Column("available_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tier_after", sa.String(length=20), nullable=True),
        sa.Column("refunded_amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("refunded_eligible", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("points_reversed", sa.BigInteger(), nullable=False),
        sa.Column("points_forgiven", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_orders_member_id_members")),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_member_placed", ["member_id", "placed_at"], unique=False)

    op.create_table(
        "point_accounts",
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("debt", sa.BigInteger(), nullable=False),
        sa.Column("lifetime_earned", sa.BigInteger(), nullable=False),
        sa.Column("orders_count", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_point_accounts_member_id_members")),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_point_accounts")),
    )
    op.create_table(
        "redemptions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=True),
        sa.Column("order_amount", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("reward_id", sa.String(length=32), nullable=True),
        sa.Column("coupon_code", sa.String(length=20), nullable=True),
        sa.Column("expires_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_redemptions_member_id_members")),
        sa.ForeignKeyConstraint(["reward_id"], ["rewards.id"], name=op.f("fk_redemptions_reward_id_rewards")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
    )
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_redemptions_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_redemptions_order_id"), ["order_id"], unique=False)
        batch_op.create_index("ix_redemptions_status_expires", ["status", "expires_at"], unique=False)

    op.create_table(
        "point_lots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("available_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_entries.id"], name=op.f("fk_point_lots_entry_id_ledger_entries")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_point_lots_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_lots")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_point_lots_entry_id")),
    )
    with op.batch_alter_table("point_lots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_point_lots_open_by_expiry",
            ["expires_at", "id"],
            unique=False,
            postgresql_where=sa.text("remaining > 0"),
            sqlite_where=sa.text("remaining > 0"),
        )
        batch_op.create_index(
            "ix_point_lots_open_by_member",
            ["member_id", "expires_at", "id"],
            unique=False,
            postgresql_where=sa.text("remaining > 0"),
            sqlite_where=sa.text("remaining > 0"),
        )

    op.create_table(
        "refunded_items",
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"], name=op.f("fk_refunded_items_order_id_orders")),
        sa.PrimaryKeyConstraint("order_id", "line", name=op.f("pk_refunded_items")),
    )
    op.create_table(
        "refunds",
        sa.Column("refund_id", sa.String(length=100), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("eligible_amount", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("items", sa.JSON(), nullable=True),
        sa.Column("points_reversed", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", loyalty.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"], name=op.f("fk_refunds_order_id_orders")),
        sa.PrimaryKeyConstraint("refund_id", name=op.f("pk_refunds")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refunds_order_id"), ["order_id"], unique=False)

    op.create_table(
        "redemption_allocations",
        sa.Column("redemption_id", sa.String(length=32), nullable=False),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["point_lots.id"], name=op.f("fk_redemption_allocations_lot_id_point_lots")
        ),
        sa.ForeignKeyConstraint(
            ["redemption_id"], ["redemptions.id"], name=op.f("fk_redemption_allocations_redemption_id_redemptions")
        ),
        sa.PrimaryKeyConstraint("redemption_id", "lot_id", name=op.f("pk_redemption_allocations")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_name", sa.String(length=200), nullable=True))
        batch_op.drop_index(batch_op.f("ix_members_name"))

    # Names are searched case-insensitively through their casefold(), which SQL can't compute.
    members = sa.table(
        "members", sa.column("id", sa.String), sa.column("name", sa.String), sa.column("search_name", sa.String)
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(members.c.id, members.c.name).where(members.c.name.is_not(None))).all()
    for member_id, name in rows:
        connection.execute(members.update().where(members.c.id == member_id).values(search_name=name.casefold()))

    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("excluded_categories", sa.JSON(), nullable=False, server_default=sa.text("'[\"gift_card\"]'"))
        )
        batch_op.add_column(sa.Column("hold_minutes", sa.Integer(), nullable=False, server_default=sa.text("15")))
        batch_op.add_column(sa.Column("pos_pending_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.drop_column("pos_pending_days")
        batch_op.drop_column("hold_minutes")
        batch_op.drop_column("excluded_categories")

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_members_name"), ["name"], unique=False)
        batch_op.drop_column("search_name")

    op.drop_table("redemption_allocations")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_order_id"))

    op.drop_table("refunds")
    op.drop_table("refunded_items")
    with op.batch_alter_table("point_lots", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_point_lots_open_by_member",
            postgresql_where=sa.text("remaining > 0"),
            sqlite_where=sa.text("remaining > 0"),
        )
        batch_op.drop_index(
            "ix_point_lots_open_by_expiry",
            postgresql_where=sa.text("remaining > 0"),
            sqlite_where=sa.text("remaining > 0"),
        )

    op.drop_table("point_lots")
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.drop_index("ix_redemptions_status_expires")
        batch_op.drop_index(batch_op.f("ix_redemptions_order_id"))
        batch_op.drop_index(batch_op.f("ix_redemptions_member_id"))

    op.drop_table("redemptions")
    op.drop_table("point_accounts")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_member_placed")

    op.drop_table("orders")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_member_id_id")

    op.drop_table("ledger_entries")
    op.drop_table("expiry_notices")
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coupons_member_id"))

    op.drop_table("coupons")
    op.drop_table("rewards")
    op.drop_table("promotions")
