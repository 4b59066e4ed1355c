"""The customers service: accounts, credentials, tokens, profiles and address books."""

from __future__ import annotations

from fastapi import FastAPI

from mercato.platform.app import create_app
from mercato.services.customers.api import jwks_router, router
from mercato.services.customers.credentials import Passwords, TokenIssuer
from mercato.services.customers.settings import CustomersSettings


def build_app(settings: CustomersSettings | None = None) -> FastAPI:
    settings = settings or CustomersSettings()

    async def on_startup(app: FastAPI) -> None:
        app.state.passwords = Passwords(settings)
        app.state.issuer = TokenIssuer(settings)

    return create_app(
        settings=settings,
        title="Mercato customers",
        description="Accounts, credentials, access and refresh tokens (JWKS), profiles and address books.",
        routers=[router, jwks_router],
        on_startup=on_startup,
    )


app = build_app()
