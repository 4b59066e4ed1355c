"""Sales (orders' catalogue promotions) in the catalog: a CataloguePromotionsChanged delivered through the
real consumer kernel (with its inbox) prices the product page, the product list, `/internal/variants` and
reservations with the one sale-price function, to the cent; windows open and close by the flip task;
gift cards are never on sale; search is told (ProductUpdated with sale prices)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import orjson

from mercato.contracts.events import CataloguePromotion, CataloguePromotionsChanged
from mercato.platform.messaging import Delivery
from mercato.services.catalog import sales
from mercato.services.catalog.main import flip_sales
from tests.catalog.factories import create_product, outbox_events, reserve
from tests.catalog.test_documents import BUDGET, _admin, _counted


def _eur(amount: int) -> dict:
    return {"amount": amount, "currency": "EUR"}


def _changed(*promotions: CataloguePromotion, at: datetime | None = None) -> dict:
    return CataloguePromotionsChanged(promotions=promotions, changed_at=at or datetime.now(UTC)).envelope()


async def _deliver(catalog, *envelopes: dict) -> None:
    await catalog.app.state.consumer.on_deliveries([Delivery(orjson.dumps(e)) for e in envelopes])


def _sale(**fields) -> CataloguePromotion:
    return CataloguePromotion(**{"id": "promo_sale", "name": "Summer sale", **fields})


async def _page(catalog, slug: str, **params) -> dict:
    page = await catalog.get(f"/api/v1/products/{slug}", params=params)
    assert page.status_code == 200, page.text
    return page.json()


async def _entry(catalog, product_id: str, **params) -> dict:
    listed = await catalog.get("/api/v1/products", params={"limit": 100, **params})
    return next(e for e in listed.json()["data"] if e["id"] == product_id)


async def _infos(catalog, *skus: str, **params) -> dict[str, dict]:
    found = await catalog.get("/internal/variants", params={"sku": list(skus), **params})
    assert found.status_code == 200, found.text
    return {v["sku"]: v for v in found.json()["variants"]}


async def _updated(catalog, product_id: str) -> list[dict]:
    return [
        e["payload"]
        for e in await outbox_events(catalog, "ProductUpdated")
        if e["aggregate_id"] == product_id
    ]


async def test_a_percentage_sale_on_a_category_prices_page_list_variants_and_reservations(catalog):
    tee = await create_product(catalog, price=1999)  # S 19.99, M 20.99
    other = await create_product(catalog, category="home", price=1000)
    small, medium = (v["sku"] for v in tee["variants"])
    tops = next(c["id"] for c in tee["breadcrumbs"] if c["slug"] == "tops")
    ends = datetime.now(UTC) + timedelta(days=3)

    await _deliver(catalog, _changed(_sale(percent="15", category_ids=(tops,), ends_at=ends)))

    # 15 % of 19.99 is 2.9985 → 3.00 off; of 20.99, 3.1485 → 3.15 off (half up, per unit)
    page = await _page(catalog, tee["slug"])
    assert [(v["price"], v["compare_at_price"]) for v in page["variants"]] == [
        (_eur(1699), _eur(1999)),
        (_eur(1784), _eur(2099)),
    ]
    assert page["price_range"] == {"min": _eur(1699), "max": _eur(1784)}
    assert page["compare_at_price_range"] == {"min": _eur(1999), "max": _eur(2099)}
    assert page["sale"]["name"] == "Summer sale"
    assert datetime.fromisoformat(page["sale"]["ends_at"]) == ends
    entry = await _entry(catalog, tee["id"])
    assert entry["price_range"]["min"] == _eur(1699) and entry["compare_at_price_range"]["min"] == _eur(1999)
    assert entry["sale"]["name"] == "Summer sale"
    untouched = await _page(catalog, other["slug"])  # home is not under tops
    assert untouched["sale"] is None and untouched["variants"][0]["compare_at_price"] is None

    infos = await _infos(catalog, small, medium)
    assert infos[small]["price"] == _eur(1699) and infos[small]["list_price"] == _eur(1999)
    assert infos[small]["sale"] == {"promotion_id": "promo_sale", "name": "Summer sale"}
    assert infos[medium]["price"] == _eur(1784)
    assert set(infos[small]["category_ids"]) == {c["id"] for c in tee["breadcrumbs"]}
    assert infos[small]["kind"] == "physical"
    held = await reserve(catalog, lines=[(small, 2), (medium, 1)])
    assert held.status_code == 201, held.text
    items = {i["sku"]: i for i in held.json()["items"]}
    assert (items[small]["price"], items[small]["list_price"]) == (_eur(1699), _eur(1999))
    assert items[medium]["sale"]["promotion_id"] == "promo_sale"

    # search follows: the product is published again with its prices now
    [event] = await _updated(catalog, tee["id"])
    assert [v["sale_prices"] for v in event["variants"]] == [[_eur(1699)], [_eur(1784)]]
    assert [v["prices"] for v in event["variants"]] == [[_eur(1999)], [_eur(2099)]]
    assert await _updated(catalog, other["id"]) == []  # a sale naming a category touches only its products

    # a page on sale is still one statement
    _, statements = await _counted(catalog, f"/api/v1/products/{tee['slug']}")
    assert statements <= BUDGET


async def test_overlapping_sales_give_the_lowest_price_per_market(catalog):
    variants = [
        {
            "sku": "SALE-TEE-1",
            "attributes": {"size": "M"},
            "prices": [_eur(5000), {"amount": 4500, "currency": "GBP"}, {"amount": 5500, "currency": "USD"}],
            "stock": 5,
        }
    ]
    tee = await create_product(catalog, variants=variants)
    ten_percent = _sale(id="promo_ten", name="Ten off", percent="10")  # every product, every market
    six_off_uk = _sale(id="promo_uk", name="UK days", markets=("uk",), amounts={"GBP": 600, "EUR": 100})
    by_sku = _sale(id="promo_sku", name="Tee week", skus=("SALE-TEE-1",), amounts={"EUR": 700})

    await _deliver(catalog, _changed(ten_percent, six_off_uk, by_sku))

    eu = await _infos(catalog, "SALE-TEE-1")  # 10 % → 45.00; 7.00 off → 43.00: the lower wins
    uk = await _infos(catalog, "SALE-TEE-1", country="GB")  # 10 % → 40.50; 6.00 off → 39.00
    us = await _infos(catalog, "SALE-TEE-1", country="US")  # only 10 % → 49.50
    assert (eu["SALE-TEE-1"]["price"], eu["SALE-TEE-1"]["sale"]["name"]) == (_eur(4300), "Tee week")
    assert uk["SALE-TEE-1"]["price"] == {"amount": 3900, "currency": "GBP"}
    assert uk["SALE-TEE-1"]["sale"]["name"] == "UK days"
    assert us["SALE-TEE-1"]["price"] == {"amount": 4950, "currency": "USD"}
    assert us["SALE-TEE-1"]["list_price"] == {"amount": 5500, "currency": "USD"}
    for country, price in [("DE", 4300), ("GB", 3900), ("US", 4950)]:
        page = await _page(catalog, tee["slug"], country=country)
        assert page["variants"][0]["price"]["amount"] == price
        assert (await _entry(catalog, tee["id"], country=country))["price_range"]["min"]["amount"] == price
    [event] = await _updated(catalog, tee["id"])
    assert {m["currency"]: m["amount"] for m in event["variants"][0]["sale_prices"]} == {
        "EUR": 4300,
        "GBP": 3900,
        "USD": 4950,
    }


async def test_a_sale_outside_its_window_shows_the_list_price_and_the_flip_task_opens_and_closes_it(catalog):
    tee = await create_product(catalog, price=2000)
    sku = tee["variants"][0]["sku"]
    now = datetime.now(UTC)
    ended = _sale(id="promo_ended", name="Last week", percent="50", ends_at=now - timedelta(hours=1))
    later = _sale(id="promo_later", name="Next month", percent="50", starts_at=now + timedelta(days=30))
    soon = _sale(
        id="promo_soon",
        name="Flash sale",
        product_ids=(tee["id"],),
        amounts={"EUR": 500},
        starts_at=now + timedelta(seconds=1),
        ends_at=now + timedelta(seconds=2.5),
    )

    await _deliver(catalog, _changed(ended, later, soon))

    page = await _page(catalog, tee["slug"])
    assert page["variants"][0]["price"] == _eur(2000) and page["sale"] is None
    assert (await _infos(catalog, sku))[sku]["list_price"] is None
    published = len(await _updated(catalog, tee["id"]))

    await asyncio.sleep(max(0.0, (soon.starts_at - datetime.now(UTC)).total_seconds()) + 0.05)
    assert (await _infos(catalog, sku))[sku]["price"] == _eur(1500)  # checkout prices live, at once
    await flip_sales(catalog.app)  # the periodic task: the window opened, the page follows
    page = await _page(catalog, tee["slug"])
    assert page["variants"][0]["price"] == _eur(1500) and page["sale"]["name"] == "Flash sale"
    assert page["variants"][0]["compare_at_price"] == _eur(2000)
    assert len(await _updated(catalog, tee["id"])) == published + 1
    await flip_sales(catalog.app)  # nothing more is due: nothing rendered or published again
    assert len(await _updated(catalog, tee["id"])) == published + 1

    await asyncio.sleep(max(0.0, (soon.ends_at - datetime.now(UTC)).total_seconds()) + 0.05)
    assert (await _infos(catalog, sku))[sku]["price"] == _eur(2000)
    await flip_sales(catalog.app)
    page = await _page(catalog, tee["slug"])
    assert page["variants"][0]["price"] == _eur(2000) and page["sale"] is None
    [*_, last] = await _updated(catalog, tee["id"])
    assert last["variants"][0]["sale_prices"] == []


async def test_gift_cards_are_never_on_sale(catalog):
    card = await create_product(
        catalog,
        tax_class="zero",
        variants=[
            {"sku": "GIFT-TEST-25", "attributes": {"value": "25"}, "price": _eur(2500), "kind": "gift_card"},
            {"sku": "GIFT-TEST-TEE", "attributes": {"value": "tee"}, "price": _eur(2500)},
        ],
    )
    await _deliver(catalog, _changed(_sale(percent="20")))  # every product

    page = await _page(catalog, card["slug"])
    assert [(v["kind"], v["price"], v["compare_at_price"]) for v in page["variants"]] == [
        ("gift_card", _eur(2500), None),
        ("physical", _eur(2000), _eur(2500)),
    ]
    infos = await _infos(catalog, "GIFT-TEST-25")
    assert infos["GIFT-TEST-25"]["price"] == _eur(2500) and infos["GIFT-TEST-25"]["sale"] is None
    assert infos["GIFT-TEST-25"]["kind"] == "gift_card"


async def test_the_newest_set_wins_and_a_redelivery_changes_nothing(catalog):
    tee = await create_product(catalog, price=1000)
    first = datetime.now(UTC)
    newer = _changed(_sale(amounts={"EUR": 200}), at=first + timedelta(seconds=1))

    await _deliver(catalog, newer)
    await _deliver(catalog, _changed(_sale(amounts={"EUR": 500}), at=first))  # older, arriving late
    await _deliver(catalog, newer)  # the same event again

    assert (await _page(catalog, tee["slug"]))["variants"][0]["price"] == _eur(800)
    assert len(await _updated(catalog, tee["id"])) == 1

    await _deliver(catalog, _changed(at=first + timedelta(seconds=2)))  # every sale withdrawn
    page = await _page(catalog, tee["slug"])
    assert page["variants"][0]["price"] == _eur(1000) and page["compare_at_price_range"] is None
    assert len(await _updated(catalog, tee["id"])) == 2


async def test_a_product_changed_during_a_sale_keeps_its_sale_price(catalog):
    tee = await create_product(catalog, price=1000)
    await _deliver(catalog, _changed(_sale(product_ids=(tee["id"],), percent="10")))
    async with catalog.app.state.db.unit_of_work() as session:  # nothing due: the sweep is idle
        assert await sales.flip_due(session, datetime.now(UTC), image_base_url="/api/v1/images") == 0
    await _admin(catalog, "PATCH", f"/admin/v1/products/{tee['id']}", json={"name": "Renamed tee"})
    another = await create_product(catalog, price=3000)  # not named: full price
    page = await _page(catalog, tee["slug"])
    assert (page["name"], page["variants"][0]["price"]) == ("Renamed tee", _eur(900))
    assert (await _page(catalog, another["slug"]))["variants"][0]["compare_at_price"] is None
    [*_, renamed] = await _updated(catalog, tee["id"])
    assert renamed["name"] == "Renamed tee" and renamed["variants"][0]["sale_prices"] == [_eur(900)]
