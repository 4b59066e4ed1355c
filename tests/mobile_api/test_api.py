"""The mobile API in-process against a real catalog (over TCP, as deployed) and services that are down:
what it passes on unchanged, what it trims, how it caches, and a 503 — never a 500 — when a service does
not answer. Every screen against every real service, through the gateway: tests/e2e/test_mobile_api.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from mercato.services.catalog.main import build_app as build_catalog
from mercato.services.catalog.settings import CatalogSettings
from mercato.services.mobile_api.main import build_app
from mercato.services.mobile_api.settings import MobileApiSettings
from tests.catalog.factories import add_categories, create_product
from tests.servers import closed_port_url, served

SHOPPER = {"x-mercato-customer-id": "cus_01M91FWCMHQQSVXMQSHQ7WE21F"}
ADDRESS = {"name": "A", "line1": "1 St", "city": "B", "postal_code": "1", "country": "DE"}


@asynccontextmanager
async def mobile_api(**urls: str) -> AsyncIterator[httpx.AsyncClient]:
    """The mobile API in-process; services not given are down."""
    dead = closed_port_url()
    wanted = {f"{name}_url": urls.get(name, dead) for name in ("catalog", "search", "orders", "customers")}
    app = build_app(MobileApiSettings(environment="test", call_timeout_seconds=2, **wanted))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mobile-api") as client,
    ):
        yield client


@dataclass
class WithCatalog:
    mobile: httpx.AsyncClient
    catalog: httpx.AsyncClient
    catalog_url: str


@pytest.fixture
async def with_catalog(databases, backend, tmp_path) -> AsyncIterator[WithCatalog]:
    catalog_app: FastAPI = build_catalog(
        CatalogSettings(
            environment="test",
            database_url=await databases.fresh("catalog", backend),
            image_dir=tmp_path / "img",
            cursor_secret="s",
            expiry_sweep_seconds=3600,
        )
    )
    async with served(catalog_app) as catalog_url, catalog_app.router.lifespan_context(catalog_app):
        await add_categories(catalog_app)
        async with (
            httpx.AsyncClient(base_url=catalog_url) as catalog,
            mobile_api(catalog=catalog_url) as mobile,
        ):
            yield WithCatalog(mobile=mobile, catalog=catalog, catalog_url=catalog_url)


async def test_a_product_screen_is_catalogs_product_trimmed(with_catalog: WithCatalog) -> None:
    product = await create_product(with_catalog.catalog, price=1999)
    screen = await with_catalog.mobile.get(f"/mobile/v1/products/{product['slug']}")
    assert screen.status_code == 200, screen.text
    body = screen.json()
    assert set(body) == {
        "id", "slug", "name", "brand", "description", "images", "price", "price_varies", "for_sale",
        "market", "available", "options", "variants",
    }  # fmt: skip
    assert body["id"] == product["id"] and body["price"] == {"amount": 1999, "currency": "EUR"}
    assert body["price_varies"] is True  # M costs 100 more
    assert body["for_sale"] is True
    assert body["market"] == {"id": "eu", "currency": "EUR", "prices_include_tax": True}
    assert body["options"] == {"size": ["S", "M"]}
    assert [(v["sku"], v["attributes"], v["available"]) for v in body["variants"]] == [
        (v["sku"], v["attributes"], v["available"]) for v in product["variants"]
    ]


def priced(sku: str, **prices: int) -> dict:
    """A variant with a price list: `priced("X-1", EUR=1999, GBP=1799)`."""
    listed = [{"amount": amount, "currency": currency} for currency, amount in prices.items()]
    return {"sku": sku, "attributes": {"size": "M"}, "prices": listed, "stock": 5}


async def test_the_browsing_screens_are_priced_in_the_market_of_the_country(
    with_catalog: WithCatalog,
) -> None:
    """The app's `country` reaches catalog: pounds in the UK, and a product without a price in dollars
    is not listed in the US and not for sale there."""
    both = await create_product(with_catalog.catalog, variants=[priced("UKEU-1", EUR=1999, GBP=1799)])
    europe = await create_product(with_catalog.catalog, variants=[priced("EUONLY-1", EUR=999)])
    mobile = with_catalog.mobile

    home = (await mobile.get("/mobile/v1/home", params={"country": "GB"})).json()
    assert home["market"] == {"id": "uk", "currency": "GBP", "prices_include_tax": True}
    assert [(card["id"], card["price"]) for card in home["featured"]] == [
        (both["id"], {"amount": 1799, "currency": "GBP"})
    ]
    listing = (
        await mobile.get("/mobile/v1/products", params={"category": "tshirts", "country": "GB"})
    ).json()
    assert [card["id"] for card in listing["items"]] == [both["id"]]

    screen = (await mobile.get(f"/mobile/v1/products/{europe['slug']}", params={"country": "US"})).json()
    assert screen["for_sale"] is False and screen["price"] is None
    assert screen["market"] == {"id": "us", "currency": "USD", "prices_include_tax": False}
    assert [v["price"] for v in screen["variants"]] == [None]
    screen = (await mobile.get(f"/mobile/v1/products/{europe['slug']}", params={"country": "DE"})).json()
    assert screen["for_sale"] is True and screen["price"] == {"amount": 999, "currency": "EUR"}

    nowhere = await mobile.get("/mobile/v1/home", params={"country": "JP"})
    assert nowhere.status_code == 422, nowhere.text  # catalog's problem, passed on
    assert nowhere.headers["content-type"] == "application/problem+json"


async def test_reads_carry_a_weak_etag_and_answer_304(with_catalog: WithCatalog) -> None:
    product = await create_product(with_catalog.catalog)
    first = await with_catalog.mobile.get(f"/mobile/v1/products/{product['id']}")
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    assert first.headers["cache-control"] == "public, max-age=1, must-revalidate"
    again = await with_catalog.mobile.get(
        f"/mobile/v1/products/{product['id']}", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304 and again.content == b""


async def test_a_services_problem_reaches_the_app_unchanged(with_catalog: WithCatalog) -> None:
    direct = await with_catalog.catalog.get("/api/v1/products/no-such-thing")
    passed_on = await with_catalog.mobile.get("/mobile/v1/products/no-such-thing")
    assert passed_on.status_code == direct.status_code == 404
    assert passed_on.headers["content-type"] == "application/problem+json"
    assert passed_on.json() == direct.json()


async def test_a_path_parameter_stays_one_segment(with_catalog: WithCatalog) -> None:
    """`?` or `#` in an id is part of the id at catalog too, not a query string there."""
    answer = await with_catalog.mobile.get("/mobile/v1/products/a%3Fcategory%3Dx")
    assert answer.status_code == 404
    assert "a?category=x" in answer.json()["detail"]


async def test_listing_without_words_is_catalogs(with_catalog: WithCatalog) -> None:
    made = [await create_product(with_catalog.catalog) for _ in range(3)]
    listing = await with_catalog.mobile.get("/mobile/v1/products", params={"category": "tshirts", "limit": 2})
    assert listing.status_code == 200, listing.text
    body = listing.json()
    assert [card["id"] for card in body["items"]] == [p["id"] for p in made[:2]]
    assert body["next_cursor"] and body["facets"] == {}
    assert body["query"] == {"category": "tshirts", "q": None}
    rest = await with_catalog.mobile.get(
        "/mobile/v1/products", params={"category": "tshirts", "limit": 2, "cursor": body["next_cursor"]}
    )
    assert [card["id"] for card in rest.json()["items"]] == [made[2]["id"]]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/mobile/v1/home"),
        ("GET", "/mobile/v1/products?q=shirt"),
        ("GET", "/mobile/v1/suggestions?q=shi"),
        ("GET", "/mobile/v1/cart"),
        ("GET", "/mobile/v1/checkout"),
        ("PUT", "/mobile/v1/checkout/address"),
        ("PUT", "/mobile/v1/checkout/shipping-method"),
        ("GET", "/mobile/v1/orders"),
        ("DELETE", "/mobile/v1/cart/items/TS-1-S"),
    ],
)
async def test_a_service_down_is_a_503_problem_never_a_500(method: str, path: str) -> None:
    bodies = {"address": {"shipping_address": ADDRESS}, "shipping-method": {"id": "standard"}}
    async with mobile_api() as mobile:
        body = bodies.get(path.rsplit("/", 1)[-1])
        answer = await mobile.request(method, path, headers=SHOPPER, json=body)
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["status"] == 503
        ready = await mobile.get("/readyz")  # nothing of its own to be unready about
        assert ready.status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/mobile/v1/cart"),
        ("GET", "/mobile/v1/checkout"),
        ("PUT", "/mobile/v1/checkout/address"),
        ("GET", "/mobile/v1/orders/ord_1"),
    ],
)
async def test_shopper_screens_refuse_a_request_without_an_identity(method: str, path: str) -> None:
    """The gateway refuses a missing token first; behind it, no identity is no answer either."""
    async with mobile_api() as mobile:
        answer = await mobile.request(method, path)
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"


async def test_checkout_needs_an_idempotency_key() -> None:
    async with mobile_api() as mobile:
        body = {
            "shipping_address": {
                "name": "A",
                "line1": "1 St",
                "city": "B",
                "postal_code": "1",
                "country": "DE",
            },
            "payment_method": "pm_123",
        }
        answer = await mobile.post("/mobile/v1/checkout", json=body, headers=SHOPPER)
        assert answer.status_code == 400
        assert "idempotency-key" in {name.lower() for name in answer.json()["errors"]}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/mobile/v1/checkout/address", {"shipping_address": ADDRESS | {"country": "Germany"}}, "country"),
        ("/mobile/v1/checkout/address", {"billing_address": ADDRESS}, "shipping_address"),
        ("/mobile/v1/checkout/shipping-method", {"id": "a b"}, "id"),
        ("/mobile/v1/checkout/shipping-method", {"id": 7}, "id"),
    ],
)
async def test_a_checkout_step_with_bad_input_is_a_422_before_any_service(
    path: str, body: dict, field: str
) -> None:
    """Refused at the edge, as orders would refuse it (orders is down here: nothing was asked of it)."""
    async with mobile_api() as mobile:
        answer = await mobile.put(path, json=body, headers=SHOPPER)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert any(field in name for name in answer.json()["errors"]), answer.json()
