"""orders: the sale that priced an order line (its promotion's id and name, as sold), so the promotions
report credits each sale exactly and the order keeps it

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 22:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sale_promotion_id", sa.String(40), nullable=True))
        batch_op.add_column(sa.Column("sale_name", sa.String(120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_column("sale_name")
        batch_op.drop_column("sale_promotion_id")
