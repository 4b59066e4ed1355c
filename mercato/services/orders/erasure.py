"""What orders does when a customer's sessions end or their personal data is erased.

Sessions: the "sessions valid after" second is kept, so `CurrentCustomer` refuses older tokens.
Erasure: the same, and every order of the customer keeps only the country of its shipping address
(name, street, city, postal code and phone go); the cart goes. Checkout writes an order only while
holding the customer (`hold_customer`) and after checking the session, so an order is either written
before this runs — and erased by it — or refused: none with personal data outlives the erasure.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import CustomerErased, CustomerSessionsRevoked
from mercato.platform.sessions import end_sessions, hold_customer
from mercato.services.orders import repository as repo


async def sessions_revoked(session: AsyncSession, event: CustomerSessionsRevoked) -> None:
    await end_sessions(session, event.customer_id, event.revoked_at)


async def forget_customer(session: AsyncSession, event: CustomerErased) -> None:
    await hold_customer(session, event.customer_id)
    await end_sessions(session, event.customer_id, event.erased_at)
    await repo.erase_shipping_addresses(session, event.customer_id)
    await repo.clear_cart(session, event.customer_id)
