"""sign-in failures per account (the per-account sign-in limit, shared by every replica)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 17:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sign_in_failures',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('account_key', sa.String(length=64), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_sign_in_failures_account', 'sign_in_failures', ['account_key', 'failed_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sign_in_failures_account', table_name='sign_in_failures')
    op.drop_table('sign_in_failures')
