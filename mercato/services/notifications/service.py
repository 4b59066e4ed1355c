"""Use cases: keep contact details and order summaries current, and decide which messages to write —
e-mail, SMS, and a push to each of the customer's devices.

Deciding happens in the consumer's transaction (with its inbox rows); sending happens after commit, in
the dispatcher. So a message is written exactly once per purpose and channel (its dedup key), and is
sent even if the SMTP server or SMS provider is down right now. The use cases fed by frequent events
take a whole batch of them and write it with a few statements (one look-up of the recipients, one
insert of the messages), whatever its size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.carriers import carrier_name, tracking_link
from mercato.contracts.events import (
    CustomerErased,
    CustomerRegistered,
    CustomerSessionsRevoked,
    CustomerUpdated,
    GuestErased,
    OrderPlaced,
    OrderStatusChanged,
    PaymentRefunded,
)
from mercato.platform.handlers import Received
from mercato.platform.ids import new_id
from mercato.platform.sessions import end_sessions, hold_customer
from mercato.services.notifications import repository as repo
from mercato.services.notifications.rendering import Rendered, Renderer


class RecipientUnknown(Exception):
    """No contact details for a customer yet: their CustomerRegistered event has not been handled.
    Raising it makes the consumer retry the event later (a batch: each of its events on its own)."""


# Which order state changes the customer hears about, and with which template.
STATUS_MESSAGES = {
    "shipped": "order_shipped",
    "delivered": "order_delivered",
    "cancelled": "order_cancelled",
    "returned": "order_returned",
}


async def remember_customer(session: AsyncSession, event: CustomerRegistered | CustomerUpdated) -> None:
    at = event.registered_at if isinstance(event, CustomerRegistered) else event.updated_at
    await repo.upsert_recipient(
        session,
        {
            "customer_id": event.customer_id,
            "email": event.email,
            "name": event.name,
            "phone": event.phone,
            "language": event.language,
            "opt_in_email": event.opt_ins.email,
            "opt_in_sms": event.opt_ins.sms,
            "opt_in_push": event.opt_ins.push,
            "updated_at": at,
        },
    )


async def remember_guest(session: AsyncSession, event: OrderPlaced) -> None:
    """A guest has no account: the order's address receives its messages (the ones about orders only:
    no SMS, no push, no newsletter)."""
    await repo.upsert_recipient(
        session,
        {
            "customer_id": event.customer_id,
            "email": event.email,
            "name": "",
            "phone": None,
            "language": "en",
            "opt_in_email": True,
            "opt_in_sms": False,
            "opt_in_push": False,
            "updated_at": event.placed_at,
        },
    )


async def sessions_revoked(session: AsyncSession, event: CustomerSessionsRevoked) -> None:
    await end_sessions(session, event.customer_id, event.revoked_at)


async def forget_customer(session: AsyncSession, event: CustomerErased) -> None:
    # Holding the customer: a device registration in flight is written before this (and deleted by
    # it) or sees the tombstone and is refused (mercato.services.notifications.devices).
    await hold_customer(session, event.customer_id)
    await end_sessions(session, event.customer_id, event.erased_at)
    await repo.erase_recipient(session, event.customer_id, event.erased_at)
    await repo.delete_devices(session, event.customer_id)
    await repo.scrub_messages(session, event.customer_id)


@dataclass(frozen=True)
class Purpose:
    """A message to write — by e-mail, and by SMS where its template has one — once: `key` names it."""

    kind: str  # the template
    customer_id: str
    order_id: str | None
    key: str
    event_id: str
    occurred_at: datetime
    context: dict[str, Any]
    attachment: str | None = None  # its e-mail attaches the order's invoice (by number) when sent


async def write_messages(session: AsyncSession, renderer: Renderer, purposes: list[Purpose]) -> list[str]:
    """Write the messages of `purposes`, each once (a key already written, or twice in the list, is
    written the first time only); returns the channels written. Opt-outs are recorded as skipped, so
    support can see why nothing arrived."""
    if not purposes:
        return []
    customer_ids = {purpose.customer_id for purpose in purposes}
    recipients = await repo.recipients(session, customer_ids)
    devices = await repo.devices_of(session, customer_ids)
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for purpose in purposes:
        recipient = recipients.get(purpose.customer_id)
        if recipient is None:
            raise RecipientUnknown(f"no contact details for customer {purpose.customer_id} yet")
        if not recipient.erased:  # erased: we write to nobody
            rendered = renderer.render(
                purpose.kind,
                name=recipient.name,
                language=recipient.language,
                with_sms=bool(recipient.phone),
                **purpose.context,
            )
            rows += _messages(purpose, recipient, rendered, now)
            rows += _pushes(purpose, recipient, rendered, devices.get(purpose.customer_id, []), now)
    inserted = await repo.add_messages(session, rows)
    return sorted(
        {row["channel"] for row in rows if row["dedup_key"] in inserted and row["status"] == "pending"}
    )


def _messages(purpose: Purpose, recipient: Any, rendered: Rendered, now: datetime) -> list[dict[str, Any]]:
    """The e-mail, and the SMS where there is one, of `purpose` to `recipient`: pending, or skipped if
    they opted out of the channel."""
    channels = [
        # (channel, address, wanted, why not, subject, text, html)
        (
            "email",
            recipient.email,
            recipient.opt_in_email,
            "e-mail",
            rendered.subject,
            rendered.text,
            rendered.html,
        )
    ]
    if rendered.sms:
        channels.append(("sms", recipient.phone, recipient.opt_in_sms, "SMS", None, rendered.sms, None))
    return [
        {
            "id": new_id("msg"),
            "dedup_key": f"{purpose.key}:{channel}",
            "platform": None,
            "customer_id": purpose.customer_id,
            "order_id": purpose.order_id,
            "kind": purpose.kind,
            "channel": channel,
            "to_address": address,
            "subject": subject,
            "body_text": text,
            "body_html": html,
            "attachment": purpose.attachment if channel == "email" else None,
            "status": "pending" if wanted else "skipped",
            "attempts": 0,
            "last_error": None if wanted else f"the customer opted out of {name}",
            "event_id": purpose.event_id,
            "event_occurred_at": purpose.occurred_at,
            "created_at": now,
            "next_attempt_at": now,
        }
        for channel, address, wanted, name, subject, text, html in channels
    ]


def _pushes(
    purpose: Purpose, recipient: Any, rendered: Rendered, devices: list[Any], now: datetime
) -> list[dict[str, Any]]:
    """A push of `purpose` to each of the recipient's devices, where its kind has one: pending, or
    skipped if they opted out of push. Once per device (its token's hash in the dedup key)."""
    if rendered.push is None:
        return []
    title, body = rendered.push
    return [
        {
            "id": new_id("msg"),
            "dedup_key": f"{purpose.key}:push:{device.token_hash}",
            "platform": device.platform,
            "customer_id": purpose.customer_id,
            "order_id": purpose.order_id,
            "kind": purpose.kind,
            "channel": "push",
            "to_address": device.token,
            "subject": title,
            "body_text": body,
            "body_html": None,
            "attachment": None,
            "status": "pending" if recipient.opt_in_push else "skipped",
            "attempts": 0,
            "last_error": None if recipient.opt_in_push else "the customer opted out of push",
            "event_id": purpose.event_id,
            "event_occurred_at": purpose.occurred_at,
            "created_at": now,
            "next_attempt_at": now,
        }
        for device in devices
    ]


async def welcome(
    session: AsyncSession, renderer: Renderer, received: list[Received[CustomerRegistered]]
) -> list[str]:
    for item in received:
        await remember_customer(session, item.event)
    return await write_messages(
        session,
        renderer,
        [
            Purpose(
                kind="welcome",
                customer_id=item.event.customer_id,
                order_id=None,
                key=f"welcome:{item.event.customer_id}",
                event_id=item.event_id,
                occurred_at=item.occurred_at,
                context={},
            )
            for item in received
        ],
    )


async def forget_guest(session: AsyncSession, event: GuestErased) -> None:
    """Support erased a guest: their recipient rows become tombstones and their messages are scrubbed,
    as for an erased customer."""
    for buyer_id in event.buyer_ids:
        await repo.erase_recipient(session, buyer_id, event.erased_at)
        await repo.scrub_messages(session, buyer_id)


async def confirm_orders(
    session: AsyncSession, renderer: Renderer, received: list[Received[OrderPlaced]]
) -> list[str]:
    """Keep each order's summary (what later messages about it show) and write its confirmation. A
    guest's order brings its own recipient: the e-mail address of the order, named by the guest's cart."""
    for item in received:
        if item.event.email:
            await remember_guest(session, item.event)
    await repo.save_order_summaries(
        session,
        [
            {
                "order_id": item.event.order_id,
                "customer_id": item.event.customer_id,
                "total_amount": item.event.total.amount,
                "currency": item.event.total.currency,
                "lines": [line.model_dump(mode="json") for line in item.event.lines],
                "placed_at": item.event.placed_at,
                "number": item.event.number,
                "order_url": item.event.order_url,
            }
            for item in received
        ],
    )
    return await write_messages(
        session,
        renderer,
        [
            Purpose(
                kind="order_confirmation",
                customer_id=item.event.customer_id,
                order_id=item.event.order_id,
                key=f"order_confirmation:{item.event.order_id}",
                event_id=item.event_id,
                occurred_at=item.occurred_at,
                context={
                    "order_id": item.event.order_id,
                    "order_number": item.event.number or item.event.order_id,
                    "lines": [line.model_dump(mode="json") for line in item.event.lines],
                    "total": item.event.total.model_dump(),
                    "order_url": item.event.order_url,
                    # what cart promotions took off, and how it was paid (gift cards, then the card)
                    "promotions": [p.model_dump(mode="json") for p in item.event.promotions],
                    "tenders": [t.model_dump(mode="json") for t in item.event.tenders],
                    **_breakdown(item.event),
                },
                attachment=item.event.invoice_number,
            )
            for item in received
        ],
    )


def _breakdown(event: OrderPlaced) -> dict[str, Any]:
    """The confirmation's totals as the order stores them: subtotal, shipping (and how), the tax lines
    (included in the total, or added to it), as the event carries them (older events carry none)."""
    if event.totals is None:
        return {}
    return {
        "totals": event.totals.model_dump(mode="json"),
        "tax_lines": [line.model_dump(mode="json") for line in event.tax_lines],
        "prices_include_tax": event.prices_include_tax is not False,
        "shipping_method": event.shipping_method,
    }


async def _order_contexts(session: AsyncSession, order_ids: set[str]) -> dict[str, dict[str, Any]]:
    summaries = await repo.order_summaries(session, order_ids)
    contexts = {}
    for order_id in order_ids:
        summary = summaries.get(order_id)
        if summary is None:  # an order placed before notifications kept summaries
            contexts[order_id] = {
                "order_id": order_id,
                "order_number": order_id,
                "lines": [],
                "total": None,
                "order_url": None,
            }
        else:
            contexts[order_id] = {
                "order_id": order_id,
                "order_number": summary.number or order_id,
                "lines": summary.lines,
                "total": {"amount": summary.total_amount, "currency": summary.currency},
                "order_url": summary.order_url,
            }
    return contexts


async def tell_order_statuses(
    session: AsyncSession, renderer: Renderer, received: list[Received[OrderStatusChanged]]
) -> list[str]:
    # confirmed, processing, refunded: nothing to tell (a refund has its own message)
    told = [item for item in received if item.event.to_state in STATUS_MESSAGES]
    contexts = await _order_contexts(session, {item.event.order_id for item in told})
    return await write_messages(session, renderer, [_status_message(item, contexts) for item in told])


def _status_message(item: Received[OrderStatusChanged], contexts: dict[str, dict[str, Any]]) -> Purpose:
    event, kind = item.event, STATUS_MESSAGES[item.event.to_state]
    return Purpose(
        kind=kind,
        customer_id=event.customer_id,
        order_id=event.order_id,
        key=f"{kind}:{event.order_id}",
        event_id=item.event_id,
        occurred_at=item.occurred_at,
        context={
            **contexts[event.order_id],
            "reason": event.reason,
            "carrier": carrier_name(event.carrier) if event.carrier else None,
            "tracking_number": event.tracking_number,
            "tracking_url": tracking_link(event.carrier, event.tracking_number),
        },
    )


async def tell_refunds(
    session: AsyncSession, renderer: Renderer, received: list[Received[PaymentRefunded]]
) -> list[str]:
    # The money of a checkout that failed went straight back: there is no order to tell about.
    told = [item for item in received if item.event.reason != "checkout_failed"]
    contexts = await _order_contexts(session, {item.event.order_id for item in told})
    return await write_messages(
        session,
        renderer,
        [
            Purpose(
                kind="payment_refunded",
                customer_id=item.event.customer_id,
                order_id=item.event.order_id,
                key=f"payment_refunded:{item.event_id}",  # every refund (partial ones too) is its own message
                event_id=item.event_id,
                occurred_at=item.occurred_at,
                context={
                    **contexts[item.event.order_id],
                    "amount": item.event.amount.model_dump(),
                    "total_refunded": item.event.total_refunded.model_dump(),
                },
            )
            for item in told
        ],
    )
