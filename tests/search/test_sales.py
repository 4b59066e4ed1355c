"""Sales in search: a product on sale (catalog's snapshot with `sale_prices`) is found, filtered, sorted
and bucketed by what it costs now, and its hit shows the list price to strike through; when the sale
ends (the next snapshot has none) the list price is back."""

from __future__ import annotations

from mercato.contracts.money import Money
from tests.search.factories import HOME, TSHIRTS, at, product, updated, variant
from tests.search.test_api import _delivery, searching


def _on_sale(snapshot, *, eur: int, gbp: int | None = None):
    """The variant's sale prices as catalog publishes them (ProductUpdated)."""
    sale = [Money(amount=eur, currency="EUR")] + ([Money(amount=gbp, currency="GBP")] if gbp else [])
    variants = [v.model_copy(update={"sale_prices": tuple(sale)}) for v in snapshot.variants]
    return updated(snapshot, updated_at=at(1), variants=variants)


TEE = product(
    product_id="tee",
    name="Classic T-Shirt",
    category_path=TSHIRTS,
    variants=[variant(sku="TEE-1", price=3000, also={"GBP": 2600})],
)
MUG = product(
    product_id="mug", name="Ceramic Mug", category_path=HOME, variants=[variant(sku="MUG-1", price=2000)]
)


async def _hits(search, **params) -> list[dict]:
    body = (await search.get("/api/v1/search", params={"limit": 50, **params})).json()
    return body["data"]


async def test_a_product_on_sale_is_found_sorted_and_filtered_by_its_sale_price(databases, backend, tmp_path):
    events = [TEE, MUG, _on_sale(TEE, eur=1500, gbp=1300)]
    async with searching(databases, backend, tmp_path, events=events) as search:
        [tee] = await _hits(search, q="t-shirt")
        assert tee["price_range"]["min"] == {"amount": 1500, "currency": "EUR"}
        assert tee["compare_at_price"] == {"amount": 3000, "currency": "EUR"}
        [mug] = await _hits(search, q="mug")
        assert mug["compare_at_price"] is None

        assert [h["id"] for h in await _hits(search, sort="price_asc")] == ["tee", "mug"]  # 15.00 < 20.00
        assert [h["id"] for h in await _hits(search, max_price=1600)] == ["tee"]
        assert await _hits(search, min_price=2500) == []  # its list price no longer counts
        [uk] = await _hits(search, q="t-shirt", currency="GBP")
        assert (uk["price_range"]["min"]["amount"], uk["compare_at_price"]["amount"]) == (1300, 2600)

        ended = updated(TEE, updated_at=at(2))  # the sale ended: catalog publishes it without
        await search.app.state.consumer.on_deliveries([_delivery(ended)])
        [tee] = await _hits(search, q="t-shirt")
        assert tee["price_range"]["min"]["amount"] == 3000 and tee["compare_at_price"] is None
        assert [h["id"] for h in await _hits(search, sort="price_asc")] == ["mug", "tee"]
