"""Markets and price lists: where the shop sells, prices in a market's currency, and a product with no
price in that currency not sold there — in the list, on its page, in carts' pricing and in reservations."""

from __future__ import annotations

import httpx

from tests.catalog.factories import create_product, outbox_events, reserve

EU = ["DE", "FR", "NL", "IT", "ES", "AT", "BE", "IE", "PT", "FI", "LU"]


def _variant(sku: str, size: str, **prices: int) -> dict:
    return {
        "sku": sku,
        "attributes": {"size": size},
        "prices": [{"amount": amount, "currency": currency} for currency, amount in prices.items()],
        "weight_grams": 250,
        "stock": 5,
    }


async def _europe_only(catalog: httpx.AsyncClient, *, name: str = "Euro Tee") -> dict:
    """A product priced in EUR and GBP, with no USD price: not sold in the US."""
    code = name.upper().replace(" ", "-")
    return await create_product(
        catalog,
        name=name,
        tax_class="reduced",
        variants=[_variant(f"{code}-S", "S", EUR=1999, GBP=1799), _variant(f"{code}-M", "M", EUR=2199)],
    )


async def test_the_markets_are_eu_uk_and_us(catalog):
    response = await catalog.get("/api/v1/markets")
    assert response.status_code == 200 and response.headers["etag"]
    assert response.json()["data"] == [
        {
            "id": "eu",
            "name": "European Union",
            "currency": "EUR",
            "countries": EU,
            "prices_include_tax": True,
            "default": True,
        },
        {
            "id": "uk",
            "name": "United Kingdom",
            "currency": "GBP",
            "countries": ["GB"],
            "prices_include_tax": True,
            "default": False,
        },
        {
            "id": "us",
            "name": "United States",
            "currency": "USD",
            "countries": ["US"],
            "prices_include_tax": False,
            "default": False,
        },
    ]
    assert (await catalog.get("/internal/markets")).json() == response.json()["data"]


async def test_prices_are_in_the_currency_of_the_country_asked_for(catalog):
    product = await _europe_only(catalog)
    german = (await catalog.get(f"/api/v1/products/{product['slug']}", params={"country": "DE"})).json()
    british = (await catalog.get(f"/api/v1/products/{product['slug']}", params={"country": "gb"})).json()

    assert german == product  # no country: the default market's
    assert german["market"] == {"id": "eu", "currency": "EUR", "prices_include_tax": True}
    assert [v["price"] for v in german["variants"]] == [
        {"amount": 1999, "currency": "EUR"},
        {"amount": 2199, "currency": "EUR"},
    ]
    assert british["market"] == {"id": "uk", "currency": "GBP", "prices_include_tax": True}
    assert british["for_sale"] and british["tax_class"] == "reduced"
    # the medium has no GBP price: shown, but not sold in the UK
    assert [v["price"] for v in british["variants"]] == [{"amount": 1799, "currency": "GBP"}, None]
    assert british["price_range"] == {
        "min": {"amount": 1799, "currency": "GBP"},
        "max": {"amount": 1799, "currency": "GBP"},
    }
    listed = (await catalog.get("/api/v1/products", params={"country": "GB"})).json()
    assert listed["market"]["currency"] == "GBP"
    assert [(p["id"], p["price_range"]["min"]["amount"]) for p in listed["data"]] == [(product["id"], 1799)]


async def test_a_product_without_a_price_in_the_markets_currency_is_not_sold_there(catalog):
    product = await _europe_only(catalog)
    dollars = await create_product(
        catalog, name="Everywhere Tee", variants=[_variant("EVERY-S", "S", EUR=1000, GBP=900, USD=1100)]
    )

    listed = (await catalog.get("/api/v1/products", params={"country": "US"})).json()
    assert [p["id"] for p in listed["data"]] == [dollars["id"]]
    assert listed["market"] == {"id": "us", "currency": "USD", "prices_include_tax": False}
    page = await catalog.get(f"/api/v1/products/{product['slug']}", params={"country": "US"})
    assert page.status_code == 200
    assert (page.json()["for_sale"], page.json()["price_range"]) == (False, None)
    assert [v["price"] for v in page.json()["variants"]] == [None, None]
    by_category = (
        await catalog.get("/api/v1/products", params={"country": "US", "category": "apparel"})
    ).json()
    assert [p["id"] for p in by_category["data"]] == [dollars["id"]]


