"""A new account claims the guest orders of its e-mail address — once the person proves they control
the address (there is no verification of an account's address at registration, so registering with
someone else's address must not be enough to see their orders).

When an account is registered (CustomerRegistered), orders looks for unclaimed guest orders with the
same address (by its blind index). If there are any, it asks notifications (GuestOrdersFound) to e-mail
that address a signed link naming the account and the address, valid `claim_link_days`. Opened signed
in as that account, the link adds every unclaimed guest order of the address to the account's history.
The attacker who registers a victim's address never receives the link (it goes to the victim), and the
victim who receives it cannot use it for the attacker's account (it names the account, which they cannot
sign in to); so only a person who both controls the address and holds the account can claim.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import CustomerRegistered, GuestOrdersFound
from mercato.platform.errors import Forbidden, UnprocessableEntity
from mercato.platform.outbox import record_event
from mercato.services.orders.deps import Deps, now
from mercato.services.orders.guests import repository as guest_repo
from mercato.services.orders.guests.orders import email_index
from mercato.services.orders.links import claim_token, claim_url, read_claim
from mercato.services.orders.settings import OrdersSettings


async def offer_claim(session: AsyncSession, settings: OrdersSettings, event: CustomerRegistered) -> None:
    index = email_index(settings, event.email)
    count = await guest_repo.count_unclaimed(session, index)
    if not count:
        return
    expires_at = event.registered_at + timedelta(days=settings.claim_link_days)
    token = claim_token(settings, customer_id=event.customer_id, email_index=index, expires_at=expires_at)
    await record_event(
        session,
        GuestOrdersFound(
            customer_id=event.customer_id,
            email=event.email,
            order_count=count,
            claim_url=claim_url(settings, token),
            expires_at=expires_at,
        ),
        aggregate_type="customer",
        aggregate_id=event.customer_id,
    )


async def claim(deps: Deps, customer_id: str, token: str) -> int:
    """Add the guest orders the link names to the signed-in account; how many were added (a second
    claim adds none)."""
    found = read_claim(deps.settings, token)
    if found is None:
        raise UnprocessableEntity(
            "This link is not one we sent (is it complete?).", errors={"token": "is not valid"}
        )
    for_customer, index, expires = found
    if for_customer != customer_id:
        raise Forbidden("This link was sent for another account: sign in with the account you registered.")
    if datetime.fromtimestamp(expires, UTC) < now():
        raise UnprocessableEntity(
            "This link has run out. Ask support to add your earlier orders to your account.",
            errors={"token": "has expired"},
        )
    async with deps.db.unit_of_work() as session:
        return await guest_repo.claim(session, index, customer_id)
