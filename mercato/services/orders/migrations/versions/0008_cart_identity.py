"""orders: carts have an identity (issue 15). A cart is an account's (one per customer) or a guest's (found
by the SHA-256 of its cart token), and carries the quote's destination, shipping method and a guest's
e-mail; cart lines belong to a cart. Orders record the cart they were bought from, and a guest's order
has no customer but the guest's e-mail (encrypted) and its blind index.

The data step gives every customer with cart lines one cart and moves the lines into it, holds
(a checkout paying right now) included.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 00:30:00
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from mercato.platform.ids import new_id


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    carts = op.create_table('carts',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('shipping_address', sa.JSON(), nullable=True),
    sa.Column('billing_address', sa.JSON(), nullable=True),
    sa.Column('shipping_method_id', sa.String(length=40), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('customer_id'),
    sa.UniqueConstraint('token_hash'),
    )
    op.create_table('cart_lines_0008',
    sa.Column('cart_id', sa.String(length=40), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('order_id', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['cart_id'], ['carts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cart_id', 'sku', name='pk_cart_lines'),
    )

    bind = op.get_bind()
    now = datetime.now(UTC)
    customers = [row[0] for row in bind.execute(sa.text('SELECT DISTINCT customer_id FROM cart_lines'))]
    if customers:
        op.bulk_insert(carts, [
            {'id': new_id('cart'), 'customer_id': customer, 'created_at': now, 'updated_at': now}
            for customer in customers
        ])
    bind.execute(sa.text(
        'INSERT INTO cart_lines_0008 (cart_id, sku, quantity, added_at, order_id)'
        ' SELECT carts.id, cart_lines.sku, cart_lines.quantity, cart_lines.added_at, cart_lines.order_id'
        ' FROM cart_lines JOIN carts ON carts.customer_id = cart_lines.customer_id'
    ))
    op.drop_table('cart_lines')
    op.rename_table('cart_lines_0008', 'cart_lines')
    op.create_index('ix_cart_lines_order', 'cart_lines', ['order_id'], unique=False)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.alter_column('customer_id', existing_type=sa.String(length=40), nullable=True)
        batch_op.add_column(sa.Column('cart_id', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('email', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('email_index', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_orders_cart_idempotency_key', ['cart_id', 'idempotency_key'])
        batch_op.create_index('ix_orders_email_index', ['email_index'], unique=False)


def downgrade() -> None:
    raise NotImplementedError('guest carts have no customer to give their lines back to: restore a backup')
