"""orders: the errors of dead letters (orders consumes events since 0006) encrypted at rest, as the
envelopes are: the column becomes text, as a ciphertext is longer than the message it hides

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 17:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mercato.platform.keyrotation import encrypt_in_migration, kernel_tables


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _keys():
    from mercato.services.orders.settings import OrdersSettings

    return OrdersSettings().keys()


def upgrade() -> None:
    with op.batch_alter_table('dead_letters') as batch_op:
        batch_op.alter_column('error', existing_type=sa.String(length=2000), type_=sa.Text())
    encrypt_in_migration(op.get_bind(), kernel_tables(('envelope', 'error')), _keys)


def downgrade() -> None:
    raise NotImplementedError('personal data stays encrypted: restore a backup to go back')
