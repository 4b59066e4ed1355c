"""Every query the payments service makes. Records are only ever inserted."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.platform.db import insert_or_merge, values_of
from mercato.services.payments.models import Payment, PaymentRecord, ProviderEvent


async def payment_for_order(session: AsyncSession, order_id: str, *, lock: bool = False) -> Payment | None:
    """`lock`: hold the row until commit (PostgreSQL; SQLite serialises writers anyway)."""
    query = select(Payment).where(Payment.order_id == order_id)
    return await session.scalar(query.with_for_update() if lock else query)


async def payment_by_intent(session: AsyncSession, intent_id: str, *, lock: bool = False) -> Payment | None:
    """`lock`: hold the row until commit (PostgreSQL; SQLite serialises writers anyway)."""
    query = select(Payment).where(Payment.provider_intent_id == intent_id)
    return await session.scalar(query.with_for_update() if lock else query)


async def all_payments(session: AsyncSession) -> list[Payment]:
    return list(await session.scalars(select(Payment).order_by(Payment.id)))


async def add_payment(session: AsyncSession, payment: Payment) -> bool:
    """False, with nothing written, if the order already has a payment (a concurrent first attempt
    won): one INSERT … ON CONFLICT DO NOTHING, no savepoint."""
    inserted = await session.execute(
        insert_or_merge(session, Payment)
        .values(values_of(payment, except_none=True))
        .on_conflict_do_nothing(index_elements=[Payment.order_id])
    )
    return inserted.rowcount == 1


async def append_records(session: AsyncSession, records: Iterable[PaymentRecord]) -> None:
    """One INSERT for all of them (executemany); the database numbers them (id None: SQLite's rowid,
    PostgreSQL's identity) in order."""
    rows = [values_of(record) for record in records]
    if rows:
        await session.execute(insert(PaymentRecord), rows)


async def records_for(session: AsyncSession, order_id: str) -> list[PaymentRecord]:
    return list(
        await session.scalars(
            select(PaymentRecord).where(PaymentRecord.order_id == order_id).order_by(PaymentRecord.id)
        )
    )


async def payments(
    session: AsyncSession, *, order_id: str | None, customer_id: str | None, before: str | None, limit: int
) -> list[Payment]:
    """Newest first (payment ids are time-ordered), keyset-paged by id."""
    query = select(Payment).order_by(Payment.id.desc()).limit(limit)
    if order_id:
        query = query.where(Payment.order_id == order_id)
    if customer_id:
        query = query.where(Payment.customer_id == customer_id)
    if before:
        query = query.where(Payment.id < before)
    return list(await session.scalars(query))


async def records_of_orders(session: AsyncSession, order_ids: list[str]) -> dict[str, list[PaymentRecord]]:
    """The trails of several orders' payments in one query, each in the order its facts happened."""
    trails: dict[str, list[PaymentRecord]] = {order_id: [] for order_id in order_ids}
    if order_ids:
        found = await session.scalars(
            select(PaymentRecord)
            .where(PaymentRecord.order_id.in_(order_ids))
            .order_by(PaymentRecord.order_id, PaymentRecord.id)
        )
        for record in found:
            trails[record.order_id].append(record)
    return trails


async def has_record(session: AsyncSession, order_id: str, kind: str, provider_ref: str) -> bool:
    found = await session.scalar(
        select(PaymentRecord.id).where(
            PaymentRecord.order_id == order_id,
            PaymentRecord.kind == kind,
            PaymentRecord.provider_ref == provider_ref,
        )
    )
    return found is not None


async def record_with_key(session: AsyncSession, request_key: str) -> PaymentRecord | None:
    return await session.scalar(select(PaymentRecord).where(PaymentRecord.request_key == request_key))


async def claim_event(session: AsyncSession, event: ProviderEvent) -> bool:
    """False if this provider event was handled before."""
    try:
        async with session.begin_nested():
            session.add(event)
            await session.flush()
    except IntegrityError:
        return False
    return True
