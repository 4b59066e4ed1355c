"""The search API in-process, fed through the consumer kernel (inbox included) on a real database and
a real on-disk Tantivy index."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import orjson
import pytest

from mercato.platform.messaging import Delivery
from mercato.services.catalog.main import build_app as build_catalog
from mercato.services.catalog.settings import CatalogSettings
from mercato.services.search.index import ProductIndex
from mercato.services.search.main import build_app
from mercato.services.search.settings import SearchSettings
from tests.catalog.factories import add_categories, create_product
from tests.search.factories import HOME, at, catalog, deleted, inventory, product, reprice, variant
from tests.servers import closed_port_url, served


def _delivery(event) -> Delivery:
    return Delivery(orjson.dumps(event.envelope()))


@pytest.fixture
async def search(databases, backend, tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    async with searching(databases, backend, tmp_path) as client:
        yield client


@asynccontextmanager
async def searching(databases, backend, tmp_path, events=None) -> AsyncIterator[httpx.AsyncClient]:
    """Search fed `events` (default: the factories' catalog); catalog is not running."""
    settings = SearchSettings(
        environment="test",
        database_url=await databases.fresh("search", backend),
        index_dir=tmp_path / "index",
        cursor_secret="test-cursor-secret",
        catalog_url=closed_port_url(),
    )
    app = build_app(settings)
    async with app.router.lifespan_context(app):
        await app.state.consumer.on_deliveries([_delivery(event) for event in events or catalog()])
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


MARKETS = [  # as catalog's GET /internal/markets answers
    {"id": "eu", "name": "Europe", "currency": "EUR", "countries": ["DE", "FR"], "prices_include_tax": True,
     "default": True},
    {"id": "uk", "name": "United Kingdom", "currency": "GBP", "countries": ["GB"], "prices_include_tax": True,
     "default": False},
]  # fmt: skip
PRICED = [
    product(
        product_id="mug",
        name="Ceramic Mug",
        category_path=HOME,
        variants=[variant(sku="MUG-1", price=1299, also={"GBP": 1099})],
    ),
    product(
        product_id="candle",
        name="Scented Candle",
        category_path=HOME,
        variants=[variant(sku="C-1", price=999)],
    ),
]


async def test_a_country_searches_in_its_markets_currency_known_from_the_last_fetch(
    databases, backend, tmp_path
):
    """Catalog is down, but the markets fetched before the restart were kept: GB still means GBP."""
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "markets.json").write_bytes(orjson.dumps(MARKETS))
    async with searching(databases, backend, tmp_path, PRICED) as search:
        uk = (await search.get("/api/v1/search", params={"country": "GB"})).json()
        assert uk["currency"] == "GBP"
        assert [(h["id"], h["price_range"]["min"]) for h in uk["data"]] == [
            ("mug", {"amount": 1099, "currency": "GBP"})
        ]
        assert (await search.get("/api/v1/search", params={"currency": "gbp"})).json() == uk
        assert (await search.get("/api/v1/search", params={"country": "gb"})).json() == uk
        eu = (await search.get("/api/v1/search", params={"country": "FR", "sort": "price_asc"})).json()
        assert [(h["id"], h["price_range"]["min"]["amount"]) for h in eu["data"]] == [
            ("candle", 999),
            ("mug", 1299),
        ]
        assert (await search.get("/api/v1/search")).json() == eu | {"data": eu["data"][::-1]}  # newest first
        suggested = (await search.get("/api/v1/search/suggest", params={"q": "scen", "country": "GB"})).json()
        assert suggested == {"data": []}

        nowhere = await search.get("/api/v1/search", params={"country": "JP"})
        assert nowhere.status_code == 422, nowhere.text
        assert nowhere.json()["errors"] == {"country": "not in any market"}


async def test_before_markets_were_ever_known_a_country_is_a_503_and_no_country_the_default(search):
    unknown = await search.get("/api/v1/search", params={"country": "GB"})
    assert unknown.status_code == 503, unknown.text
    assert unknown.headers["retry-after"] and unknown.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert (await search.get("/api/v1/search")).json()["currency"] == "EUR"
    assert (await search.get("/api/v1/search", params={"currency": "USD"})).json()["total"] == 0


@pytest.mark.parametrize(
    ("params", "status"),
    [({"country": "GB", "currency": "GBP"}, 400), ({"country": "G1"}, 422), ({"currency": "EURO"}, 422)],
)
async def test_a_country_or_a_currency_in_the_wrong_shape_is_refused(search, params, status):
    response = await search.get("/api/v1/search", params=params)
    assert response.status_code == status, response.text


@asynccontextmanager
async def real_catalog(databases, backend, tmp_path) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """Catalog served over TCP (a client to it, and its URL), with the factories' category tree."""
    app = build_catalog(
        CatalogSettings(
            environment="test",
            database_url=await databases.fresh("catalog", backend),
            image_dir=tmp_path / "img",
            cursor_secret="s",
            expiry_sweep_seconds=3600,
        )
    )
    async with served(app) as url, app.router.lifespan_context(app):
        await add_categories(app)
        async with httpx.AsyncClient(base_url=url) as client:
            yield client, url


async def test_an_index_of_an_older_schema_refills_itself_from_catalog_at_start(databases, backend, tmp_path):
    """What a deployment of a new SCHEMA_VERSION does: the events the old index was made from are consumed
    already, so the new, empty one is rebuilt from catalog's snapshots without anyone asking."""
    async with real_catalog(databases, backend, tmp_path) as (catalog, catalog_url):
        created = await create_product(catalog, name="Linen Shirt", price=4999)
        index_dir = tmp_path / "index"
        with ProductIndex(index_dir):
            pass
        pointer = index_dir / "CURRENT"
        pointer.write_bytes(pointer.read_bytes().replace(b'"schema":', b'"schema":-'))
        settings = SearchSettings(
            environment="test",
            database_url=await databases.fresh("search", backend),
            index_dir=index_dir,
            cursor_secret="c",
            catalog_url=catalog_url,
        )
        app = build_app(settings)
        async with app.router.lifespan_context(app):
            await asyncio.wait_for(app.state.rebuild_task, 10)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://s"
            ) as search:
                body = (await search.get("/api/v1/search", params={"q": "linen shirt"})).json()
        assert [hit["id"] for hit in body["data"]] == [created["id"]]


async def test_the_markets_are_fetched_from_catalog_at_start_and_kept_for_a_restart(
    databases, backend, tmp_path
):
    async with real_catalog(databases, backend, tmp_path) as (_, catalog_url):
        settings = SearchSettings(
            environment="test",
            database_url=await databases.fresh("search", backend),
            index_dir=tmp_path / "index",
            cursor_secret="c",
            catalog_url=catalog_url,
        )
        app = build_app(settings)
        async with app.router.lifespan_context(app):
            markets = app.state.markets
            for _ in range(100):
                if markets.known:
                    break
                await asyncio.sleep(0.05)
            assert markets.currency(country="US", currency=None) == "USD"
            assert markets.currency(country=None, currency=None) == "EUR"  # the default market's
    kept = orjson.loads((tmp_path / "index" / "markets.json").read_bytes())
    assert {market["id"]: market["currency"] for market in kept} == {"eu": "EUR", "uk": "GBP", "us": "USD"}
