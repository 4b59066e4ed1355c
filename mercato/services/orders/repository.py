"""Every query the orders service makes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from mercato.platform.db import insert_or_merge, values_of
from mercato.services.orders.domain import HIDDEN_FROM_CUSTOMERS
from mercato.services.orders.models import (
    Cart,
    CartLine,
    Order,
    OrderLine,
    OrderNumberCounter,
    OrderStateChange,
)

# --- cart ----------------------------------------------------------------------------------------


def _cart_owner(*, customer_id: str | None, token_hash: str | None) -> Any:
    """The one cart a request can mean: the account's, or else the guest's its token names."""
    if customer_id is not None:
        return Cart.customer_id == customer_id
    return (Cart.token_hash == token_hash) & Cart.customer_id.is_(None)


async def cart_with_lines(
    session: AsyncSession, *, customer_id: str | None, token_hash: str | None
) -> tuple[Cart | None, list[CartLine]]:
    """The cart and its lines, oldest first, in one statement (the cart page's and checkout's read)."""
    rows = (
        await session.execute(
            select(Cart, CartLine)
            .outerjoin(CartLine, CartLine.cart_id == Cart.id)
            .where(_cart_owner(customer_id=customer_id, token_hash=token_hash))
            .order_by(CartLine.added_at, CartLine.sku)
        )
    ).all()
    if not rows:
        return None, []
    return rows[0][0], [line for _, line in rows if line is not None]


async def cart(session: AsyncSession, *, customer_id: str | None, token_hash: str | None) -> Cart | None:
    return await session.scalar(
        select(Cart).where(_cart_owner(customer_id=customer_id, token_hash=token_hash))
    )


async def add_cart(session: AsyncSession, new: Cart) -> None:
    """Insert a cart; an account's that a concurrent request created first is left as it is."""
    statement = insert_or_merge(session, Cart).values(values_of(new, except_none=True))
    if new.customer_id is not None:
        statement = statement.on_conflict_do_nothing(index_elements=[Cart.customer_id])
    await session.execute(statement)


async def cart_lines(session: AsyncSession, cart_id: str) -> list[CartLine]:
    return list(
        await session.scalars(
            select(CartLine).where(CartLine.cart_id == cart_id).order_by(CartLine.added_at, CartLine.sku)
        )
    )


async def cart_line(session: AsyncSession, cart_id: str, sku: str) -> CartLine | None:
    return await session.get(CartLine, (cart_id, sku))


async def count_cart_lines(session: AsyncSession, cart_id: str) -> int:
    return await session.scalar(select(func.count()).where(CartLine.cart_id == cart_id)) or 0


async def add_to_cart_line(
    session: AsyncSession, cart_id: str, sku: str, quantity: int, now: datetime, *, cap: int | None = None
) -> int:
    """Insert or increase atomically (two tabs adding the same item at once both count); the new
    quantity. `cap`: the sum is cut to it (a merge of two carts never exceeds the line limit)."""
    statement = insert_or_merge(session, CartLine).values(
        cart_id=cart_id, sku=sku, quantity=quantity, added_at=now
    )
    total = CartLine.quantity + statement.excluded.quantity
    if cap is not None:
        total = (
            func.min(total, cap) if session.get_bind().dialect.name == "sqlite" else func.least(total, cap)
        )
    statement = statement.on_conflict_do_update(
        index_elements=[CartLine.cart_id, CartLine.sku], set_={"quantity": total}
    ).returning(CartLine.quantity)
    return (await session.execute(statement)).scalar_one()


async def claim_cart(session: AsyncSession, cart_id: str, order_id: str) -> dict[str, int]:
    """Let checkout `order_id` hold every free line of the cart; what it got, by SKU. A concurrent
    checkout of the same cart (or a merge taking its lines into an account) gets nothing: the row locks
    (PostgreSQL) or the single writer (SQLite) make the second statement see the first one's work."""
    claimed = await session.execute(
        update(CartLine)
        .where(CartLine.cart_id == cart_id, CartLine.order_id.is_(None))
        .values(order_id=order_id)
        .returning(CartLine.sku, CartLine.quantity)
    )
    return {sku: quantity for sku, quantity in claimed}


async def take_free_lines(session: AsyncSession, cart_id: str) -> list[tuple[str, int, datetime]]:
    """Remove and return the lines no checkout holds (sku, quantity, added at): a merge's share. Lines
    a checkout holds stay with it, so a cart is bought once however merge and checkout interleave."""
    taken = await session.execute(
        delete(CartLine)
        .where(CartLine.cart_id == cart_id, CartLine.order_id.is_(None))
        .returning(CartLine.sku, CartLine.quantity, CartLine.added_at)
    )
    return [(sku, quantity, added_at) for sku, quantity, added_at in taken]


