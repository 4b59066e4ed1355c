"""notifications: contacts and messages encrypted at rest (e-mail, name, phone; each message's address,
subject and bodies; event envelopes of dead letters)

The data step encrypts existing rows with the keys of the notifications' settings
(MERCATO_NOTIFICATIONS_DATA_KEYS or the key file), and only when there are rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 17:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mercato.platform.crypto import Encrypted
from mercato.platform.keyrotation import EncryptedTable, encrypt_in_migration, kernel_tables


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECIPIENT_FIELDS = ('email', 'name', 'phone')
MESSAGE_FIELDS = ('to_address', 'subject', 'body_text', 'body_html')


def _keys():
    from mercato.services.notifications.settings import NotificationsSettings

    return NotificationsSettings().keys()


def upgrade() -> None:
    with op.batch_alter_table('recipients') as batch_op:
        for column in RECIPIENT_FIELDS:
            batch_op.alter_column(column, type_=sa.Text())
    with op.batch_alter_table('messages') as batch_op:
        for column in MESSAGE_FIELDS:
            batch_op.alter_column(column, type_=sa.Text())

    meta = sa.MetaData()
    recipients = sa.Table(
        'recipients', meta, sa.Column('customer_id', sa.String(40), primary_key=True),
        *(sa.Column(name, Encrypted()) for name in RECIPIENT_FIELDS),
    )
    messages = sa.Table(
        'messages', meta, sa.Column('id', sa.String(40), primary_key=True),
        *(sa.Column(name, Encrypted()) for name in MESSAGE_FIELDS),
    )
    encrypt_in_migration(
        op.get_bind(),
        [
            EncryptedTable(recipients, [recipients.c[name] for name in RECIPIENT_FIELDS]),
            EncryptedTable(messages, [messages.c[name] for name in MESSAGE_FIELDS]),
            *kernel_tables(),
        ],
        _keys,
    )


def downgrade() -> None:
    raise NotImplementedError('personal data stays encrypted: restore a backup to go back')
