"""notifications: push — the devices that take push notifications (token encrypted, looked up by its
SHA-256), a message's platform (a push goes to an iOS or Android device), and the session revocations
that the devices API checks shopper tokens against (kept from CustomerSessionsRevoked)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 21:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op



revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('devices',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=False),
    sa.Column('platform', sa.String(length=8), nullable=False),
    sa.Column('token', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index(op.f('ix_devices_customer_id'), 'devices', ['customer_id'], unique=False)
    op.create_table('session_revocations',
    sa.Column('customer_id', sa.String(length=40), nullable=False),
    sa.Column('valid_after', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('customer_id')
    )
    with op.batch_alter_table('messages') as batch_op:
        batch_op.add_column(sa.Column('platform', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('messages') as batch_op:
        batch_op.drop_column('platform')
    op.drop_table('session_revocations')
    op.drop_index(op.f('ix_devices_customer_id'), table_name='devices')
    op.drop_table('devices')
