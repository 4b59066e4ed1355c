"""sales: the newest set of catalogue promotions orders published (CataloguePromotionsChanged), one row,
with when the documents next need rendering again (a sale starts or ends); variants' kind (a gift card is
never on sale and needs no shipping). The read model is rebuilt at start-up (documents.FORMAT).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 21:30:00
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    sales = op.create_table('catalogue_promotions',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('promotions', sa.JSON(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_flip_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.bulk_insert(sales, [{"id": "current", "promotions": [], "changed_at": datetime(1970, 1, 1, tzinfo=UTC),
                            "next_flip_at": None}])
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='physical', nullable=False))
        batch_op.create_check_constraint('ck_variants_kind', "kind IN ('physical', 'gift_card')")


def downgrade() -> None:
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.drop_constraint('ck_variants_kind', type_='check')
        batch_op.drop_column('kind')
    op.drop_table('catalogue_promotions')
