"""The e-mail that sends a gift card's code: to the address the card was issued for (a guest buyer's, or
the recipient staff named), else to the buying customer's address. The code is not in the event nor
stored here: the message keeps the card's id and a placeholder, and the dispatcher fills the code in
from payments as it sends (dispatch.py), the way a confirmation fetches its invoice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import GiftCardIssued
from mercato.services.notifications import repository as repo
from mercato.services.notifications.addressed import email_to
from mercato.services.notifications.rendering import Renderer
from mercato.services.notifications.service import RecipientUnknown

GIFT_CARD_CODE = "[[gift-card-code]]"  # where the dispatcher puts the code


async def send_gift_card(
    session: AsyncSession, renderer: Renderer, event: GiftCardIssued, *, event_id: str, occurred_at: datetime
) -> list[str]:
    address, name, language = event.email, "", "en"
    if address is None:
        if event.customer_id is None:
            return []  # staff issued it to hand over themselves
        recipient = (await repo.recipients(session, {event.customer_id})).get(event.customer_id)
        if recipient is None:
            raise RecipientUnknown(f"no contact details for customer {event.customer_id} yet")
        if recipient.erased:
            return []
        address, name, language = recipient.email, recipient.name, recipient.language
    balance = event.balance
    rendered = renderer.render(
        "gift_card",
        name=name,
        language=language,
        with_sms=False,
        code=GIFT_CARD_CODE,
        amount=f"{balance.amount / 100:.2f} {balance.currency}",
        expires_at=event.expires_at.strftime("%Y-%m-%d") if event.expires_at else None,
        bought=event.order_id is not None,
    )
    return await email_to(
        session,
        address,
        rendered,
        kind="gift_card",
        customer_id=event.customer_id or "",
        event_id=event_id,
        occurred_at=occurred_at,
        order_id=event.order_id,
        gift_card_id=event.gift_card_id,
    )
