"""Use cases: keep contact details and order summaries current, and decide which messages to write.

Deciding happens in the consumer's transaction (with its inbox row); sending happens after commit, in
the dispatcher. So a message is written exactly once per purpose and channel (its dedup key), and is
sent even if the SMTP server or SMS provider is down right now.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.carriers import carrier_name, tracking_link
from mercato.contracts.events import (
    CustomerErased,
    CustomerRegistered,
    CustomerUpdated,
    OrderPlaced,
    OrderStatusChanged,
    PasswordResetRequested,
    PaymentRefunded,
)
from mercato.platform.ids import new_id
from mercato.services.notifications import repository as repo
from mercato.services.notifications.rendering import Renderer


class RecipientUnknown(Exception):
    """No contact details for a customer yet: their CustomerRegistered event has not been handled.
    Raising it makes the consumer retry the event later."""


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


async def forget_customer(session: AsyncSession, event: CustomerErased) -> None:
    await repo.erase_recipient(session, event.customer_id, event.erased_at)
    await repo.scrub_messages(session, event.customer_id)


async def remember_order(session: AsyncSession, event: OrderPlaced) -> None:
    await repo.save_order_summary(
        session,
        {
            "order_id": event.order_id,
            "customer_id": event.customer_id,
            "total_amount": event.total.amount,
            "currency": event.total.currency,
            "lines": [line.model_dump(mode="json") for line in event.lines],
            "placed_at": event.placed_at,
            "number": event.number,
        },
    )


async def _order_context(session: AsyncSession, order_id: str) -> dict[str, Any]:
    summary = await repo.order_summary(session, order_id)
    if summary is None:  # an order placed before notifications kept summaries
        return {"order_id": order_id, "order_number": order_id, "lines": [], "total": None}
    return {
        "order_id": order_id,
        "order_number": summary.number or order_id,
        "lines": summary.lines,
        "total": {"amount": summary.total_amount, "currency": summary.currency},
    }


async def write_messages(
    session: AsyncSession,
    renderer: Renderer,
    *,
    kind: str,
    customer_id: str,
    order_id: str | None,
    purpose: str,
    event_id: str,
    occurred_at: datetime,
    context: dict[str, Any],
) -> list[str]:
    """Write the e-mail (and SMS, where the template has one) for `purpose`, once; returns the
    channels written. Opt-outs are recorded as skipped, so support can see why nothing arrived."""
    recipient = await repo.recipient(session, customer_id)
    if recipient is None:
        raise RecipientUnknown(f"no contact details for customer {customer_id} yet")
    if recipient.erased:
        return []  # erased: we write to nobody
    rendered = renderer.render(kind, name=recipient.name, language=recipient.language, **context)
    now = datetime.now(UTC)
    common = {
        "customer_id": customer_id,
        "order_id": order_id,
        "kind": kind,
        "event_id": event_id,
        "event_occurred_at": occurred_at,
        "created_at": now,
        "next_attempt_at": now,
        "attempts": 0,
    }
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
        ),
    ]
    if rendered.sms and recipient.phone:
        channels.append(("sms", recipient.phone, recipient.opt_in_sms, "SMS", None, rendered.sms, None))
    written = []
    for channel, address, wanted, name, subject, text, html in channels:
        inserted = await repo.add_message(
            session,
            {
                **common,
                "id": new_id("msg"),
                "dedup_key": f"{purpose}:{channel}",
                "channel": channel,
                "to_address": address,
                "subject": subject,
                "body_text": text,
                "body_html": html,
                "status": "pending" if wanted else "skipped",
                "last_error": None if wanted else f"the customer opted out of {name}",
            },
        )
        if inserted and wanted:
            written.append(channel)
    return written


async def welcome(
    session: AsyncSession,
    renderer: Renderer,
    event: CustomerRegistered,
    *,
    event_id: str,
    occurred_at: datetime,
) -> list[str]:
    return await write_messages(
        session,
        renderer,
        kind="welcome",
        customer_id=event.customer_id,
        order_id=None,
        purpose=f"welcome:{event.customer_id}",
        event_id=event_id,
        occurred_at=occurred_at,
        context={},
    )


async def send_password_reset(
    session: AsyncSession,
    renderer: Renderer,
    event: PasswordResetRequested,
    *,
    event_id: str,
    occurred_at: datetime,
) -> list[str]:
    """The reset link, by e-mail, to the account's address as customers knows it now: a security
    message the shopper asked for, so it goes whatever their marketing and update opt-ins say."""
    rendered = renderer.render(
        "password_reset",
        name=event.name,
        language=event.language,
        reset_url=f"{renderer.defaults['storefront_url']}/reset-password?{urlencode({'token': event.token})}",
        expires_at=event.expires_at.strftime("%H:%M UTC"),
    )
    now = datetime.now(UTC)
    inserted = await repo.add_message(
        session,
        {
            "id": new_id("msg"),
            "dedup_key": f"password_reset:{event_id}:email",
            "customer_id": event.customer_id,
            "order_id": None,
            "kind": "password_reset",
            "channel": "email",
            "to_address": event.email,
            "subject": rendered.subject,
            "body_text": rendered.text,
            "body_html": rendered.html,
            "status": "pending",
            "last_error": None,
            "event_id": event_id,
            "event_occurred_at": occurred_at,
            "created_at": now,
            "next_attempt_at": now,
            "attempts": 0,
        },
    )
    return ["email"] if inserted else []


async def confirm_order(
    session: AsyncSession, renderer: Renderer, event: OrderPlaced, *, event_id: str, occurred_at: datetime
) -> list[str]:
    return await write_messages(
        session,
        renderer,
        kind="order_confirmation",
        customer_id=event.customer_id,
        order_id=event.order_id,
        purpose=f"order_confirmation:{event.order_id}",
        event_id=event_id,
        occurred_at=occurred_at,
        context={
            "order_id": event.order_id,
            "order_number": event.number or event.order_id,
            "lines": [line.model_dump(mode="json") for line in event.lines],
            "total": event.total.model_dump(),
        },
    )


async def tell_order_status(
    session: AsyncSession,
    renderer: Renderer,
    event: OrderStatusChanged,
    *,
    event_id: str,
    occurred_at: datetime,
) -> list[str]:
    kind = STATUS_MESSAGES.get(event.to_state)
    if kind is None:
        return []  # confirmed, processing, refunded: nothing to tell (a refund has its own message)
    return await write_messages(
        session,
        renderer,
        kind=kind,
        customer_id=event.customer_id,
        order_id=event.order_id,
        purpose=f"{kind}:{event.order_id}",
        event_id=event_id,
        occurred_at=occurred_at,
        context={
            **await _order_context(session, event.order_id),
            "reason": event.reason,
            "carrier": carrier_name(event.carrier) if event.carrier else None,
            "tracking_number": event.tracking_number,
            "tracking_url": tracking_link(event.carrier, event.tracking_number),
        },
    )


async def tell_refund(
    session: AsyncSession, renderer: Renderer, event: PaymentRefunded, *, event_id: str, occurred_at: datetime
) -> list[str]:
    if event.reason == "checkout_failed":
        return []  # the money of a checkout that failed went straight back: there is no order to tell about
    return await write_messages(
        session,
        renderer,
        kind="payment_refunded",
        customer_id=event.customer_id,
        order_id=event.order_id,
        purpose=f"payment_refunded:{event_id}",  # every refund (partial ones too) is its own message
        event_id=event_id,
        occurred_at=occurred_at,
        context={
            **await _order_context(session, event.order_id),
            "amount": event.amount.model_dump(),
            "total_refunded": event.total_refunded.model_dump(),
        },
    )
