"""The payments service: the boundary to the payment provider, with an append-only payment record."""

from __future__ import annotations

from fastapi import FastAPI

from mercato.platform.app import create_app
from mercato.services.payments.api import admin, internal, webhooks
from mercato.services.payments.consumers import handlers
from mercato.services.payments.giftcards import api as gift_cards
from mercato.services.payments.provider import Provider
from mercato.services.payments.settings import PaymentsSettings


def build_app(settings: PaymentsSettings | None = None) -> FastAPI:
    settings = settings or PaymentsSettings()

    async def on_startup(app: FastAPI) -> None:
        app.state.provider = Provider(settings, app.state.metrics)

    async def on_shutdown(app: FastAPI) -> None:
        await app.state.provider.close()

    return create_app(
        settings=settings,
        title="Mercato payments",
        description=(
            "Authorise, capture, void and refund through the payment provider; gift cards; append-only "
            "records."
        ),
        routers=[internal, webhooks, admin, gift_cards.public, gift_cards.internal, gift_cards.admin],
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        handlers=handlers,
    )


app = build_app()
