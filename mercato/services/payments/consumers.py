"""What payments does with events: the gift cards bought in a placed order are issued (once each: the
inbox, and the cards' deterministic ids)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import OrderPlaced
from mercato.platform.handlers import HandlerContext, Handlers
from mercato.services.payments.giftcards import cards

handlers = Handlers("payments")


@handlers.on(OrderPlaced)
async def issue_bought_gift_cards(session: AsyncSession, event: OrderPlaced, context: HandlerContext) -> None:
    await cards.issue_bought(session, event)
