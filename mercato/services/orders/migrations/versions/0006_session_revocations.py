"""orders: session revocations (kept from CustomerSessionsRevoked), and the inbox and dead letters
that customer events are consumed through (orders now consumes events)

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
    op.create_table('inbox',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('handler', sa.String(length=100), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id', 'handler')
    )
    op.create_index('ix_inbox_processed_at', 'inbox', ['processed_at'], unique=False)
    op.create_table('dead_letters',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('handler', sa.String(length=100), nullable=False),
    sa.Column('envelope', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=2000), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ux_dead_letters_event_handler', 'dead_letters', ['event_id', 'handler'], unique=True)
    op.create_index('ix_dead_letters_status', 'dead_letters', ['status', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_table('dead_letters')
    op.drop_table('inbox')
    op.drop_table('session_revocations')
