"""Every query of the notifications service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.platform.db import insert_or_merge
from mercato.services.notifications.models import Message, OrderSummary, Recipient


async def upsert_recipient(session: AsyncSession, values: dict[str, Any]) -> None:
    statement = insert_or_merge(session, Recipient)
    await session.execute(
        statement.values(**values).on_conflict_do_update(
            index_elements=["customer_id"],
            set_={k: v for k, v in values.items() if k != "customer_id"},
            where=Recipient.updated_at <= statement.excluded.updated_at,  # never go back in time
        )
    )


async def recipient(session: AsyncSession, customer_id: str) -> Recipient | None:
    return await session.get(Recipient, customer_id)


async def delete_recipient(session: AsyncSession, customer_id: str) -> None:
    await session.execute(delete(Recipient).where(Recipient.customer_id == customer_id))


async def scrub_messages(session: AsyncSession, customer_id: str) -> None:
    """Keep the log's facts (what was sent, when) but none of the person's data."""
    await session.execute(
        update(Message)
        .where(Message.customer_id == customer_id)
        .values(to_address="(erased)", subject=None, body_text="", body_html=None)
    )
    await session.execute(
        update(Message)
        .where(Message.customer_id == customer_id, Message.status.in_(("pending", "sending")))
        .values(status="cancelled", last_error="the customer was erased")
    )


async def save_order_summary(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert_or_merge(session, OrderSummary).values(**values).on_conflict_do_nothing())


async def order_summary(session: AsyncSession, order_id: str) -> OrderSummary | None:
    return await session.get(OrderSummary, order_id)


async def add_message(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert unless a message with the same dedup key exists; True if inserted."""
    result = await session.execute(
        insert_or_merge(session, Message)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
    )
    return result.rowcount == 1


async def due_messages(session: AsyncSession, now: datetime, limit: int) -> list[Message]:
    """Pending messages whose time has come, and 'sending' ones whose claim ran out (a dispatcher died)."""
    return list(
        (
            await session.execute(
                select(Message)
                .where(
                    or_(Message.status == "pending", Message.status == "sending"),
                    Message.next_attempt_at <= now,
                )
                .order_by(Message.next_attempt_at, Message.id)
                .limit(limit)
            )
        ).scalars()
    )


async def claim(session: AsyncSession, message: Message, *, now: datetime, until: datetime) -> bool:
    """Take a due message for sending (so another dispatcher replica does not send it too)."""
    result = await session.execute(
        update(Message)
        .where(
            Message.id == message.id,
            Message.status == message.status,
            Message.next_attempt_at <= now,
            Message.attempts == message.attempts,
        )
        .values(status="sending", next_attempt_at=until, attempts=Message.attempts + 1)
    )
    return result.rowcount == 1


async def mark(session: AsyncSession, message_id: str, **values: Any) -> None:
    await session.execute(
        update(Message).where(and_(Message.id == message_id, Message.status == "sending")).values(**values)
    )


async def messages(
    session: AsyncSession, *, customer_id: str | None, order_id: str | None, limit: int
) -> list[Message]:
    query = select(Message).order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)
    if customer_id:
        query = query.where(Message.customer_id == customer_id)
    if order_id:
        query = query.where(Message.order_id == order_id)
    return list((await session.execute(query)).scalars())
