"""Search in a market's currency: only products with a price in it are found, and prices, price filters,
price buckets and sorting by price are in it."""

from __future__ import annotations

import pytest

from mercato.contracts.events import VariantSnapshot
from mercato.contracts.money import Money
from mercato.services.search.index import ProductIndex
from tests.search.factories import HOME, TSHIRTS, at, product, variant

MUG = product(
    product_id="mug",
    name="Ceramic Mug",
    category_path=HOME,
    variants=[variant(sku="MUG-1", price=1299, colour="White", also={"GBP": 1099, "USD": 1400})],
)
TEE = product(  # sold in GBP in black only; the black one is sold out
    product_id="tee",
    name="Classic T-Shirt",
    category_path=TSHIRTS,
    variants=[
        variant(sku="TEE-BLK", price=1999, colour="Black", available=0, also={"GBP": 1799, "USD": 2200}),
        variant(sku="TEE-WHI", price=1899, colour="White", also={"USD": 2100}),
    ],
)
CANDLE = product(  # EU only
    product_id="candle",
    name="Scented Candle",
    category_path=HOME,
    variants=[variant(sku="CAN-1", price=999)],
)
THROW = product(  # the UK only: no price in the default market's currency
    product_id="throw",
    name="Wool Throw",
    category_path=HOME,
    variants=[variant(sku="THR-1", price=6500, currency="GBP")],
    created_at=at(-1),
)


@pytest.fixture
def index(tmp_path):
    with ProductIndex(tmp_path / "search") as ix:
        ix.apply_many([MUG, TEE, CANDLE, THROW])
        yield ix


def prices(ix: ProductIndex, currency: str, **filters) -> dict[str, tuple[int, int, str]]:
    results = ix.search(currency=currency, limit=100, facets=False, **filters)
    return {h.product_id: (h.price, h.price_max, h.currency) for h in results.hits}


def test_each_currency_finds_only_what_has_a_price_in_it(index):
    assert prices(index, "EUR") == {
        "mug": (1299, 1299, "EUR"),
        "tee": (1899, 1999, "EUR"),
        "candle": (999, 999, "EUR"),
    }
    assert prices(index, "GBP") == {
        "mug": (1099, 1099, "GBP"),
        "tee": (1799, 1799, "GBP"),
        "throw": (6500, 6500, "GBP"),
    }
    assert prices(index, "USD") == {"mug": (1400, 1400, "USD"), "tee": (2100, 2200, "USD")}
    assert prices(index, "JPY") == {}
    assert (index.count("EUR"), index.count("GBP"), index.count("USD")) == (3, 3, 2)


def test_price_filters_and_sorting_are_in_the_currency(index):
    assert set(prices(index, "GBP", price_min=1100)) == {"tee", "throw"}
    assert set(prices(index, "USD", price_max=2000)) == {"mug"}
    cheapest_first = index.search(currency="GBP", sort="price_asc", facets=False).hits
    assert [h.product_id for h in cheapest_first] == ["mug", "tee", "throw"]
    dearest_first = index.search(currency="USD", sort="price_desc", facets=False).hits
    assert [h.product_id for h in dearest_first] == ["tee", "mug"]


def test_price_buckets_count_the_currencys_prices(index):
    buckets = index.search(currency="GBP", price_edges=[1500, 5000]).facets.price
    assert [(b.min, b.max, b.count) for b in buckets] == [(None, 1500, 1), (1500, 5000, 1), (5000, None, 1)]
    buckets = index.search(currency="EUR", price_edges=[1500, 5000]).facets.price
    assert [(b.min, b.max, b.count) for b in buckets] == [(None, 1500, 2), (1500, 5000, 1), (5000, None, 0)]


def test_stock_and_attributes_are_those_of_the_variants_sold_in_the_currency(index):
    """In GBP the tee is only sold in black, which is sold out: in stock in EUR, not in GBP."""
    assert "tee" in prices(index, "EUR", in_stock=True)
    assert "tee" not in prices(index, "GBP", in_stock=True)
    colours = index.search(currency="GBP", category="tshirts").facets.attributes["colour"]
    assert [(c.value, c.count) for c in colours] == [("Black", 1)]
    assert set(prices(index, "GBP", attributes={"colour": ["White"]})) == {"mug"}


def test_suggestions_and_text_search_are_per_currency(index):
    assert [s.product_id for s in index.suggest("wool", currency="GBP")] == ["throw"]
    assert index.suggest("wool", currency="EUR") == []
    assert [h.product_id for h in index.search("candle", currency="USD").hits] == []


def test_a_new_price_list_moves_the_product_between_currencies(index):
    """Catalog drops the mug's USD price and gives the candle one: one update each, both currencies
    follow."""
    mug = MUG.model_copy(
        update={
            "variants": (variant(sku="MUG-1", price=1299, colour="White", also={"GBP": 1099}),),
            "updated_at": at(1),
        }
    )
    candle = CANDLE.model_copy(
        update={"variants": (variant(sku="CAN-1", price=999, also={"USD": 1250}),), "updated_at": at(1)}
    )
    index.apply_many([mug, candle])
    assert prices(index, "USD") == {"tee": (2100, 2200, "USD"), "candle": (1250, 1250, "USD")}
    assert set(prices(index, "GBP")) == {"mug", "tee", "throw"}


def test_an_event_from_before_price_lists_is_indexed_in_its_one_price(index):
    old = VariantSnapshot(
        variant_id="var_OLD-1",
        sku="OLD-1",
        attributes={},
        price=Money(amount=500, currency="EUR"),
        available=3,
    )
    index.apply(product(product_id="old", name="Old Lamp", category_path=HOME, variants=[old]))
    assert prices(index, "EUR")["old"] == (500, 500, "EUR")
    assert "old" not in prices(index, "GBP")
