"""GDPR for guests, on request to support: a guest has no account to export or close, so support finds
their orders by the e-mail address they bought with (the blind index of its normal form).

The export is what orders holds (every order of the address, as the back office sees it) and the
messages notifications wrote to the guest. The erasure does to those orders what an account's erasure
does to its orders — the shipping address keeps only its country (for tax and the reports), the e-mail
and its index go — removes the guest carts, and tells notifications (GuestErased) to forget the guest
as a recipient. Orders a guest already claimed belong to an account; that account's erasure covers them.
"""

from __future__ import annotations

from mercato.contracts.emails import normalise_email
from mercato.contracts.events import GuestErased
from mercato.platform.outbox import record_event
from mercato.platform.staff import Staff, record_staff_action
from mercato.services.orders import repository as repo
from mercato.services.orders.deps import Deps, now
from mercato.services.orders.guests import repository as guest_repo
from mercato.services.orders.guests.orders import email_index
from mercato.services.orders.guests.schemas import GuestErasure, GuestExport
from mercato.services.orders.lookups import staff_view


async def export(deps: Deps, staff: Staff, email: str) -> GuestExport:
    async with deps.db.unit_of_work() as session:
        orders = await guest_repo.orders_of(session, email_index(deps.settings, email))
        views = [
            staff_view(
                order, await repo.lines_of(session, order.id), await repo.history_of(session, order.id)
            )
            for order in orders
        ]
        await record_staff_action(
            session,
            staff,
            "guest.exported",
            service="orders",
            target_type="guest",
            details={"orders": len(views)},
        )
    messages = [
        message
        for buyer in sorted({order.cart_id for order in orders if order.cart_id})
        for message in await deps.notifications.messages_to(buyer)
    ]
    return GuestExport(email=normalise_email(email), orders=views, messages=messages)


async def erase(deps: Deps, staff: Staff, email: str) -> GuestErasure:
    async with deps.db.unit_of_work() as session:
        orders = [
            o
            for o in await guest_repo.orders_of(session, email_index(deps.settings, email))
            if not o.customer_id
        ]
        buyers = sorted({order.cart_id for order in orders if order.cart_id})
        await guest_repo.erase(session, [order.id for order in orders])
        await guest_repo.delete_carts(session, buyers)
        if buyers:
            await record_event(
                session, GuestErased(buyer_ids=tuple(buyers), erased_at=now()), aggregate_id=buyers[0]
            )
        await record_staff_action(
            session,
            staff,
            "guest.erased",
            service="orders",
            target_type="guest",
            details={"orders": len(orders)},
        )
    return GuestErasure(erased=len(orders))
