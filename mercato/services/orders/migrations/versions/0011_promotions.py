"""orders: promotions and gift cards at checkout — promotions, their codes and batches, redemptions and
per-buyer counters; the codes on a cart; the promotions, tenders and per-line discount facts an order keeps

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "promotions",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("trigger", sa.String(10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("combines", sa.Boolean(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("action", sa.JSON(), nullable=False),
        sa.Column("usage_limit", sa.Integer(), nullable=True),
        sa.Column("per_customer_limit", sa.Integer(), nullable=True),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_promotions_active", "promotions", ["active", "trigger"])
    op.create_table(
        "promotion_codes",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column(
            "promotion_id", sa.String(40), sa.ForeignKey("promotions.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("batch_id", sa.String(40), nullable=True),
        sa.Column("usage_limit", sa.Integer(), nullable=True),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("ix_promotion_codes_promotion", "promotion_codes", ["promotion_id", "batch_id"])
    op.create_table(
        "promotion_code_batches",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column(
            "promotion_id", sa.String(40), sa.ForeignKey("promotions.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("requested", sa.Integer(), nullable=False),
        sa.Column("generated", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("staff_id", sa.String(40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "promotion_redemptions",
        sa.Column("order_id", sa.String(40), sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
        sa.Column("promotion_id", sa.String(40), nullable=False),
        sa.Column("code", sa.String(40), nullable=True),
        sa.Column("buyer_key", sa.String(64), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "promotion_id"),
    )
    op.create_index("ix_promotion_redemptions_buyer", "promotion_redemptions", ["promotion_id", "buyer_key"])
    op.create_table(
        "promotion_buyer_uses",
        sa.Column(
            "promotion_id", sa.String(40), sa.ForeignKey("promotions.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("buyer_key", sa.String(64), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("promotion_id", "buyer_key"),
    )
    with op.batch_alter_table("carts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("codes", sa.JSON(), nullable=True))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("promotions", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("tenders", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("list_unit_price", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("kind", sa.String(12), nullable=False, server_default="physical"))
        batch_op.add_column(sa.Column("refunded_quantity", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_column("refunded_quantity")
        batch_op.drop_column("kind")
        batch_op.drop_column("list_unit_price")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("tenders")
        batch_op.drop_column("promotions")
    with op.batch_alter_table("carts", schema=None) as batch_op:
        batch_op.drop_column("codes")
    op.drop_table("promotion_buyer_uses")
    op.drop_index("ix_promotion_redemptions_buyer", table_name="promotion_redemptions")
    op.drop_table("promotion_redemptions")
    op.drop_table("promotion_code_batches")
    op.drop_index("ix_promotion_codes_promotion", table_name="promotion_codes")
    op.drop_table("promotion_codes")
    op.drop_index("ix_promotions_active", table_name="promotions")
    op.drop_table("promotions")
