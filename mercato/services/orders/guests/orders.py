"""Orders bought without an account, confirmed to an e-mail address, read through a signed
link (docs/guest-checkout.md). The address is stored encrypted with a blind index (a keyed HMAC of its
normal form) to find a guest's orders by it."""

from __future__ import annotations

from typing import Any

from mercato.contracts.emails import normalise_email
from mercato.platform.errors import NotFound, Unauthorized
from mercato.services.orders import repository as repo
from mercato.services.orders.deps import Deps
from mercato.services.orders.domain import HIDDEN_FROM_CUSTOMERS
from mercato.services.orders.history import order_view
from mercato.services.orders.invoicing import repository as invoicing_repo
from mercato.services.orders.links import opens, order_url
from mercato.services.orders.schemas import OrderOut
from mercato.services.orders.settings import OrdersSettings


def email_index(settings: OrdersSettings, email: str) -> str:
    keys = settings.keys()
    assert keys is not None and keys.blind_index is not None, "orders needs a blind index key"
    return keys.blind_index.of(normalise_email(email), purpose="order.email")


def guest_contact(settings: OrdersSettings, email: str | None) -> dict[str, Any]:
    """What a guest's order records of the guest: the address, and its index (none for an account's)."""
    if email is None:
        return {}
    return {"email": email, "email_index": email_index(settings, email)}


async def linked_order(deps: Deps, order_id: str, token: str) -> OrderOut:
    """The order its signed link names, whoever holds the link. A token that is not the order's is
    refused before anything is read (the answer says nothing about the order)."""
    if not opens(deps.settings, order_id, token):
        raise Unauthorized("This order link is not valid (is it complete?).")
    async with deps.db.read() as session:
        order = await repo.order(session, order_id)
        if order is None or order.state in HIDDEN_FROM_CUSTOMERS:
            raise NotFound("There is no such order.")
        view = order_view(
            order,
            await repo.lines_of(session, order_id),
            await repo.history_of(session, order_id),
            await invoicing_repo.credit_notes_of(session, order_id),
        )
    view.order_url = order_url(deps.settings, order_id)
    return view
