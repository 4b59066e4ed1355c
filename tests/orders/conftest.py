from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from mercato.services.catalog.main import build_app as build_catalog
from mercato.services.catalog.settings import CatalogSettings
from mercato.services.orders.main import build_app as build_orders
from mercato.services.orders.settings import OrdersSettings
from mercato.services.payments.main import build_app as build_payments
from mercato.services.payments.settings import PaymentsSettings
from mercato.topology import Topology
from tests.catalog.factories import add_categories
from tests.sandbox.processes import StandIn
from tests.servers import served


async def _catalog_app(databases, backend, tmp_path) -> FastAPI:
    return build_catalog(
        CatalogSettings(
            environment="test",
            database_url=await databases.fresh("catalog", backend),
            image_dir=tmp_path / "img",
            cursor_secret="s",
            expiry_sweep_seconds=3600,
            sale_flip_seconds=3600,  # tests flip sales themselves (catalog.sales.flip_due)
        )
    )


async def _orders_app(databases, backend, tmp_path, *, catalog_url: str, payments_url: str = "") -> FastAPI:
    return build_orders(
        OrdersSettings(
            environment="test",
            database_url=await databases.fresh("orders", backend),
            document_dir=tmp_path / "documents",
            cursor_secret="s",
            order_link_secret="test-order-links",
            reconcile_every_seconds=3600,
            catalog_url=catalog_url,
            payments_url=payments_url,
        )
    )


def _over_asgi(app: FastAPI, name: str) -> httpx.AsyncClient:
    """A client that reaches the app in-process instead of over TCP."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")


@pytest.fixture
async def shop(databases, backend, tmp_path) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """(orders, catalog): both apps in-process on their own real databases; orders reaches catalog
    over TCP as deployed."""
    catalog_app = await _catalog_app(databases, backend, tmp_path)
    async with served(catalog_app) as catalog_url:
        orders_app = await _orders_app(databases, backend, tmp_path, catalog_url=catalog_url)
        async with (
            catalog_app.router.lifespan_context(catalog_app),
            orders_app.router.lifespan_context(orders_app),
        ):
            await add_categories(catalog_app)
            async with (
                _over_asgi(orders_app, "orders") as orders,
                _over_asgi(catalog_app, "catalog") as catalog,
            ):
                yield orders, catalog


PAYMENT_SANDBOX = Topology(offset=16100)  # port 24210: below the ephemeral range, clear of tests/payments'


@pytest.fixture(scope="session")
def payment_sandbox(tmp_path_factory) -> Iterator[str]:
    """The Stripe-compatible sandbox as a real process: payments reaches it through the stripe SDK."""
    state = tmp_path_factory.mktemp("payment-sandbox")
    sandbox = StandIn(
        module="mercato.sandbox.payments",
        env={
            "MERCATO_PORT_OFFSET": str(PAYMENT_SANDBOX.offset),
            "MERCATO_PAYMENT_SANDBOX_STATE_FILE": str(state / "payments.db"),
        },
        health_url=f"{PAYMENT_SANDBOX.payment_sandbox_url}/_sandbox/health",
        log_file=state / "sandbox.log",
        ports_to_check=[PAYMENT_SANDBOX.payment_sandbox_port],
    )
    sandbox.start()
    try:
        yield PAYMENT_SANDBOX.payment_sandbox_url
    finally:
        sandbox.stop()


@dataclass
class BackOffice:
    """Orders with its two synchronous dependencies, each app in-process on its own real database;
    payments talks to the sandbox process through the real SDK."""

    orders: httpx.AsyncClient
    catalog: httpx.AsyncClient
    payments: httpx.AsyncClient
    orders_app: FastAPI
    payments_app: FastAPI
    sandbox: str
    catalog_app: FastAPI


@pytest.fixture
async def back_office(databases, backend, tmp_path, payment_sandbox) -> AsyncIterator[BackOffice]:
    catalog_app = await _catalog_app(databases, backend, tmp_path)
    payments_app = build_payments(
        PaymentsSettings(
            environment="test",
            database_url=await databases.fresh("payments", backend),
            stripe_api_base=payment_sandbox,
            provider_timeout_seconds=2,
            cursor_secret="s",
        )
    )
    async with served(catalog_app) as catalog_url, served(payments_app) as payments_url:
        orders_app = await _orders_app(
            databases, backend, tmp_path, catalog_url=catalog_url, payments_url=payments_url
        )
        async with (
            catalog_app.router.lifespan_context(catalog_app),
            payments_app.router.lifespan_context(payments_app),
            orders_app.router.lifespan_context(orders_app),
        ):
            await add_categories(catalog_app)
            async with (
                _over_asgi(orders_app, "orders") as orders,
                _over_asgi(catalog_app, "catalog") as catalog,
                _over_asgi(payments_app, "payments") as payments,
            ):
                yield BackOffice(
                    orders, catalog, payments, orders_app, payments_app, payment_sandbox, catalog_app
                )
