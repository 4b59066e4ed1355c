"""Every query about guests' orders: found by the blind index of their e-mail address."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.services.orders.domain import HIDDEN_FROM_CUSTOMERS
from mercato.services.orders.models import Cart, CartLine, Order


def _unclaimed(email_index: str) -> list:
    return [
        Order.email_index == email_index,
        Order.customer_id.is_(None),
        Order.state.not_in(list(HIDDEN_FROM_CUSTOMERS)),
    ]


async def count_unclaimed(session: AsyncSession, email_index: str) -> int:
    return await session.scalar(select(func.count()).where(*_unclaimed(email_index))) or 0


async def claim(session: AsyncSession, email_index: str, customer_id: str) -> int:
    """The guest orders of the address become the customer's (one UPDATE: a second claim finds none)."""
    result = await session.execute(
        update(Order).where(*_unclaimed(email_index)).values(customer_id=customer_id)
    )
    return result.rowcount or 0


async def orders_of(session: AsyncSession, email_index: str) -> list[Order]:
    """Every order bought as a guest with the address (claimed or not, failed checkouts too), oldest first."""
    return list(
        await session.scalars(select(Order).where(Order.email_index == email_index).order_by(Order.id))
    )


async def erase(session: AsyncSession, order_ids: list[str]) -> None:
    """Strip those orders of the guest: the addresses keep only their country (for tax and the reports),
    the e-mail and its index go."""
    for order in await session.scalars(select(Order).where(Order.id.in_(order_ids))):
        country = order.shipping_address.get("country") if isinstance(order.shipping_address, dict) else None
        order.shipping_address = {"country": country, "erased": True}
        if isinstance(order.billing_address, dict):
            order.billing_address = {"country": order.billing_address.get("country"), "erased": True}
        order.email = None
        order.email_index = None
    await session.flush()


async def delete_carts(session: AsyncSession, cart_ids: list[str]) -> None:
    """The guest carts go, with their lines and what they carried (address, e-mail)."""
    await session.execute(delete(CartLine).where(CartLine.cart_id.in_(cart_ids)))
    await session.execute(delete(Cart).where(Cart.id.in_(cart_ids), Cart.customer_id.is_(None)))