async def test_a_country_no_market_sells_to_is_a_422(catalog):
    product = await _europe_only(catalog)
    for path in ("/api/v1/products", f"/api/v1/products/{product['slug']}", "/internal/variants?sku=X"):
        response = await catalog.get(path, params={"country": "JP"})
        assert response.status_code == 422, path
        assert response.headers["content-type"] == "application/problem+json"
        assert "country" in response.json()["errors"]
    assert (await catalog.get("/api/v1/products", params={"country": "Germany"})).status_code == 422
    body = {
        "key": "ord_jp",
        "lines": [{"sku": product["variants"][0]["sku"], "quantity": 1}],
        "country": "JP",
    }
    refused = await catalog.post("/internal/reservations", json=body)
    assert refused.status_code == 422 and "country" in refused.json()["errors"]


async def test_each_market_has_its_own_etag_and_the_shared_cache_may_keep_each(catalog):
    product = await _europe_only(catalog)
    path = f"/api/v1/products/{product['slug']}"
    german, british = [await catalog.get(path, params={"country": c}) for c in ("DE", "GB")]
    assert german.headers["etag"] != british.headers["etag"]
    assert british.headers["cache-control"].startswith("public")
    again = await catalog.get(
        path, params={"country": "GB"}, headers={"If-None-Match": german.headers["etag"]}
    )
    assert again.status_code == 200 and again.json()["market"]["id"] == "uk"
    listed = [await catalog.get("/api/v1/products", params={"country": c}) for c in ("DE", "GB")]
    assert listed[0].headers["etag"] != listed[1].headers["etag"]
    assert listed[1].headers["cache-control"].startswith("public")


async def test_carts_are_priced_in_the_market_with_tax_class_and_weight(catalog):
    product = await _europe_only(catalog)
    small, medium = (v["sku"] for v in product["variants"])
    answer = (
        await catalog.get("/internal/variants", params={"sku": [small, medium], "country": "GB"})
    ).json()
    assert answer["market"]["id"] == "uk"
    by_sku = {v["sku"]: v for v in answer["variants"]}
    assert by_sku[small]["price"] == {"amount": 1799, "currency": "GBP"}
    assert by_sku[medium]["price"] is None  # not sold in the UK
    assert (by_sku[small]["tax_class"], by_sku[small]["weight_grams"]) == ("reduced", 250)
    default = (await catalog.get("/internal/variants", params={"sku": medium})).json()
    assert default["market"]["id"] == "eu" and default["variants"][0]["price"]["currency"] == "EUR"


async def test_a_reservation_refuses_what_the_market_does_not_sell_and_holds_nothing(catalog):
    product = await _europe_only(catalog)
    small, medium = (v["sku"] for v in product["variants"])
    body = {"key": "ord_us_1", "lines": [{"sku": small, "quantity": 1}], "country": "US"}

    refused = await catalog.post("/internal/reservations", json=body)

    assert refused.status_code == 409
    assert refused.json()["type"].endswith("not-sold-in-market")
    assert refused.json()["unavailable"] == [{"sku": small, "reason": "not_sold_in_market"}]
    assert (await catalog.get("/internal/reservations/ord_us_1")).status_code == 404
    british = await catalog.post(
        "/internal/reservations",
        json={"key": "ord_gb_1", "lines": [{"sku": small, "quantity": 2}], "country": "GB"},
    )
    assert british.status_code == 201
    assert british.json()["market"]["id"] == "uk"
    assert british.json()["items"][0]["price"] == {"amount": 1799, "currency": "GBP"}
    mixed = await reserve(catalog, lines=[(small, 1), (medium, 1)])  # no country: the EU sells both
    assert mixed.status_code == 201 and mixed.json()["market"]["id"] == "eu"


async def test_events_carry_every_price_the_weight_and_the_tax_class(catalog):
    product = await _europe_only(catalog)
    [created] = await outbox_events(catalog, "ProductCreated")
    payload = created["payload"]
    assert (payload["product_id"], payload["tax_class"]) == (product["id"], "reduced")
    small, medium = payload["variants"]
    assert small["price"] == {"amount": 1999, "currency": "EUR"}  # the default market's, as before
    assert small["prices"] == [{"amount": 1999, "currency": "EUR"}, {"amount": 1799, "currency": "GBP"}]
    assert medium["prices"] == [{"amount": 2199, "currency": "EUR"}]
    assert small["weight_grams"] == 250
