"""Every query about gift cards. A balance changes only by a conditional UPDATE (never below zero,
never more than the caller saw), in the transaction that appends the ledger entry saying why."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.platform.db import insert_or_merge, values_of
from mercato.services.payments.giftcards.models import GiftCard, GiftCardEntry


async def by_hashes(session: AsyncSession, hashes: list[str]) -> dict[str, GiftCard]:
    found = await session.scalars(select(GiftCard).where(GiftCard.code_hash.in_(hashes)))
    return {card.code_hash: card for card in found}


async def by_hash(session: AsyncSession, code_hash: str) -> GiftCard | None:
    return await session.scalar(select(GiftCard).where(GiftCard.code_hash == code_hash))


async def by_id(session: AsyncSession, card_id: str) -> GiftCard | None:
    return await session.scalar(select(GiftCard).where(GiftCard.id == card_id))


async def add(session: AsyncSession, card: GiftCard) -> bool:
    """False, with nothing written, when the card exists already (a purchase's card issued before)."""
    inserted = await session.execute(
        insert_or_merge(session, GiftCard).values(values_of(card, except_none=True)).on_conflict_do_nothing()
    )
    return inserted.rowcount == 1


async def take(session: AsyncSession, card_id: str, amount: int, *, seen: int) -> int | None:
    """Take `amount` off the card if its balance is still `seen`: the balance after, or None when another
    payment changed it meanwhile (the caller reads it again). One UPDATE … RETURNING."""
    return await session.scalar(
        update(GiftCard)
        .where(GiftCard.id == card_id, GiftCard.balance == seen, GiftCard.balance >= amount)
        .values(balance=GiftCard.balance - amount)
        .returning(GiftCard.balance)
    )


async def give_back(session: AsyncSession, card_id: str, amount: int) -> int:
    """Put `amount` back on the card (a reversal, a refund): the balance after."""
    balance = await session.scalar(
        update(GiftCard)
        .where(GiftCard.id == card_id)
        .values(balance=GiftCard.balance + amount)
        .returning(GiftCard.balance)
    )
    assert balance is not None
    return balance


async def balance_of(session: AsyncSession, card_id: str) -> int:
    balance = await session.scalar(select(GiftCard.balance).where(GiftCard.id == card_id))
    assert balance is not None
    return balance


async def set_state(session: AsyncSession, card_id: str, state: str) -> None:
    await session.execute(update(GiftCard).where(GiftCard.id == card_id).values(state=state))


async def append(session: AsyncSession, entries: Iterable[GiftCardEntry]) -> None:
    rows = [values_of(entry) for entry in entries]
    if rows:
        await session.execute(insert(GiftCardEntry), rows)


def entry(
    card_id: str,
    kind: str,
    amount: int,
    balance_after: int,
    at: datetime,
    *,
    order_id: str | None = None,
    staff_id: str | None = None,
) -> GiftCardEntry:
    return GiftCardEntry(
        gift_card_id=card_id,
        kind=kind,
        order_id=order_id,
        amount=amount,
        balance_after=balance_after,
        staff_id=staff_id,
        at=at,
    )


async def entries_of(session: AsyncSession, card_id: str) -> list[GiftCardEntry]:
    return list(
        await session.scalars(
            select(GiftCardEntry).where(GiftCardEntry.gift_card_id == card_id).order_by(GiftCardEntry.id)
        )
    )


async def cards(
    session: AsyncSession, *, last4: str | None, before: str | None, limit: int
) -> list[GiftCard]:
    """Newest first (ids are time-ordered), keyset-paged by id."""
    query = select(GiftCard).order_by(GiftCard.id.desc()).limit(limit)
    if last4:
        query = query.where(GiftCard.last4 == last4)
    if before:
        query = query.where(GiftCard.id < before)
    return list(await session.scalars(query))
