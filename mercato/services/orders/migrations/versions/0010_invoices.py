"""orders: invoices and credit notes — the order's invoice number, the counters that number documents per
kind, market and year, and the credit notes; orders placed before get their invoice numbers, in the order
they were placed

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 01:00:00
"""

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invoice_number", sa.String(24), nullable=True))
        batch_op.create_unique_constraint("uq_orders_invoice_number", ["invoice_number"])
    counters = op.create_table(
        "document_counters",
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("market_id", sa.String(8), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "market_id", "year"),
    )
    op.create_table(
        "credit_notes",
        sa.Column("number", sa.String(24), nullable=False),
        sa.Column("order_id", sa.String(40), sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("tax", sa.Integer(), nullable=False),
        sa.Column("tax_lines", sa.JSON(), nullable=False),
        sa.Column("refunded_to", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number"),
    )
    op.create_index("ix_credit_notes_order", "credit_notes", ["order_id", "issued_at"])

    # Every order placed so far gets its invoice number (mercato.services.orders.invoicing.domain's
    # format when this was written), per market and year, in the order they were placed.
    bind = op.get_bind()
    placed = bind.execute(
        sa.text("SELECT id, market_id, placed_at FROM orders WHERE placed_at IS NOT NULL ORDER BY placed_at, id")
    ).all()
    last: dict[tuple[str, int], int] = defaultdict(int)
    rows = []
    for order_id, market_id, placed_at in placed:
        year = int(str(placed_at)[:4])  # a datetime (PostgreSQL) or its ISO text (SQLite)
        last[market_id, year] += 1
        rows.append({"order_id": order_id, "n": f"{market_id.upper()}-{year}-{last[market_id, year]:05d}"})
    if rows:
        orders = sa.table("orders", sa.column("id", sa.String), sa.column("invoice_number", sa.String))
        bind.execute(
            orders.update()
            .where(orders.c.id == sa.bindparam("order_id"))
            .values(invoice_number=sa.bindparam("n")),
            rows,
        )
    op.bulk_insert(
        counters,
        [{"kind": "invoice", "market_id": m, "year": y, "last": n} for (m, y), n in sorted(last.items())],
    )


def downgrade() -> None:
    op.drop_index("ix_credit_notes_order", table_name="credit_notes")
    op.drop_table("credit_notes")
    op.drop_table("document_counters")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint("uq_orders_invoice_number", type_="unique")
        batch_op.drop_column("invoice_number")
