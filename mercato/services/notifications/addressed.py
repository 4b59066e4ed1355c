"""E-mails to an address rather than to a customer's current one: a password reset link, and the link
that adds a new account's earlier guest orders to it. Each goes exactly where the event says, once per
event, whatever the opt-ins (they are what the person asked for, not marketing)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import GuestOrdersFound, PasswordResetRequested
from mercato.platform.ids import new_id
from mercato.services.notifications import repository as repo
from mercato.services.notifications.rendering import Rendered, Renderer


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
        with_sms=False,
        reset_url=f"{renderer.defaults['storefront_url']}/reset-password?{urlencode({'token': event.token})}",
        expires_at=event.expires_at.strftime("%H:%M UTC"),
    )
    return await email_to(
        session,
        event.email,
        rendered,
        kind="password_reset",
        customer_id=event.customer_id,
        event_id=event_id,
        occurred_at=occurred_at,
    )


async def offer_guest_orders(
    session: AsyncSession,
    renderer: Renderer,
    event: GuestOrdersFound,
    *,
    event_id: str,
    occurred_at: datetime,
) -> list[str]:
    """The link that adds a new account's earlier guest orders to it, to the address it was registered
    with — exactly that one, not the account's address as it may be by now: the link proves control of
    the address the orders were bought with (docs/guest-checkout.md)."""
    rendered = renderer.render(
        "guest_orders_found",
        name="",
        language="en",
        with_sms=False,
        claim_url=event.claim_url,
        order_count=event.order_count,
        expires_at=event.expires_at.strftime("%Y-%m-%d"),
    )
    return await email_to(
        session,
        event.email,
        rendered,
        kind="guest_orders_found",
        customer_id=event.customer_id,
        event_id=event_id,
        occurred_at=occurred_at,
    )


async def email_to(
    session: AsyncSession,
    address: str,
    rendered: Rendered,
    *,
    kind: str,
    customer_id: str,
    event_id: str,
    occurred_at: datetime,
    order_id: str | None = None,
    gift_card_id: str | None = None,
) -> list[str]:
    """One e-mail to `address` (not a recipient's current one), once per event, whatever the opt-ins."""
    now = datetime.now(UTC)
    inserted = await repo.add_messages(
        session,
        [
            {
                "id": new_id("msg"),
                "dedup_key": f"{kind}:{event_id}:email",
                "platform": None,
                "customer_id": customer_id,
                "order_id": order_id,
                "kind": kind,
                "channel": "email",
                "to_address": address,
                "subject": rendered.subject,
                "body_text": rendered.text,
                "body_html": rendered.html,
                "gift_card_id": gift_card_id,
                "status": "pending",
                "last_error": None,
                "event_id": event_id,
                "event_occurred_at": occurred_at,
                "created_at": now,
                "next_attempt_at": now,
                "attempts": 0,
            }
        ],
    )
    return ["email"] if inserted else []
