"""Product pages through the real gateway's cache and the real catalog: how stale a shopper's page can be.

Catalog serves its product pages `Cache-Control: public, max-age=1`; the gateway keeps them and serves
them to anonymous requests while Envoy counts them fresh (`age` ≤ max-age, in whole seconds), then
revalidates by ETag. The documented bound (docs/performance.md, "Browsing") is what these tests hold
the gateway to — not with a clock, but with the Age of every stale answer — while catalog itself, a
client's own revalidation and any request with a cookie see each change at once.

Catalog runs in this process (uvicorn, its own SQLite file) on its topology port, behind the real Envoy
from the generated config; no other service is needed.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from mercato.gateway.settings import GatewaySettings
from mercato.services.catalog.main import build_app
from mercato.services.catalog.settings import CatalogSettings
from mercato.topology import HOST, Topology
from tests.gateway.processes import start_envoy, stop
from tests.platforms import staff_headers

pytestmark = pytest.mark.e2e

TOPOLOGY = Topology(offset=18700)  # ports 26xxx: below the ephemeral range, clear of other tests
MAX_AGE = 1  # catalog's default browse_max_age_seconds
MERCHANDISER = staff_headers("merchandising")
EVENTUALLY = 15.0  # seconds: far beyond the bound, only so that a broken cache fails instead of hanging


@dataclass
class Shop:
    gateway: httpx.Client
    catalog: httpx.Client

    def change(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = MERCHANDISER | {"Idempotency-Key": uuid.uuid4().hex}
        if "/products/" in path:
            product = "/".join(path.split("/")[:5])
            headers["If-Match"] = self.catalog.get(product, headers=MERCHANDISER).headers["etag"]
        response = self.catalog.request(method, path, headers=headers, **kwargs)
        assert response.status_code in (200, 201), response.text
        return response


@pytest.fixture(scope="module")
def shop(tmp_path_factory, databases) -> Iterator[Shop]:
    workdir = tmp_path_factory.mktemp("browsing")
    settings = CatalogSettings(
        environment="test",
        database_url=asyncio.run(databases.fresh("catalog", "sqlite")),
        image_dir=workdir / "images",
        cursor_secret="test-cursor-secret",
        port=TOPOLOGY.service("catalog").port,
        expiry_sweep_seconds=3600,
    )
    server = uvicorn.Server(
        uvicorn.Config(build_app(settings), host=HOST, port=settings.port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    envoy = start_envoy(TOPOLOGY, GatewaySettings(access_log=False), workdir)
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "catalog did not start"
            time.sleep(0.05)
        with (
            httpx.Client(base_url=TOPOLOGY.gateway_url, timeout=10) as gateway,
            httpx.Client(base_url=TOPOLOGY.service("catalog").url, timeout=10) as catalog,
        ):
            yield Shop(gateway=gateway, catalog=catalog)
    finally:
        stop(envoy)
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture(scope="module")
def category(shop: Shop) -> str:
    shop.change("POST", "/admin/v1/categories", json={"slug": "tees", "name": "Tees"})
    return "tees"


def a_product(shop: Shop, category: str, *, price: int = 2000, stock: int = 5) -> dict:
    n = uuid.uuid4().hex[:8]
    created = shop.change(
        "POST",
        "/admin/v1/products",
        json={
            "slug": f"tee-{n}",
            "name": f"Tee {n}",
            "brand": "Testbrand",
            "description": "A tee.",
            "category": category,
            "variants": [
                {
                    "sku": f"TEE-{n.upper()}",
                    "attributes": {"size": "M"},
                    "price": {"amount": price, "currency": "EUR"},
                    "stock": stock,
                }
            ],
        },
    )
    return created.json()


def through_gateway_until(shop: Shop, path: str, fresh) -> list[httpx.Response]:
    """Anonymous reads through the gateway until one is `fresh`; returns them all. Every stale one must be
    within the bound: Envoy counts its age in whole seconds and serves it only while age ≤ max-age."""
    seen, deadline = [], time.monotonic() + EVENTUALLY
    while not seen or not fresh(seen[-1]):
        assert time.monotonic() < deadline, [(r.status_code, r.headers.get("age")) for r in seen]
        seen.append(shop.gateway.get(path))
        time.sleep(0.05)
    for stale in seen[:-1]:
        assert int(stale.headers["age"]) <= MAX_AGE, "served from the cache beyond max-age"
    return seen


def test_a_page_is_kept_for_everyone_for_about_a_second(shop: Shop, category: str) -> None:
    product = a_product(shop, category)
    path = f"/api/v1/products/{product['slug']}"
    first = shop.gateway.get(path)
    assert first.status_code == 200
    assert first.headers["cache-control"] == f"public, max-age={MAX_AGE}, must-revalidate"
    kept = shop.gateway.get(path)
    assert kept.content == first.content and "age" in kept.headers  # answered by the gateway


def test_a_new_price_is_served_at_once_by_catalog_and_within_the_bound_by_the_gateway(
    shop: Shop, category: str
) -> None:
    product = a_product(shop, category, price=2000)
    path = f"/api/v1/products/{product['slug']}"
    before = shop.gateway.get(path)
    shop.gateway.get(path)  # kept
    sku = product["variants"][0]["sku"]
    shop.change(
        "PATCH",
        f"/admin/v1/products/{product['id']}/variants/{sku}",
        json={"price": {"amount": 1500, "currency": "EUR"}},
    )

    def price(response: httpx.Response) -> int:
        return response.json()["variants"][0]["price"]["amount"]

    assert price(shop.catalog.get(path)) == 1500
    # A client revalidating its copy asks catalog, never the kept page: the new version at once.
    revalidated = shop.gateway.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert revalidated.status_code == 200 and price(revalidated) == 1500
    assert revalidated.headers["etag"] != before.headers["etag"]
    # A signed-in or cookie-carrying shopper is never served from the cache.
    assert price(shop.gateway.get(path, headers={"cookie": "csrf=abc"})) == 1500
    # Everyone else: the kept page for at most the bound, then the new one.
    through_gateway_until(shop, path, fresh=lambda r: price(r) == 1500)
    current = shop.gateway.get(path, headers={"If-None-Match": revalidated.headers["etag"]})
    assert current.status_code == 304


def test_stock_taken_by_a_reservation_shows_within_the_bound(shop: Shop, category: str) -> None:
    product = a_product(shop, category, stock=2)
    path = f"/api/v1/products/{product['slug']}"
    assert shop.gateway.get(path).json()["available"] is True
    sku = product["variants"][0]["sku"]
    held = shop.catalog.post(
        "/internal/reservations", json={"key": uuid.uuid4().hex, "lines": [{"sku": sku, "quantity": 2}]}
    )
    assert held.status_code == 201, held.text
    assert shop.catalog.get(path).json()["available"] is False
    through_gateway_until(shop, path, fresh=lambda r: r.json()["available"] is False)
    listed = through_gateway_until(
        shop,
        f"/api/v1/products?category={category}&limit=100",
        fresh=lambda r: next(p for p in r.json()["data"] if p["id"] == product["id"])["available"] is False,
    )
    assert listed[-1].status_code == 200


def test_an_archived_product_is_gone_within_the_bound(shop: Shop, category: str) -> None:
    product = a_product(shop, category)
    path = f"/api/v1/products/{product['slug']}"
    assert shop.gateway.get(path).status_code == 200
    shop.change("POST", f"/admin/v1/products/{product['id']}/archive")
    assert shop.catalog.get(path).status_code == 404
    through_gateway_until(shop, path, fresh=lambda r: r.status_code == 404)


def test_the_gateway_keeps_each_countrys_page_apart(shop: Shop, category: str) -> None:
    """A product page per market through the real Envoy cache: each country's answer is kept under its own
    URL, never served for another country, and the markets themselves are public and kept too."""
    n = uuid.uuid4().hex[:8]
    product = shop.change(
        "POST",
        "/admin/v1/products",
        json={
            "slug": f"market-tee-{n}",
            "name": f"Market Tee {n}",
            "brand": "Testbrand",
            "category": category,
            "variants": [
                {
                    "sku": f"MKT-{n.upper()}",
                    "prices": [{"amount": 2000, "currency": "EUR"}, {"amount": 1799, "currency": "GBP"}],
                    "stock": 5,
                }
            ],
        },
    ).json()
    path = f"/api/v1/products/{product['slug']}"
    for _ in range(2):  # the second round is answered from the cache
        answers = {c: shop.gateway.get(path, params={"country": c}) for c in ("DE", "GB", "US")}
        assert [answers[c].json()["market"]["currency"] for c in ("DE", "GB", "US")] == ["EUR", "GBP", "USD"]
        assert answers["GB"].json()["variants"][0]["price"] == {"amount": 1799, "currency": "GBP"}
        assert answers["US"].json()["for_sale"] is False
        assert answers["GB"].headers["cache-control"].startswith("public")
    assert "age" in answers["GB"].headers  # kept by the gateway, under its own key
    assert shop.gateway.get(path, params={"country": "JP"}).status_code == 422
    markets = shop.gateway.get("/api/v1/markets")
    assert markets.status_code == 200 and [m["id"] for m in markets.json()["data"]] == ["eu", "uk", "us"]
