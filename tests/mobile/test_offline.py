"""No network, and a purchase whose answer is lost: the app shows the offline banner and what it saved,
and a retry once back online sends the same Idempotency-Key — one order, never two."""

from __future__ import annotations

from urllib.parse import urlparse

import httpx
import pytest

from tests.mobile.conftest import launch, register, said, started, tap, texts
from tests.mobile.proxy import Proxy
from tests.mobile.test_journey import CARD, _add_and_open_checkout, _fill_checkout

pytestmark = pytest.mark.e2e


@pytest.fixture
async def proxy(platform):
    gateway = urlparse(platform.gateway)
    proxy = Proxy(gateway.hostname, gateway.port)
    await proxy.start()
    yield proxy
    await proxy.stop()


@pytest.fixture
async def app_via_proxy(proxy, tmp_path):
    app = launch(proxy.url, tmp_path / "app-data")
    await started(app)
    yield app
    await app.shop.gateway.close()


async def test_offline_banner_shows_the_saved_pages(app_via_proxy, proxy):
    shop = app_via_proxy.shop
    await tap(shop.tab_buttons["home"])
    assert not shop.offline
    featured = texts(shop.screen.featured)
    assert featured

    await proxy.set("down")
    await tap(shop.tab_buttons["home"])
    assert shop.offline, "the offline banner is shown"
    assert "offline" in shop.banner_text.text.lower()
    assert texts(shop.screen.featured) == featured  # the last catalog page, from the cache

    await proxy.set("forward")
    await tap(find_retry(shop))
    assert not shop.offline, "the banner goes once the gateway answers again"


def find_retry(shop):
    return next(child for child in shop.banner.children if getattr(child, "id", None) == "retry")


async def test_a_lost_answer_never_buys_twice(app_via_proxy, proxy, platform):
    shop = app_via_proxy.shop
    await register(app_via_proxy)
    await _add_and_open_checkout(shop)
    await tap(shop.screen.checkout)
    await _fill_checkout(shop, CARD)

    await proxy.set("lose-answers")  # the order is placed; the app never hears it
    forwarded = proxy.requests_forwarded
    await tap(shop.screen.pay)
    assert proxy.requests_forwarded > forwarded, "the checkout reached the gateway"
    assert type(shop.screen).__name__ == "CheckoutScreen", texts(shop.root)
    assert shop.offline and "offline" in said(shop.screen.message).lower()
    [key] = shop.gateway.pending.keys()  # one write pending, its key kept
    token = shop.gateway.secrets.get("access_token")
    placed = httpx.get(f"{platform.gateway}/mobile/v1/orders", headers={"Authorization": f"Bearer {token}"})
    assert len(placed.json()["items"]) == 1, "the lost answer's order was placed: a new key would buy again"

    await proxy.set("down")
    await tap(shop.screen.pay)  # still no network: the same write is still pending, same key
    assert shop.gateway.pending.keys() == [key]

    await proxy.set("forward")
    await tap(shop.screen.pay)  # back online: the same body, the same key → the first order
    assert type(shop.screen).__name__ == "ConfirmationScreen", texts(shop.root)
    order = shop.screen.order
    assert shop.gateway.pending.keys() == []
    assert not shop.offline

    await tap(shop.tab_buttons["orders"])
    assert [o["id"] for o in shop.screen.items] == [order["id"]], "exactly one order"
