"""notifications: an order summary keeps a guest order's signed link (from OrderPlaced), which every
later message about the order points to; encrypted, as it opens the order

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_summaries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("order_url", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_summaries", schema=None) as batch_op:
        batch_op.drop_column("order_url")
