"""notifications: delivery errors (an SMTP refusal quotes the address) and dead letters' errors (a parse
error quotes the event) encrypted at rest

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 17:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mercato.platform.crypto import Encrypted
from mercato.platform.keyrotation import EncryptedTable, encrypt_in_migration, kernel_tables


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _keys():
    from mercato.services.notifications.settings import NotificationsSettings

    return NotificationsSettings().keys()


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch_op:
        batch_op.alter_column('last_error', existing_type=sa.String(length=500), type_=sa.Text())
    with op.batch_alter_table('dead_letters') as batch_op:
        batch_op.alter_column('error', existing_type=sa.String(length=2000), type_=sa.Text())
    messages = sa.Table(
        'messages', sa.MetaData(), sa.Column('id', sa.String(40), primary_key=True),
        sa.Column('last_error', Encrypted()),
    )
    encrypt_in_migration(
        op.get_bind(),
        [EncryptedTable(messages, [messages.c.last_error]), *kernel_tables(('error',))],
        _keys,
    )


def downgrade() -> None:
    raise NotImplementedError('personal data stays encrypted: restore a backup to go back')
