"""markets and price lists: the markets (eu, uk, us), a price per variant and currency (the variants' one
price moves there: its only home), products' tax class, variants' weight, and the read model per market
(rebuilt at start-up by catalog's `ensure_documents`)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 00:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EU = ["DE", "FR", "NL", "IT", "ES", "AT", "BE", "IE", "PT", "FI", "LU"]
MARKETS = [
    {"id": "eu", "name": "European Union", "currency": "EUR", "countries": EU,
     "prices_include_tax": True, "is_default": True, "position": 0},
    {"id": "uk", "name": "United Kingdom", "currency": "GBP", "countries": ["GB"],
     "prices_include_tax": True, "is_default": False, "position": 1},
    {"id": "us", "name": "United States", "currency": "USD", "countries": ["US"],
     "prices_include_tax": False, "is_default": False, "position": 2},
]


def _documents(per_market: bool) -> None:
    """The read model's two tables, keyed per market or (before this revision) per product."""
    market = [sa.Column('market_id', sa.String(length=16), nullable=False)] if per_market else []
    op.create_table('product_documents',
    sa.Column('product_id', sa.String(length=40), nullable=False),
    *market,
    sa.Column('slug', sa.String(length=200), nullable=False),
    sa.Column('visible', sa.Boolean(), nullable=False),
    *([sa.Column('listed', sa.Boolean(), nullable=False)] if per_market else []),
    sa.Column('skus', sa.Text(), nullable=False),
    sa.Column('detail', sa.LargeBinary(), nullable=False),
    sa.Column('summary', sa.LargeBinary(), nullable=False),
    sa.Column('built_for', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('product_id', *(['market_id'] if per_market else []))
    )
    op.create_index('ix_product_documents_slug', 'product_documents',
                    ['slug', *(['market_id'] if per_market else [])], unique=False)
    op.create_table('product_document_categories',
    sa.Column('category_id', sa.String(length=40), nullable=False),
    sa.Column('product_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id' if per_market else 'product_documents.product_id'],
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('category_id', 'product_id')
    )
    op.create_index('ix_product_document_categories_product', 'product_document_categories', ['product_id'],
                    unique=False)


def _drop_documents() -> None:
    op.drop_index('ix_product_document_categories_product', table_name='product_document_categories')
    op.drop_table('product_document_categories')
    op.drop_index('ix_product_documents_slug', table_name='product_documents')
    op.drop_table('product_documents')


def upgrade() -> None:
    markets = op.create_table('markets',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('countries', sa.JSON(), nullable=False),
    sa.Column('prices_include_tax', sa.Boolean(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.bulk_insert(markets, MARKETS)

    op.create_table('variant_prices',
    sa.Column('variant_id', sa.String(length=40), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.CheckConstraint('amount >= 0', name='ck_variant_prices_amount_not_negative'),
    sa.ForeignKeyConstraint(['variant_id'], ['variants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('variant_id', 'currency')
    )
    op.execute(
        "INSERT INTO variant_prices (variant_id, currency, amount) SELECT id, currency, price_amount FROM variants"
    )
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.drop_constraint('ck_variants_price_not_negative', type_='check')
        batch_op.drop_column('price_amount')
        batch_op.drop_column('currency')
        batch_op.add_column(sa.Column('weight_grams', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint('ck_variants_weight_not_negative', 'weight_grams >= 0')

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tax_class', sa.String(length=16), server_default='standard', nullable=False))
        batch_op.create_check_constraint('ck_products_tax_class', "tax_class IN ('standard', 'reduced', 'zero')")

    _drop_documents()  # a read model: rebuilt, per market, when catalog starts
    _documents(per_market=True)


def downgrade() -> None:
    _drop_documents()
    _documents(per_market=False)
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_constraint('ck_products_tax_class', type_='check')
        batch_op.drop_column('tax_class')
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.drop_constraint('ck_variants_weight_not_negative', type_='check')
        batch_op.drop_column('weight_grams')
        batch_op.add_column(sa.Column('price_amount', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), server_default='EUR', nullable=False))
    # Back to one price per variant: the default market's currency (EUR), else any.
    op.execute(
        "UPDATE variants SET price_amount = COALESCE("
        "(SELECT amount FROM variant_prices p WHERE p.variant_id = variants.id AND p.currency = 'EUR'),"
        " (SELECT MIN(amount) FROM variant_prices p WHERE p.variant_id = variants.id), 0),"
        " currency = COALESCE((SELECT MIN(currency) FROM variant_prices p WHERE p.variant_id = variants.id"
        " AND p.currency = 'EUR'), (SELECT MIN(currency) FROM variant_prices p"
        " WHERE p.variant_id = variants.id), 'EUR')"
    )
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.create_check_constraint('ck_variants_price_not_negative', 'price_amount >= 0')
    op.drop_table('variant_prices')
    op.drop_table('markets')
