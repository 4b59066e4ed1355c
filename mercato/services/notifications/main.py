"""The notifications service: consumes events and writes to people — e-mail over SMTP, SMS via Twilio,
push through APNs (iOS) and FCM (Android).

Its HTTP surface: the shopper's devices for push (`/mobile/v1/devices`, through the gateway); private
health, metrics, its sent log, a customer's communications (for their export) and dead letters.
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import FastAPI

from mercato.platform.app import create_app
from mercato.services.notifications.api import internal, mobile
from mercato.services.notifications.clients import Orders, Payments
from mercato.services.notifications.consumers import handlers
from mercato.services.notifications.dispatch import Dispatcher
from mercato.services.notifications.mail import Mailer
from mercato.services.notifications.push import Pusher
from mercato.services.notifications.rendering import Renderer
from mercato.services.notifications.settings import NotificationsSettings
from mercato.services.notifications.sms import TwilioSms, is_permanent


def build_app(settings: NotificationsSettings | None = None) -> FastAPI:
    settings = settings or NotificationsSettings()

    async def on_startup(app: FastAPI) -> None:
        app.state.renderer = Renderer(shop_name=settings.shop_name, storefront_url=settings.storefront_url)
        app.state.mailer = Mailer(settings)
        app.state.sms = TwilioSms(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            from_number=settings.sms_from,
            api_base_url=settings.twilio_api_base_url or None,
        )
        app.state.pusher = Pusher(settings)
        app.state.orders = Orders(settings.orders_url, timeout=settings.orders_timeout_seconds)
        app.state.payments = Payments(settings.payments_url, timeout=settings.payments_timeout_seconds)
        app.state.dispatcher = Dispatcher(
            db=app.state.db,
            settings=settings,
            mailer=app.state.mailer,
            sms=app.state.sms,
            sms_is_permanent=is_permanent,
            pusher=app.state.pusher,
            orders=app.state.orders,
            payments=app.state.payments,
            metrics=app.state.metrics,
        )
        app.state.dispatch_task = asyncio.create_task(app.state.dispatcher.run())

    async def on_shutdown(app: FastAPI) -> None:
        app.state.dispatch_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await app.state.dispatch_task
        await app.state.mailer.close()
        await app.state.sms.close()
        await app.state.pusher.close()
        await app.state.orders.client.close()
        await app.state.payments.client.close()

    return create_app(
        settings=settings,
        title="Mercato notifications",
        description="Order, shipping, refund and welcome messages by e-mail, SMS and push, once each; "
        "the shopper's devices for push.",
        routers=[mobile, internal],
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        handlers=handlers,
        publishes=False,
    )


app = build_app()
