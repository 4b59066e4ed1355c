"""payments: gift cards, their append-only ledger, the tenders of a payment; inbox for OrderPlaced

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 21:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mercato.platform.crypto import Encrypted

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('gift_cards',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('code', Encrypted(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('balance', sa.Integer(), nullable=False),
    sa.Column('initial', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('order_id', sa.String(length=64), nullable=True),
    sa.Column('sku', sa.String(length=64), nullable=True),
    sa.Column('n', sa.Integer(), nullable=True),
    sa.Column('issued_by', sa.String(length=40), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code_hash'),
    sa.UniqueConstraint('order_id', 'sku', 'n', name='uq_gift_cards_purchase'),
    sa.CheckConstraint('balance >= 0', name='ck_gift_cards_balance'),
    )
    op.create_index('ix_gift_cards_last4', 'gift_cards', ['last4', 'id'], unique=False)
    op.create_table('gift_card_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('gift_card_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=True),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.String(length=40), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_gift_card_entries_card', 'gift_card_entries', ['gift_card_id', 'id'], unique=False)
    op.create_index('ix_gift_card_entries_order', 'gift_card_entries', ['order_id', 'id'], unique=False)
    _forbid_changes_to_entries()
    # Plain ADD COLUMN (nullable), no batch copy (see 0002).
    op.add_column('payments', sa.Column('gift_cards', sa.JSON(), nullable=True))
    # payments consumes OrderPlaced (the gift cards bought in an order): exactly once, by its inbox.
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
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ux_dead_letters_event_handler', 'dead_letters', ['event_id', 'handler'], unique=True)
    op.create_index('ix_dead_letters_status', 'dead_letters', ['status', 'created_at'], unique=False)


APPEND_ONLY = "gift_card_entries is append-only: insert a new entry instead"


def _forbid_changes_to_entries() -> None:
    """A card's ledger can only grow: the database itself refuses UPDATE, DELETE (and TRUNCATE)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION gift_card_entries_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{APPEND_ONLY}' USING ERRCODE = 'restrict_violation'; END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER gift_card_entries_no_change BEFORE UPDATE OR DELETE ON gift_card_entries "
            "FOR EACH ROW EXECUTE FUNCTION gift_card_entries_append_only()"
        )
        op.execute(
            "CREATE TRIGGER gift_card_entries_no_truncate BEFORE TRUNCATE ON gift_card_entries "
            "FOR EACH STATEMENT EXECUTE FUNCTION gift_card_entries_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER gift_card_entries_no_{action.lower()} BEFORE {action} ON gift_card_entries "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )


def downgrade() -> None:
    op.drop_table('dead_letters')
    op.drop_table('inbox')
    op.drop_column('payments', 'gift_cards')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE gift_card_entries")
        op.execute("DROP FUNCTION gift_card_entries_append_only()")
    else:
        op.drop_table('gift_card_entries')
    op.drop_table('gift_cards')
