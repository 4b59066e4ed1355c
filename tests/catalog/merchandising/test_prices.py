"""Price lists in the back office: a price per currency, a tax class per product, a weight per variant —
edited through the admin API and the CSV, and what the shop's markets then sell."""

from __future__ import annotations

import csv
import io

import httpx

from tests.catalog.factories import (
    MERCHANDISER,
    create_product,
    csv_file,
    csv_row,
    import_csv,
    outbox_events,
)

EUR, GBP, USD = "EUR", "GBP", "USD"


def _money(amount: int, currency: str) -> dict:
    return {"amount": amount, "currency": currency}


async def _admin(catalog: httpx.AsyncClient, product_id: str) -> httpx.Response:
    return await catalog.get(f"/admin/v1/products/{product_id}", headers=MERCHANDISER)


async def _patch_variant(catalog: httpx.AsyncClient, product_id: str, sku: str, body: dict) -> httpx.Response:
    etag = (await _admin(catalog, product_id)).headers["etag"]
    return await catalog.patch(
        f"/admin/v1/products/{product_id}/variants/{sku}",
        json=body,
        headers=MERCHANDISER | {"If-Match": etag},
    )


async def _price_in(catalog: httpx.AsyncClient, slug: str, country: str) -> list[dict | None]:
    page = (await catalog.get(f"/api/v1/products/{slug}", params={"country": country})).json()
    return [variant["price"] for variant in page["variants"]]


async def test_a_product_is_created_with_a_price_list_a_tax_class_and_weights(catalog):
    product = await create_product(
        catalog,
        tax_class="zero",
        variants=[
            {
                "sku": "BOOK-1",
                "prices": [_money(1500, GBP), _money(1800, EUR)],
                "price": _money(1700, USD),
                "weight_grams": 420,
                "stock": 3,
            }
        ],
    )
    shown = (await _admin(catalog, product["id"])).json()
    assert shown["tax_class"] == "zero"
    [variant] = shown["variants"]
    assert variant["prices"] == [_money(1800, EUR), _money(1500, GBP), _money(1700, USD)]
    assert variant["price"] == _money(1800, EUR)  # the default market's
    assert variant["weight_grams"] == 420


async def test_a_price_list_needs_a_price_and_one_per_currency(catalog):
    body = {"sku": "NO-PRICE", "attributes": {}, "stock": 1}
    twice = body | {"sku": "TWICE", "prices": [_money(100, EUR)], "price": _money(200, EUR)}
    for variant in (body, twice):
        response = await catalog.post(
            "/admin/v1/products",
            json={"slug": "x", "name": "X", "brand": "B", "category": "tshirts", "variants": [variant]},
            headers=MERCHANDISER,
        )
        assert response.status_code == 422, response.text
    product = await create_product(catalog)
    sku = product["variants"][0]["sku"]
    twice = await _patch_variant(catalog, product["id"], sku, {"prices": [_money(1, GBP), _money(2, GBP)]})
    assert twice.status_code == 422
    negative = await _patch_variant(catalog, product["id"], sku, {"weight_grams": -1})
    assert negative.status_code == 422


async def test_one_currencys_price_is_set_or_the_whole_list_replaced(catalog):
    product = await create_product(catalog, price=2000)
    small = product["variants"][0]["sku"]

    added = await _patch_variant(catalog, product["id"], small, {"price": _money(1799, GBP)})
    assert added.status_code == 200
    assert added.json()["variants"][0]["prices"] == [_money(2000, EUR), _money(1799, GBP)]
    assert await _price_in(catalog, product["slug"], "GB") == [_money(1799, GBP), None]

    replaced = await _patch_variant(
        catalog, product["id"], small, {"prices": [_money(2100, USD)], "weight_grams": 180}
    )
    assert replaced.status_code == 200
    assert replaced.json()["variants"][0]["prices"] == [_money(2100, USD)]
    assert replaced.json()["variants"][0]["price"] is None  # no EUR price: not sold in the EU
    assert await _price_in(catalog, product["slug"], "DE") == [None, _money(2100, EUR)]
    assert await _price_in(catalog, product["slug"], "US") == [_money(2100, USD), None]
    assert (await catalog.get(f"/api/v1/products/{product['slug']}", params={"country": "GB"})).json()[
        "for_sale"
    ] is False

    updates = await outbox_events(catalog, "ProductUpdated")
    assert [v["prices"] for v in updates[-1]["payload"]["variants"]] == [
        [_money(2100, USD)],
        [_money(2100, EUR)],
    ]
    assert updates[-1]["payload"]["variants"][0]["weight_grams"] == 180
    audits = await outbox_events(catalog, "StaffActionRecorded")
    assert audits[-1]["payload"]["details"]["fields"] == "prices,weight_grams"
    same = await _patch_variant(catalog, product["id"], small, {"prices": [_money(2100, USD)]})
    assert same.status_code == 200
    assert len(await outbox_events(catalog, "ProductUpdated")) == len(updates)  # nothing changed


