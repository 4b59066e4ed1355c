"""normalise stored e-mail addresses (customers and staff) to the one form sign-in looks them up in

Rows stored before there was one normalisation (a decomposed "ú", an "xn--" domain, upper case) are
rewritten with `normalise_email`. Where two rows of a table normalise to the same address, the row
already in normal form keeps it, else the oldest; the others keep their stored address (so nothing
merges two people's accounts) and are logged for support to resolve.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 17:00:00
"""
import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mercato.contracts.emails import normalise_email

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def _normalise(table_name: str) -> None:
    table = sa.table(table_name, sa.column('id', sa.String), sa.column('email', sa.String),
                     sa.column('created_at', sa.DateTime))
    connection = op.get_bind()
    rows = connection.execute(sa.select(table.c.id, table.c.email).order_by(table.c.created_at, table.c.id)).all()
    claimed = {email for _, email in rows if normalise_email(email) == email}
    for row_id, email in rows:
        normal = normalise_email(email)
        if normal == email:
            continue
        if normal in claimed:
            log.warning("%s %s: e-mail address left as stored, another row has its normal form", table_name, row_id)
            continue
        claimed.add(normal)
        connection.execute(sa.update(table).where(table.c.id == row_id).values(email=normal))


def upgrade() -> None:
    _normalise('customers')
    _normalise('staff')


def downgrade() -> None:
    pass  # the original spellings are not kept; the normal form signs in the same people
