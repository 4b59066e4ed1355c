"""Every query the orders service makes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.platform.db import insert_or_merge
from mercato.services.orders.domain import HIDDEN_FROM_CUSTOMERS
from mercato.services.orders.models import CartLine, Order, OrderLine, OrderStateChange

# --- cart ----------------------------------------------------------------------------------------


async def cart_lines(session: AsyncSession, customer_id: str) -> list[CartLine]:
    return list(
        await session.scalars(
            select(CartLine)
            .where(CartLine.customer_id == customer_id)
            .order_by(CartLine.added_at, CartLine.sku)
        )
    )


async def cart_line(session: AsyncSession, customer_id: str, sku: str) -> CartLine | None:
    return await session.get(CartLine, (customer_id, sku))


async def count_cart_lines(session: AsyncSession, customer_id: str) -> int:
    return await session.scalar(select(func.count()).where(CartLine.customer_id == customer_id)) or 0


async def add_to_cart_line(
    session: AsyncSession, customer_id: str, sku: str, quantity: int, now: datetime
) -> int:
    """Insert or increase atomically (two tabs adding the same item at once both count); the new quantity."""
    statement = insert_or_merge(session, CartLine).values(
        customer_id=customer_id, sku=sku, quantity=quantity, added_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=[CartLine.customer_id, CartLine.sku],
        set_={"quantity": CartLine.quantity + statement.excluded.quantity},
    ).returning(CartLine.quantity)
    return (await session.execute(statement)).scalar_one()


async def remove_cart_lines(session: AsyncSession, customer_id: str, skus: Sequence[str]) -> int:
    result = await session.execute(
        delete(CartLine).where(CartLine.customer_id == customer_id, CartLine.sku.in_(skus))
    )
    return result.rowcount or 0


# --- orders --------------------------------------------------------------------------------------


class DuplicateKey(Exception):
    pass


async def add_order(
    session: AsyncSession, order: Order, lines: list[OrderLine], change: OrderStateChange
) -> None:
    try:
        async with session.begin_nested():
            session.add(order)
            await session.flush()
    except IntegrityError:
        raise DuplicateKey from None
    await session.execute(insert(OrderLine), [_row(line) for line in lines])
    session.add(change)
    await session.flush()


def _row(entity: object) -> dict[str, object]:
    return {c.key: getattr(entity, c.key) for c in entity.__table__.columns}  # type: ignore[attr-defined]


async def order_by_key(session: AsyncSession, customer_id: str, key: str) -> Order | None:
    return await session.scalar(
        select(Order).where(Order.customer_id == customer_id, Order.idempotency_key == key)
    )


async def order(session: AsyncSession, order_id: str) -> Order | None:
    return await session.get(Order, order_id)


async def customer_order(session: AsyncSession, customer_id: str, order_id: str) -> Order | None:
    found = await session.get(Order, order_id)
    if found is None or found.customer_id != customer_id or found.state in HIDDEN_FROM_CUSTOMERS:
        return None
    return found


async def customer_orders(
    session: AsyncSession, customer_id: str, *, before: str | None, limit: int
) -> list[tuple[Order, int]]:
    """Newest first, with each order's item count."""
    items = select(func.coalesce(func.sum(OrderLine.quantity), 0)).where(OrderLine.order_id == Order.id)
    query = (
        select(Order, items.scalar_subquery())
        .where(Order.customer_id == customer_id, Order.state.not_in(list(HIDDEN_FROM_CUSTOMERS)))
        .order_by(Order.id.desc())
        .limit(limit)
    )
    if before:
        query = query.where(Order.id < before)
    return [(o, count) for o, count in await session.execute(query)]


async def lines_of(session: AsyncSession, order_id: str) -> list[OrderLine]:
    return list(
        await session.scalars(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.sku))
    )


async def history_of(session: AsyncSession, order_id: str) -> list[OrderStateChange]:
    return list(
        await session.scalars(
            select(OrderStateChange)
            .where(OrderStateChange.order_id == order_id)
            .order_by(OrderStateChange.id)
        )
    )


async def move(
    session: AsyncSession,
    order_id: str,
    *,
    expected: str,
    state: str,
    now: datetime,
    reason: str | None,
    **values: object,
) -> bool:
    """Change state only from the state we read: of two racing writers (a request and the reconciler)
    exactly one wins, and only the winner's effects (history, events) are written."""
    result = await session.execute(
        update(Order)
        .where(Order.id == order_id, Order.state == expected)
        .values(state=state, updated_at=now, **values)
    )
    if result.rowcount != 1:
        return False
    session.add(
        OrderStateChange(order_id=order_id, from_state=expected, to_state=state, reason=reason, at=now)
    )
    await session.flush()
    return True


async def stuck_orders(
    session: AsyncSession, states: Sequence[str], *, updated_before: datetime, limit: int = 100
) -> list[Order]:
    return list(
        await session.scalars(
            select(Order)
            .where(Order.state.in_(states), Order.updated_at < updated_before)
            .order_by(Order.updated_at)
            .limit(limit)
        )
    )