async def test_the_tax_class_is_edited_and_published(catalog):
    product = await create_product(catalog)
    etag = (await _admin(catalog, product["id"])).headers["etag"]
    response = await catalog.patch(
        f"/admin/v1/products/{product['id']}",
        json={"tax_class": "reduced"},
        headers=MERCHANDISER | {"If-Match": etag},
    )
    assert response.status_code == 200 and response.json()["tax_class"] == "reduced"
    [*_, update] = await outbox_events(catalog, "ProductUpdated")
    assert update["payload"]["tax_class"] == "reduced"
    page = (await catalog.get(f"/api/v1/products/{product['slug']}")).json()
    assert page["tax_class"] == "reduced"
    bad = await catalog.patch(
        f"/admin/v1/products/{product['id']}",
        json={"tax_class": "luxury"},
        headers=MERCHANDISER | {"If-Match": response.headers["etag"]},
    )
    assert bad.status_code == 422


LIST_COLUMNS = [
    "product_slug",
    "product_name",
    "brand",
    "category_slug",
    "tax_class",
    "sku",
    "size",
    "price_eur",
    "price_gbp",
    "price_usd",
    "weight_grams",
    "stock",
]


async def test_the_csv_carries_prices_per_currency_tax_class_and_weight_and_round_trips(catalog):
    reduced = {"tax_class": "reduced"}
    rows = [
        csv_row(sku="CSV-S", size="S", price_eur="19.99", price_gbp="16.99", weight_grams="150", **reduced),
        csv_row(sku="CSV-M", size="M", price_eur="21.99", price_usd="20.99", weight_grams="170", **reduced),
    ]
    imported = await import_csv(catalog, csv_file(rows, columns=LIST_COLUMNS))
    assert imported.status_code == 201, imported.text
    product = (await catalog.get("/admin/v1/products/import-tee", headers=MERCHANDISER)).json()
    assert product["tax_class"] == "reduced"
    assert [(v["sku"], v["prices"], v["weight_grams"]) for v in product["variants"]] == [
        ("CSV-S", [_money(1999, EUR), _money(1699, GBP)], 150),
        ("CSV-M", [_money(2199, EUR), _money(2099, USD)], 170),
    ]
    assert await _price_in(catalog, "import-tee", "GB") == [_money(1699, GBP), None]

    exported = await catalog.get("/admin/v1/products/export.csv", headers=MERCHANDISER)
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["price_eur"], r["price_gbp"], r["price_usd"], r["weight_grams"]) for r in table] == [
        ("19.99", "16.99", "", "150"),
        ("21.99", "", "20.99", "170"),
    ]
    assert {r["tax_class"] for r in table} == {"reduced"} and "price" not in table[0]
    again = await import_csv(catalog, exported.content)
    assert (again.json()["unchanged"], again.json()["variants"]["unchanged"]) == (1, 2)


async def test_an_old_csv_with_price_and_currency_changes_only_that_currency(catalog):
    rows = [csv_row(sku="OLD-S", size="S", price_eur="19.99", price_gbp="16.99", price_usd="18.99")]
    assert (await import_csv(catalog, csv_file(rows, columns=LIST_COLUMNS))).status_code == 201

    old_format = await import_csv(catalog, csv_file([csv_row(sku="OLD-S", size="S", price="24.50")]))

    assert old_format.status_code == 201, old_format.text
    [variant] = (await catalog.get("/admin/v1/products/import-tee", headers=MERCHANDISER)).json()["variants"]
    assert variant["prices"] == [_money(2450, EUR), _money(1699, GBP), _money(1899, USD)]
    conflicting = csv_row(sku="OLD-S", size="S", price="24.50", price_eur="25.00")
    columns = [*LIST_COLUMNS, "price", "currency"]
    refused = await import_csv(catalog, csv_file([conflicting], columns=columns))
    assert refused.status_code == 422
    assert [(e["row"], e["column"]) for e in refused.json()["errors"]] == [(2, "price")]
    no_price = csv_row(sku="OLD-S", size="S", price_eur="")
    refused = await import_csv(catalog, csv_file([no_price], columns=LIST_COLUMNS))
    assert refused.status_code == 422 and "no price" in refused.json()["errors"][0]["message"]
