"""customers: session revocations ("sessions valid after" per customer: CurrentCustomer refuses older
tokens)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 17:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('session_revocations',
    sa.Column('customer_id', sa.String(length=40), nullable=False),
    sa.Column('valid_after', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('customer_id')
    )


def downgrade() -> None:
    op.drop_table('session_revocations')