async def cart_holder(session: AsyncSession, cart_id: str) -> str | None:
    """The checkout holding (part of) this cart, if one is paying now."""
    return await session.scalar(
        select(CartLine.order_id).where(CartLine.cart_id == cart_id, CartLine.order_id.is_not(None)).limit(1)
    )


async def release_cart(session: AsyncSession, order_id: str) -> None:
    """The checkout failed: its lines are the shopper's to buy again."""
    await session.execute(update(CartLine).where(CartLine.order_id == order_id).values(order_id=None))


async def remove_checked_out_lines(session: AsyncSession, order_id: str) -> None:
    await session.execute(delete(CartLine).where(CartLine.order_id == order_id))


async def remove_cart_lines(session: AsyncSession, cart_id: str, skus: Sequence[str]) -> int:
    result = await session.execute(
        delete(CartLine).where(CartLine.cart_id == cart_id, CartLine.sku.in_(skus))
    )
    return result.rowcount or 0


# --- orders --------------------------------------------------------------------------------------


async def add_order(
    session: AsyncSession, order: Order, lines: list[OrderLine], change: OrderStateChange
) -> bool:
    """Insert the order with its lines and first state change. False, with nothing written, when the
    customer's (or the guest cart's) Idempotency-Key is taken (one INSERT … ON CONFLICT DO NOTHING:
    no savepoint)."""
    inserted = await session.execute(
        insert_or_merge(session, Order)
        .values(values_of(order, except_none=True))
        .on_conflict_do_nothing()  # the customer's key, or the guest cart's: uq_orders_*idempotency_key
    )
    if inserted.rowcount != 1:
        return False
    await session.execute(insert(OrderLine), [values_of(line) for line in lines])
    await session.execute(insert(OrderStateChange).values(values_of(change, except_none=True)))
    return True


async def order_by_key(
    session: AsyncSession, *, customer_id: str | None, cart_id: str | None, key: str
) -> Order | None:
    """The order a checkout with this Idempotency-Key wrote: the customer's, or else the guest cart's."""
    owner = Order.customer_id == customer_id if customer_id is not None else Order.cart_id == cart_id
    return await session.scalar(select(Order).where(owner, Order.idempotency_key == key))


async def order(session: AsyncSession, order_id: str, *, fresh: bool = False) -> Order | None:
    """`fresh`: re-read the row even if this session holds the order already (after an UPDATE)."""
    return await session.get(Order, order_id, populate_existing=fresh)


async def customer_order(session: AsyncSession, customer_id: str, order_id: str) -> Order | None:
    found = await session.get(Order, order_id)
    if found is None or found.customer_id != customer_id or found.state in HIDDEN_FROM_CUSTOMERS:
        return None
    return found


async def customer_orders(
    session: AsyncSession, customer_id: str, *, before: str | None, limit: int
) -> list[tuple[Order, int, str | None]]:
    """Newest first, with each order's item count and its first line's image (lines in SKU order)."""
    items = select(func.coalesce(func.sum(OrderLine.quantity), 0)).where(OrderLine.order_id == Order.id)
    image = (
        select(OrderLine.image_url)
        .where(OrderLine.order_id == Order.id, OrderLine.image_url.is_not(None))
        .order_by(OrderLine.sku)
        .limit(1)
    )
    query = (
        select(Order, items.scalar_subquery(), image.scalar_subquery())
        .where(Order.customer_id == customer_id, Order.state.not_in(list(HIDDEN_FROM_CUSTOMERS)))
        .order_by(Order.id.desc())
        .limit(limit)
    )
    if before:
        query = query.where(Order.id < before)
    return [(o, count, image_url) for o, count, image_url in await session.execute(query)]


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
    actor: str,
    staff_id: str | None = None,
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
        OrderStateChange(
            order_id=order_id,
            from_state=expected,
            to_state=state,
            reason=reason,
            at=now,
            actor=actor,
            staff_id=staff_id,
        )
    )
    await session.flush()
    return True


async def next_order_number(session: AsyncSession) -> int:
    """Take the next order number: the counter row is incremented in the caller's transaction, which
    holds its lock until commit (PostgreSQL row lock, SQLite's write lock), so two orders placed at
    once never get the same number, and a rolled-back placing gives its number back."""
    result = await session.execute(
        update(OrderNumberCounter)
        .where(OrderNumberCounter.id == 1)
        .values(last=OrderNumberCounter.last + 1)
        .returning(OrderNumberCounter.last)
    )
    return result.scalar_one()


async def set_payment(
    session: AsyncSession, order_id: str, *, refunded: int, payment_status: str, now: datetime
) -> None:
    """What payments says the order's payment now is, without a change of state."""
    await session.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(refunded=refunded, payment_status=payment_status, updated_at=now)
    )


async def ever_in_state(session: AsyncSession, order_id: str, state: str) -> bool:
    found = await session.scalar(
        select(OrderStateChange.id)
        .where(OrderStateChange.order_id == order_id, OrderStateChange.to_state == state)
        .limit(1)
    )
    return found is not None


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


