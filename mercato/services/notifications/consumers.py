"""What notifications does with each event: thin handlers over the use cases in service.py."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import (
    CustomerErased,
    CustomerRegistered,
    CustomerUpdated,
    OrderPlaced,
    OrderStatusChanged,
    PasswordResetRequested,
    PaymentRefunded,
)
from mercato.platform.consumers import HandlerContext, Handlers
from mercato.services.notifications import service

handlers = Handlers("notifications")


def _written(context: HandlerContext, channels: list[str]) -> None:
    if channels:
        context.after_commit(context.app.state.dispatcher.wake)


@handlers.on(CustomerRegistered)
async def welcome_customer(session: AsyncSession, event: CustomerRegistered, context: HandlerContext) -> None:
    await service.remember_customer(session, event)
    _written(
        context,
        await service.welcome(
            session,
            context.app.state.renderer,
            event,
            event_id=context.event_id,
            occurred_at=context.occurred_at,
        ),
    )


@handlers.on(CustomerUpdated)
async def remember_customer(session: AsyncSession, event: CustomerUpdated, context: HandlerContext) -> None:
    await service.remember_customer(session, event)


@handlers.on(CustomerErased)
async def forget_customer(session: AsyncSession, event: CustomerErased, context: HandlerContext) -> None:
    await service.forget_customer(session, event)


@handlers.on(PasswordResetRequested)
async def send_password_reset(
    session: AsyncSession, event: PasswordResetRequested, context: HandlerContext
) -> None:
    _written(
        context,
        await service.send_password_reset(
            session,
            context.app.state.renderer,
            event,
            event_id=context.event_id,
            occurred_at=context.occurred_at,
        ),
    )


@handlers.on(OrderPlaced)
async def send_order_confirmation(session: AsyncSession, event: OrderPlaced, context: HandlerContext) -> None:
    await service.remember_order(session, event)
    _written(
        context,
        await service.confirm_order(
            session,
            context.app.state.renderer,
            event,
            event_id=context.event_id,
            occurred_at=context.occurred_at,
        ),
    )


@handlers.on(OrderStatusChanged)
async def send_order_update(
    session: AsyncSession, event: OrderStatusChanged, context: HandlerContext
) -> None:
    _written(
        context,
        await service.tell_order_status(
            session,
            context.app.state.renderer,
            event,
            event_id=context.event_id,
            occurred_at=context.occurred_at,
        ),
    )


@handlers.on(PaymentRefunded)
async def send_refund_notice(session: AsyncSession, event: PaymentRefunded, context: HandlerContext) -> None:
    _written(
        context,
        await service.tell_refund(
            session,
            context.app.state.renderer,
            event,
            event_id=context.event_id,
            occurred_at=context.occurred_at,
        ),
    )
