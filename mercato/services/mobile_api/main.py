"""The mobile API: a backend-for-frontend for the apps. One round trip per screen, trimmed answers, composed
from catalog, search, orders and customers over their private addresses. It has no database and no business
rule: a service's problem (401, 402, 404, 409, 422) reaches the app unchanged, with its status; a service
that does not answer is a 503 problem."""

from __future__ import annotations

import orjson
from fastapi import FastAPI, Request
from starlette.responses import Response

from mercato.platform.app import create_app
from mercato.platform.clients import RemoteProblem
from mercato.platform.errors import PROBLEM_JSON
from mercato.services.mobile_api.api import router
from mercato.services.mobile_api.clients import Catalog, Customers, Orders, Search, Services
from mercato.services.mobile_api.settings import MobileApiSettings


def build_app(settings: MobileApiSettings | None = None) -> FastAPI:
    settings = settings or MobileApiSettings()

    async def on_startup(app: FastAPI) -> None:
        timeout = settings.call_timeout_seconds
        app.state.services = Services(
            catalog=Catalog(settings.catalog_url, timeout=timeout),
            search=Search(settings.search_url, timeout=timeout),
            orders=Orders(settings.orders_url, timeout=timeout),
            customers=Customers(settings.customers_url, timeout=timeout),
        )

    async def on_shutdown(app: FastAPI) -> None:
        await app.state.services.close()

    app = create_app(
        settings=settings,
        title="Mercato mobile API",
        description="One call per screen of the shopping apps (home, listing, product, cart, checkout, "
        "orders), trimmed to what a phone shows; composed from the services' answers.",
        routers=[router],
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        publishes=False,
    )

    @app.exception_handler(RemoteProblem)
    async def _passed_on(request: Request, exc: RemoteProblem) -> Response:
        """A service's problem, as the service answered it."""
        headers = {"WWW-Authenticate": 'Bearer realm="mercato"'} if exc.status == 401 else None
        return Response(
            orjson.dumps(exc.body), status_code=exc.status, media_type=PROBLEM_JSON, headers=headers
        )

    return app


app = build_app()
