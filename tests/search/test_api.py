"""The search API in-process, fed through the consumer kernel (inbox included) on a real database and
a real on-disk Tantivy index."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from mercato.platform.messaging import Delivery
from mercato.services.search.main import build_app
from mercato.services.search.settings import SearchSettings
from tests.search.factories import at, catalog, deleted, inventory, reprice


def _delivery(event) -> Delivery:
    return Delivery(orjson.dumps(event.envelope()))


@pytest.fixture
async def search(databases, backend, tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    settings = SearchSettings(
        environment="test",
        database_url=await databases.fresh("search", backend),
        index_dir=tmp_path / "index",
        cursor_secret="test-cursor-secret",
    )
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        await app.state.consumer.on_deliveries([_delivery(event) for event in catalog()])
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://search"
        ) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


async def test_an_exact_name_ranks_first_and_typos_still_find_it(search):
    for query in ("Classic T-Shirt", "tshirt", "t-shrit"):
        body = (await search.get("/api/v1/search", params={"q": query})).json()
        names = [hit["name"] for hit in body["data"]]
        assert any("T-Shirt" in name for name in names), (query, names)
    first = (await search.get("/api/v1/search", params={"q": "Classic T-Shirt"})).json()["data"][0]
    assert first["name"] == "Classic T-Shirt"
    assert first["price_range"]["min"] == {"amount": 1999, "currency": "EUR"}


async def test_filters_and_facets(search):
    body = (
        await search.get(
            "/api/v1/search",
            params=[
                ("category", "tops"),
                ("attr.colour", "Black"),
                ("max_price", "6000"),
                ("in_stock", "true"),
            ],
        )
    ).json()
    assert sorted(hit["name"] for hit in body["data"]) == ["Classic T-Shirt", "Graphic Tee", "Zip Hoodie"]
    assert body["total"] == 3
    colours = {v["value"]: v["count"] for v in body["facets"]["attributes"]["colour"]}
    assert colours["Black"] == 3 and colours["White"] >= 1  # the alternatives keep their counts
    assert any(c["path"] == ["apparel", "tops", "tshirts"] for c in body["facets"]["categories"])


async def test_cursor_pagination_walks_every_hit_once(search):
    seen, cursor = [], None
    while True:
        params = {"limit": 4, "sort": "price_asc", **({"cursor": cursor} if cursor else {})}
        body = (await search.get("/api/v1/search", params=params)).json()
        seen += [hit["id"] for hit in body["data"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 15


async def test_changes_arrive_through_events_once(search):
    products = catalog()
    mug = next(p for p in products if p.product_id == "ceramic-mug")
    consumer = search.app.state.consumer
    await consumer.on_deliveries([_delivery(reprice(mug, price=99, updated_at=at(1)))])
    cheapest = (await search.get("/api/v1/search", params={"sort": "price_asc", "limit": 1})).json()["data"][
        0
    ]
    assert (cheapest["id"], cheapest["price_range"]["min"]["amount"]) == ("ceramic-mug", 99)

    gone = _delivery(deleted(product_id="ceramic-mug", deleted_at=at(2)))
    await consumer.on_deliveries([gone])
    await consumer.on_deliveries([gone])  # redelivered: no effect, no error
    body = (await search.get("/api/v1/search", params={"q": "ceramic mug"})).json()
    assert "ceramic-mug" not in [hit["id"] for hit in body["data"]]


async def test_a_batch_of_changes_to_one_product_ends_in_its_last_state(search):
    """One broker batch: a repricing and stock changes of the mug (one delivered twice, one older than
    the others) and the wool throw's deletion — the index shows where each product ended up."""
    products = catalog()
    mug = next(p for p in products if p.product_id == "ceramic-mug")
    restocked = _delivery(inventory(product_id="ceramic-mug", sku="CM-BLA", available=3, changed_at=at(4)))
    await search.app.state.consumer.on_deliveries(
        [
            _delivery(reprice(mug, price=99, updated_at=at(1))),
            _delivery(inventory(product_id="ceramic-mug", sku="CM-WHI", available=0, changed_at=at(2))),
            _delivery(inventory(product_id="ceramic-mug", sku="CM-BLA", available=0, changed_at=at(3))),
            restocked,
            restocked,  # the same event twice in a batch
            _delivery(inventory(product_id="ceramic-mug", sku="CM-BLA", available=0, changed_at=at(2.5))),
            _delivery(deleted(product_id="wool-throw", deleted_at=at(5))),
        ]
    )

    [hit] = (await search.get("/api/v1/search", params={"q": "ceramic mug", "limit": 1})).json()["data"]
    assert (hit["id"], hit["price_range"]["min"]["amount"], hit["available"]) == ("ceramic-mug", 99, True)
    body = (await search.get("/api/v1/search", params={"q": "wool throw"})).json()
    assert "wool-throw" not in [h["id"] for h in body["data"]]


async def test_suggestions_complete_a_prefix(search):
    body = (await search.get("/api/v1/search/suggest", params={"q": "t-sh"})).json()
    assert any("T-Shirt" in s["text"] for s in body["data"])


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"q": "x" * 10_000}, 422),
        ({"limit": 10**9}, 422),
        ({"min_price": 500, "max_price": 100}, 400),
        ({"cursor": "forged.cursor"}, 400),
        ({"sort": "cheapest"}, 422),
        ({"attr.": "x"}, 400),
        ({"q": '"(title:*)~^- AND OR'}, 200),
        ({"q": ""}, 200),
    ],
)
async def test_bad_input_gets_a_clear_answer_never_a_500(search, params, status):
    response = await search.get("/api/v1/search", params=params)
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
