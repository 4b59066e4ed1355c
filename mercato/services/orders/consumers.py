"""What orders does with events: customers' session revocations and erasures (erasure.py), and new
accounts whose address has guest orders to claim (guests/claims.py). Thin handlers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import CustomerErased, CustomerRegistered, CustomerSessionsRevoked
from mercato.platform.handlers import HandlerContext, Handlers
from mercato.services.orders import erasure
from mercato.services.orders.guests import claims

# From the start of the stream: erasures that happened before orders consumed events still apply.
handlers = Handlers("orders", start="all")


@handlers.on(CustomerSessionsRevoked)
async def end_customer_sessions(
    session: AsyncSession, event: CustomerSessionsRevoked, context: HandlerContext
) -> None:
    await erasure.sessions_revoked(session, event)


@handlers.on(CustomerErased)
async def forget_customer(session: AsyncSession, event: CustomerErased, context: HandlerContext) -> None:
    await erasure.forget_customer(session, event)


@handlers.on(CustomerRegistered)
async def offer_guest_orders(
    session: AsyncSession, event: CustomerRegistered, context: HandlerContext
) -> None:
    await claims.offer_claim(session, context.app.state.deps.settings, event)
