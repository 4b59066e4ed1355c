"""notifications: an order summary keeps the order's short human number (from OrderPlaced)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 17:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_summaries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.String(length=24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_summaries", schema=None) as batch_op:
        batch_op.drop_column("number")
