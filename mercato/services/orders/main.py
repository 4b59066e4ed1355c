"""The orders service: carts, checkout, the order state machine and purchase history."""

from __future__ import annotations

from fastapi import FastAPI

from mercato.platform.app import create_app
from mercato.platform.storage import object_store
from mercato.services.orders.api import admin, router
from mercato.services.orders.clients import Catalog, Notifications, Payments
from mercato.services.orders.consumers import handlers
from mercato.services.orders.deps import Deps
from mercato.services.orders.guests.api import admin as guests_admin
from mercato.services.orders.guests.api import router as guests_public
from mercato.services.orders.invoicing import api as invoicing_api
from mercato.services.orders.invoicing.documents import CACHE_CONTROL
from mercato.services.orders.pricing.api import router as pricing_admin
from mercato.services.orders.pricing.cache import PricingCache
from mercato.services.orders.promotions import codes as promotion_codes
from mercato.services.orders.promotions.api_admin import router as promotions_admin
from mercato.services.orders.promotions.api_cart import router as cart_codes
from mercato.services.orders.promotions.cache import PromotionsCache
from mercato.services.orders.recovery import reconcile
from mercato.services.orders.settings import OrdersSettings


async def reconcile_stuck_orders(app: FastAPI) -> None:
    await reconcile(app.state.deps)


async def refresh_pricing(app: FastAPI) -> None:
    """Other replicas' changes to tax rates, shipping methods and promotions (this one's are applied at
    once)."""
    await app.state.deps.pricing.refresh(app.state.db)
    await app.state.deps.promotions.refresh(app.state.db)


def build_app(settings: OrdersSettings | None = None) -> FastAPI:
    settings = settings or OrdersSettings()

    async def on_startup(app: FastAPI) -> None:
        timeout = settings.call_timeout_seconds
        app.state.deps = Deps(
            db=app.state.db,
            catalog=Catalog(settings.catalog_url, timeout=timeout),
            payments=Payments(settings.payments_url, timeout=timeout),
            settings=settings,
            pricing=PricingCache(frozenset(settings.us_tax_nexus)),
            notifications=Notifications(settings.notifications_url, timeout=timeout),
            documents=object_store(
                settings.document_store,
                directory=settings.document_dir,
                bucket=settings.document_s3_bucket,
                endpoint_url=settings.document_s3_endpoint_url,
                region=settings.document_s3_region,
                cache_control=CACHE_CONTROL,
            ),
            promotions=PromotionsCache(),
        )
        await app.state.deps.pricing.refresh(app.state.db)
        await app.state.deps.promotions.refresh(app.state.db)
        await promotion_codes.resume(app.state.db)  # code batches a stopped process left running

    async def on_shutdown(app: FastAPI) -> None:
        await promotion_codes.stop(app.state.db)
        await app.state.deps.catalog.client.close()
        await app.state.deps.payments.client.close()
        await app.state.deps.notifications.client.close()

    return create_app(
        settings=settings,
        title="Mercato orders",
        description="Server-side carts, checkout, the order state machine and purchase history; the "
        "back office's order operations, refunds and sales reports.",
        routers=[
            router,
            cart_codes,
            admin,
            pricing_admin,
            promotions_admin,
            guests_public,
            guests_admin,
            invoicing_api.public,
            invoicing_api.admin,
            invoicing_api.internal,
        ],
        periodic=[
            (settings.reconcile_every_seconds, reconcile_stuck_orders),
            (settings.pricing_refresh_seconds, refresh_pricing),
        ],
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        handlers=handlers,
    )


app = build_app()