# --- back office ---------------------------------------------------------------------------------


async def staff_orders(
    session: AsyncSession,
    *,
    states: Sequence[str],
    placed_from: datetime | None,
    placed_before: datetime | None,
    customer_id: str | None,
    id_prefix: str | None,
    before: str | None,
    limit: int,
    number: int | None = None,
) -> list[tuple[Order, int]]:
    """Every order (failed checkouts too) matching all the filters given, newest first, with its item
    count. Ids are time-ordered, so `id` is both the order and the keyset."""
    items = select(func.coalesce(func.sum(OrderLine.quantity), 0)).where(OrderLine.order_id == Order.id)
    query = select(Order, items.scalar_subquery()).order_by(Order.id.desc()).limit(limit)
    if states:
        query = query.where(Order.state.in_(states))
    if placed_from is not None:
        query = query.where(Order.placed_at >= placed_from)
    if placed_before is not None:
        query = query.where(Order.placed_at < placed_before)
    if customer_id:
        query = query.where(Order.customer_id == customer_id)
    if id_prefix:
        query = query.where(Order.id.startswith(id_prefix, autoescape=True))
    if number is not None:
        query = query.where(Order.number == number)
    if before:
        query = query.where(Order.id < before)
    return [(o, count) for o, count in await session.execute(query)]


class utc_day(FunctionElement[str]):
    """The UTC calendar day of a stored timestamp as `YYYY-MM-DD` text, the same on both backends.

    SQLite keeps timestamps as UTC text, so its day is the text's date part. PostgreSQL keeps an
    instant (timestamptz), and `date(…)` would give the day in the session's time zone: it has to be
    asked for the day in UTC explicitly."""

    type = String()
    inherit_cache = True


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


def _placed_between(start: datetime, end: datetime, currency: str) -> list[Any]:
    return [Order.placed_at >= start, Order.placed_at < end, Order.currency == currency]


async def sales_by_day(
    session: AsyncSession, *, start: datetime, end: datetime, currency: str
) -> dict[date, tuple[int, int, int]]:
    """Per UTC day with orders placed in [start, end): (orders, their totals, refunded of them)."""
    day = utc_day(Order.placed_at).label("day")
    rows = await session.execute(
        select(day, func.count(), func.sum(Order.total), func.sum(Order.refunded))
        .where(*_placed_between(start, end, currency))
        .group_by(day)
    )
    return {date.fromisoformat(d): (count, gross or 0, refunded or 0) for d, count, gross, refunded in rows}


async def orders_by_state(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Order.state, func.count()).group_by(Order.state))
    return {state: count for state, count in rows}


async def top_products(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    currency: str,
    excluded_states: Sequence[str],
    by: str,
    limit: int,
) -> list[tuple[str, str, int, int]]:
    """(product id, name, units, revenue) of the lines of orders placed in [start, end), best first.
    A product renamed meanwhile is one product; it shows the greatest of its names."""
    units = func.sum(OrderLine.quantity).label("units")
    revenue = func.sum(OrderLine.unit_price * OrderLine.quantity).label("revenue")
    ranked = (units, revenue) if by == "units" else (revenue, units)
    rows = await session.execute(
        select(OrderLine.product_id, func.max(OrderLine.product_name), units, revenue)
        .join(Order, Order.id == OrderLine.order_id)
        .where(*_placed_between(start, end, currency), Order.state.not_in(excluded_states))
        .group_by(OrderLine.product_id)
        .order_by(ranked[0].desc(), ranked[1].desc(), OrderLine.product_id)
        .limit(limit)
    )
    return [(product_id, name, units or 0, revenue or 0) for product_id, name, units, revenue in rows]


# --- erasure -------------------------------------------------------------------------------------


async def erase_shipping_addresses(session: AsyncSession, customer_id: str) -> int:
    """Strip every order of the customer's, shipping and billing address, to the country (kept for tax and
    the sales reports); guest orders the customer claimed lose the e-mail they were bought with too."""
    rows = (
        await session.execute(
            select(Order.id, Order.shipping_address, Order.billing_address).where(
                Order.customer_id == customer_id
            )
        )
    ).all()

    def stripped(address: Any) -> dict[str, Any] | None:
        country = address.get("country") if isinstance(address, dict) else None
        return {"country": country, "erased": True} if address is not None else None

    for order_id, shipping, billing in rows:
        await session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(
                shipping_address=stripped(shipping),
                billing_address=stripped(billing),
                email=None,
                email_index=None,
            )
        )
    return len(rows)


async def clear_cart(session: AsyncSession, customer_id: str) -> None:
    """The account's cart goes, with its lines and the addresses it carried."""
    carts = select(Cart.id).where(Cart.customer_id == customer_id).scalar_subquery()
    await session.execute(delete(CartLine).where(CartLine.cart_id.in_(carts)))
    await session.execute(delete(Cart).where(Cart.customer_id == customer_id))
