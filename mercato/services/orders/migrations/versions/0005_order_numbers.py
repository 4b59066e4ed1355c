"""orders: short human order numbers (M-10042), given when an order is placed; existing orders numbered

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 17:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIRST = 10001  # mercato.services.orders.domain.FIRST_ORDER_NUMBER when this was written


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint("uq_orders_number", ["number"])
    counter = op.create_table(
        "order_number_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # Every order placed so far gets its number, in the order they were placed.
    bind = op.get_bind()
    orders = sa.table("orders", sa.column("id", sa.String), sa.column("number", sa.Integer))
    placed = bind.execute(
        sa.text("SELECT id FROM orders WHERE placed_at IS NOT NULL ORDER BY placed_at, id")
    ).scalars()
    rows = [{"order_id": order_id, "n": FIRST + i} for i, order_id in enumerate(placed)]
    if rows:
        bind.execute(
            orders.update().where(orders.c.id == sa.bindparam("order_id")).values(number=sa.bindparam("n")),
            rows,
        )
    op.bulk_insert(counter, [{"id": 1, "last": FIRST - 1 + len(rows)}])


def downgrade() -> None:
    op.drop_table("order_number_counter")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint("uq_orders_number", type_="unique")
        batch_op.drop_column("number")
