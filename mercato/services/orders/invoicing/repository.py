"""Every query invoicing makes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.platform.db import insert_or_merge
from mercato.services.orders.invoicing.models import CreditNote, DocumentCounter
from mercato.services.orders.models import Order


async def next_number(session: AsyncSession, kind: str, market_id: str, year: int) -> int:
    """Take the next number of a kind, market and year (1 for the first): one statement, whose row lock
    (PostgreSQL; SQLite's single writer) the caller's transaction holds until it commits or rolls back.
    Two first numbers of a new year at once: one inserts, the other waits for it and then increments."""
    statement = insert_or_merge(session, DocumentCounter).values(
        kind=kind, market_id=market_id, year=year, last=1
    )
    statement = statement.on_conflict_do_update(
        index_elements=[DocumentCounter.kind, DocumentCounter.market_id, DocumentCounter.year],
        set_={"last": DocumentCounter.last + 1},
    ).returning(DocumentCounter.last)
    return (await session.execute(statement)).scalar_one()


async def locked_order(session: AsyncSession, order_id: str) -> Order | None:
    """The order as committed now, its row locked until the caller's transaction ends (PostgreSQL;
    SQLite's writer holds the whole database already): two refunds settling at once credit in turn."""
    return await session.get(Order, order_id, with_for_update=True, populate_existing=True)


async def credit_notes_of(session: AsyncSession, order_id: str) -> list[CreditNote]:
    return list(
        await session.scalars(
            select(CreditNote)
            .where(CreditNote.order_id == order_id)
            .order_by(CreditNote.issued_at, CreditNote.number)
        )
    )


async def credit_note(session: AsyncSession, order_id: str, number: str) -> CreditNote | None:
    found = await session.get(CreditNote, number)
    return found if found is not None and found.order_id == order_id else None


async def add_credit_note(session: AsyncSession, note: CreditNote) -> None:
    session.add(note)
    await session.flush()
