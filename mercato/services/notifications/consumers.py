"""What notifications does with each event: thin handlers over the use cases in service.py (and
addressed.py, for e-mails to an address). The events that come in numbers (orders, their updates,
refunds, registrations) are handled a batch at a time."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import (
    CustomerErased,
    CustomerRegistered,
    CustomerSessionsRevoked,
    CustomerUpdated,
    GiftCardIssued,
    GuestErased,
    GuestOrdersFound,
    OrderPlaced,
    OrderStatusChanged,
    PasswordResetRequested,
    PaymentRefunded,
)
from mercato.platform.handlers import BatchContext, HandlerContext, Handlers, Received
from mercato.services.notifications import addressed, giftcards, service

handlers = Handlers("notifications")


def _written(context: BatchContext, channels: list[str]) -> None:
    if channels:
        context.after_commit(context.app.state.dispatcher.wake)


@handlers.on_batch(CustomerRegistered)
async def welcome_customer(
    session: AsyncSession, received: list[Received[CustomerRegistered]], context: BatchContext
) -> None:
    _written(context, await service.welcome(session, context.app.state.renderer, received))


@handlers.on(CustomerUpdated)
async def remember_customer(session: AsyncSession, event: CustomerUpdated, context: HandlerContext) -> None:
    await service.remember_customer(session, event)


@handlers.on(CustomerSessionsRevoked)
async def end_customer_sessions(
    session: AsyncSession, event: CustomerSessionsRevoked, context: HandlerContext
) -> None:
    await service.sessions_revoked(session, event)


@handlers.on(CustomerErased)
async def forget_customer(session: AsyncSession, event: CustomerErased, context: HandlerContext) -> None:
    await service.forget_customer(session, event)


@handlers.on(PasswordResetRequested)
async def send_password_reset(
    session: AsyncSession, event: PasswordResetRequested, context: HandlerContext
) -> None:
    _written(
        context,
        await addressed.send_password_reset(
            session,
            context.app.state.renderer,
            event,
            event_id=context.event_id,
            occurred_at=context.occurred_at,
        ),
    )


@handlers.on(GiftCardIssued)
async def send_gift_card(session: AsyncSession, event: GiftCardIssued, context: HandlerContext) -> None:
    _written(
        context,
        await giftcards.send_gift_card(
            session,
            context.app.state.renderer,
            event,
            event_id=context.event_id,
            occurred_at=context.occurred_at,
        ),
    )


@handlers.on(GuestOrdersFound)
async def offer_guest_orders(session: AsyncSession, event: GuestOrdersFound, context: HandlerContext) -> None:
    _written(
        context,
        await addressed.offer_guest_orders(
            session,
            context.app.state.renderer,
            event,
            event_id=context.event_id,
            occurred_at=context.occurred_at,
        ),
    )


@handlers.on(GuestErased)
async def forget_guest(session: AsyncSession, event: GuestErased, context: HandlerContext) -> None:
    await service.forget_guest(session, event)


@handlers.on_batch(OrderPlaced)
async def send_order_confirmation(
    session: AsyncSession, received: list[Received[OrderPlaced]], context: BatchContext
) -> None:
    _written(context, await service.confirm_orders(session, context.app.state.renderer, received))


@handlers.on_batch(OrderStatusChanged)
async def send_order_update(
    session: AsyncSession, received: list[Received[OrderStatusChanged]], context: BatchContext
) -> None:
    _written(context, await service.tell_order_statuses(session, context.app.state.renderer, received))


@handlers.on_batch(PaymentRefunded)
async def send_refund_notice(
    session: AsyncSession, received: list[Received[PaymentRefunded]], context: BatchContext
) -> None:
    _written(context, await service.tell_refunds(session, context.app.state.renderer, received))
