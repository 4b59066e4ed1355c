"""orders: shipping addresses encrypted at rest (in their JSON column, as {"$enc": ciphertext}), and the
stored answers of idempotent checkouts, which repeat them

The data step encrypts existing rows with the keys of the orders' settings (MERCATO_ORDERS_DATA_KEYS or
the key file), and only when there are rows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 17:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mercato.platform.crypto import EncryptedJSON
from mercato.platform.keyrotation import EncryptedTable, encrypt_in_migration, kernel_tables


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _keys():
    from mercato.services.orders.settings import OrdersSettings

    return OrdersSettings().keys()


def upgrade() -> None:
    orders = sa.Table(
        'orders', sa.MetaData(), sa.Column('id', sa.String(40), primary_key=True),
        sa.Column('shipping_address', EncryptedJSON()),
    )
    encrypt_in_migration(
        op.get_bind(), [EncryptedTable(orders, [orders.c.shipping_address]), *kernel_tables()], _keys
    )


def downgrade() -> None:
    raise NotImplementedError('personal data stays encrypted: restore a backup to go back')
