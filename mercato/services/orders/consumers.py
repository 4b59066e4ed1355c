"""What orders does with events: customers' session revocations and erasures. Thin handlers over
erasure.py."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import CustomerErased, CustomerSessionsRevoked
from mercato.platform.handlers import HandlerContext, Handlers
from mercato.services.orders import erasure

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
