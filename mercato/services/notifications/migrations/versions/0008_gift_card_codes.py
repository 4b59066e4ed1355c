"""notifications: an e-mail may carry a gift card's code, fetched from payments when it is sent (the code
is never stored here)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gift_card_id", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("gift_card_id")
