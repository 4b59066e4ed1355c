"""payments: the staff member who asked for a payment record

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 00:25:06.161504
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, not a batch operation: on SQLite a batch may copy the table, and the copy would
# lose the triggers that keep payment_records append-only. Adding (or dropping) a nullable column in
# place changes no row, so the triggers neither fire nor go.


def upgrade() -> None:
    op.add_column('payment_records', sa.Column('staff_id', sa.String(length=40), nullable=True))


def downgrade() -> None:
    op.drop_column('payment_records', 'staff_id')
