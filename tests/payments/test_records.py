"""The payment record is an audit trail: the database itself refuses to change or remove a record."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from mercato.platform.db import Database
from mercato.services.payments.models import PaymentRecord


async def test_payment_records_can_be_added_but_never_changed_or_deleted(databases, backend):
    db = Database(await databases.fresh("payments", backend))
    try:
        async with db.unit_of_work() as session:
            session.add(
                PaymentRecord(
                    payment_id="pay_1",
                    order_id="ord_1",
                    kind="captured",
                    amount=1999,
                    currency="EUR",
                    provider_ref="ch_1",
                    detail={},
                    created_at=datetime.now(UTC),
                )
            )
        for statement in ("UPDATE payment_records SET amount = 1", "DELETE FROM payment_records"):
            with pytest.raises((DBAPIError, IntegrityError), match="append-only"):
                async with db.unit_of_work() as session:
                    await session.execute(text(statement))
        if backend == "postgresql":
            with pytest.raises(DBAPIError, match="append-only"):
                async with db.unit_of_work() as session:
                    await session.execute(text("TRUNCATE payment_records"))
        async with db.read() as session:
            assert (await session.execute(text("SELECT amount FROM payment_records"))).scalar_one() == 1999
    finally:
        await db.dispose()
