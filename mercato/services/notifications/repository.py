"""Every query of the notifications service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.platform.db import insert_or_merge
from mercato.services.notifications.models import Device, Message, OrderSummary, Recipient


async def upsert_recipient(session: AsyncSession, values: dict[str, Any]) -> None:
    statement = insert_or_merge(session, Recipient.__table__)
    await session.execute(
        statement.values(**values).on_conflict_do_update(
            index_elements=["customer_id"],
            set_={k: v for k, v in values.items() if k != "customer_id"},
            # never back in time, and never back from the dead
            where=(Recipient.__table__.c.updated_at <= statement.excluded.updated_at)
            & (Recipient.__table__.c.erased == false()),
        )
    )


async def recipients(session: AsyncSession, customer_ids: set[str]) -> dict[str, Any]:
    """The recipient rows (columns as attributes) of those customers we know, by customer id."""
    table = Recipient.__table__
    rows = await session.execute(select(table).where(table.c.customer_id.in_(sorted(customer_ids))))
    return {row.customer_id: row for row in rows}


async def erase_recipient(session: AsyncSession, customer_id: str, at: datetime) -> None:
    """Forget a customer's contact details, leaving a tombstone (see `Recipient.erased`)."""
    values = {
        "email": "(erased)",
        "name": "",
        "phone": None,
        "language": "en",
        "opt_in_email": False,
        "opt_in_sms": False,
        "opt_in_push": False,
        "updated_at": at,
        "erased": True,
    }
    statement = insert_or_merge(session, Recipient.__table__)
    await session.execute(
        statement.values(customer_id=customer_id, **values).on_conflict_do_update(
            index_elements=["customer_id"], set_=values
        )
    )


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


async def save_order_summaries(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        statement = insert_or_merge(session, OrderSummary.__table__).on_conflict_do_nothing()
        await session.execute(statement, rows)


async def order_summaries(session: AsyncSession, order_ids: set[str]) -> dict[str, Any]:
    """The order summary rows (columns as attributes) of those orders we know, by order id."""
    if not order_ids:
        return {}
    table = OrderSummary.__table__
    rows = await session.execute(select(table).where(table.c.order_id.in_(sorted(order_ids))))
    return {row.order_id: row for row in rows}


async def add_messages(session: AsyncSession, rows: list[dict[str, Any]]) -> set[str]:
    """Insert each message unless one with its dedup key exists (or came earlier in `rows`), with one
    statement; returns the dedup keys inserted."""
    if not rows:
        return set()
    table = Message.__table__
    statement = (
        insert_or_merge(session, table)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(table.c.dedup_key)
    )
    return set((await session.execute(statement, rows)).scalars())


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


async def claim(
    session: AsyncSession, messages: list[Message], *, now: datetime, until: datetime
) -> set[str]:
    """Take due messages for sending (so another dispatcher replica does not send them too); returns
    the ids this dispatcher got."""
    table = Message.__table__
    result = await session.execute(
        update(table)
        .where(
            table.c.id.in_([m.id for m in messages]),
            table.c.status.in_(("pending", "sending")),
            table.c.next_attempt_at <= now,
        )
        .values(status="sending", next_attempt_at=until, attempts=table.c.attempts + 1)
        .returning(table.c.id)
    )
    return set(result.scalars())


async def mark(session: AsyncSession, outcomes: list[dict[str, Any]]) -> None:
    """Record each claimed message's outcome (one statement for the batch)."""
    table = Message.__table__
    await session.execute(
        update(table)
        .where(table.c.id == bindparam("message_id"), table.c.status == "sending")
        .values(
            status=bindparam("new_status"),
            provider_id=bindparam("new_provider_id"),
            sent_at=bindparam("new_sent_at"),
            last_error=bindparam("new_last_error"),
            next_attempt_at=bindparam("new_next_attempt_at"),
        ),
        outcomes,
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


# --- devices (push) ----------------------------------------------------------------------------------


async def device(session: AsyncSession, token_hash: str) -> Device | None:
    return await session.get(Device, token_hash)


async def save_device(session: AsyncSession, values: dict[str, Any]) -> None:
    """Insert the device, or give an existing token to this customer and platform (one statement: two
    concurrent registrations of one token cannot both insert)."""
    statement = insert_or_merge(session, Device.__table__)
    await session.execute(
        statement.values(**values).on_conflict_do_update(
            index_elements=["token_hash"],
            set_={
                k: statement.excluded[k]
                for k in ("customer_id", "platform", "token", "created_at", "updated_at")
            },
        )
    )


async def touch_device(session: AsyncSession, token_hash: str, values: dict[str, Any]) -> None:
    await session.execute(update(Device).where(Device.token_hash == token_hash).values(**values))


async def delete_device(session: AsyncSession, token_hash: str, customer_id: str) -> bool:
    result = await session.execute(
        delete(Device).where(Device.token_hash == token_hash, Device.customer_id == customer_id)
    )
    return bool(result.rowcount)


async def cancel_pushes(session: AsyncSession, customer_id: str, token_hash: str, reason: str) -> None:
    """Cancel `customer_id`'s pushes not yet sent to the device `token_hash` (its key ends in the hash):
    the phone was signed out, or is now signed in as someone else."""
    await session.execute(
        update(Message)
        .where(
            Message.customer_id == customer_id,
            Message.status.in_(("pending", "sending")),  # (a send in flight then leaves it cancelled)
            Message.channel == "push",
            Message.dedup_key.like(f"%:push:{token_hash}"),
        )
        .values(status="cancelled", last_error=reason)
    )


async def delete_devices(session: AsyncSession, customer_id: str) -> None:
    await session.execute(delete(Device).where(Device.customer_id == customer_id))


async def forget_gone_devices(session: AsyncSession, gone: list[dict[str, Any]]) -> None:
    """Remove the devices a provider said are gone ({token_hash, before}), unless registered again
    since the push was tried (a fresh registration of the same token is a working device again)."""
    if gone:
        table = Device.__table__
        await session.execute(
            delete(table).where(
                table.c.token_hash == bindparam("gone_hash"), table.c.updated_at <= bindparam("before")
            ),
            gone,
        )


async def devices_of(session: AsyncSession, customer_ids: set[str]) -> dict[str, list[Device]]:
    """The devices of those customers, by customer id, oldest first."""
    found: dict[str, list[Device]] = {}
    if customer_ids:
        rows = await session.execute(
            select(Device)
            .where(Device.customer_id.in_(sorted(customer_ids)))
            .order_by(Device.created_at, Device.token_hash)
        )
        for row in rows.scalars():
            found.setdefault(row.customer_id, []).append(row)
    return found
