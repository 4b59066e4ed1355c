"""The public screens: home, a listing (a category or a search), search suggestions, a product."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from mercato.services.mobile_api.clients import (
    Category,
    Market,
    Product,
    ProductEntry,
    ProductList,
    Services,
)
from mercato.services.mobile_api.clients.common import in_market
from mercato.services.mobile_api.schemas import (
    CategoryOut,
    FacetValue,
    HomeOut,
    ListingOut,
    ListingQuery,
    MarketOut,
    ProductCard,
    ProductOut,
    SuggestionsOut,
    VariantOut,
)


def card(entry: ProductEntry) -> ProductCard:
    return ProductCard(
        id=entry.id,
        slug=entry.slug,
        name=entry.name,
        brand=entry.brand,
        image=entry.image_url,
        price=entry.lowest,
        price_varies=entry.highest != entry.lowest,
        available=entry.available,
    )


def _category(category: Category) -> CategoryOut:
    return CategoryOut(
        slug=category.slug, name=category.name, children=[_category(c) for c in category.children]
    )


def market_out(market: Market) -> MarketOut:
    return MarketOut(id=market.id, currency=market.currency, prices_include_tax=market.prices_include_tax)


async def home(services: Services, featured: int, country: str | None) -> HomeOut:
    """The category tree and the first products of the catalog sold in `country`'s market, as the web
    shop's home page shows them."""
    tree, products = await asyncio.gather(
        services.catalog.categories(),
        services.catalog.products([("limit", featured), *in_market(country).items()]),
    )
    assert products.market is not None  # catalog's lists say their market
    return HomeOut(
        categories=[_category(c) for c in tree],
        featured=[card(e) for e in products.entries],
        market=market_out(products.market),
    )


@dataclass
class Listing:
    """What the app asks of a listing. With words to look for or any filter it is search's (typo-tolerant,
    with facets, as the web shop's search); otherwise catalog's listing of a category (or of everything)."""

    category: str | None = None
    q: str = ""
    cursor: str | None = None
    limit: int = 20
    attributes: dict[str, list[str]] = field(default_factory=dict)
    sort: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool = False
    country: str | None = None  # priced in its market; only what is sold there

    @property
    def searched(self) -> bool:
        filtered = any(self.attributes.values()) or self.in_stock
        priced = self.min_price is not None or self.max_price is not None
        return bool(self.q) or filtered or priced or self.sort is not None

    def search_params(self) -> list[tuple[str, str | int]]:
        params: list[tuple[str, str | int]] = [("q", self.q), ("limit", self.limit)]
        optional = {
            "category": self.category,
            "cursor": self.cursor,
            "sort": self.sort,
            "min_price": self.min_price,
            "max_price": self.max_price,
        }
        params.extend((name, value) for name, value in optional.items() if value is not None)
        params.extend(in_market(self.country).items())
        if self.in_stock:
            params.append(("in_stock", "true"))
        for name, values in self.attributes.items():
            params.extend((f"attr.{name}", value) for value in values)
        return params

    def catalog_params(self) -> list[tuple[str, str | int]]:
        params: list[tuple[str, str | int]] = [("limit", self.limit)]
        if self.category:
            params.append(("category", self.category))
        if self.cursor:
            params.append(("cursor", self.cursor))
        params.extend(in_market(self.country).items())
        return params


async def listing(services: Services, wanted: Listing) -> ListingOut:
    found: ProductList
    if wanted.searched:
        found = await services.search.search(wanted.search_params())
    else:
        found = await services.catalog.products(wanted.catalog_params())
    return ListingOut(
        items=[card(entry) for entry in found.entries],
        next_cursor=found.next_cursor,
        facets={
            name: [FacetValue(value=value, count=count) for value, count in values]
            for name, values in found.facets.items()
        },
        query=ListingQuery(category=wanted.category, q=wanted.q or None),
    )


async def suggestions(services: Services, q: str, country: str | None) -> SuggestionsOut:
    return SuggestionsOut(suggestions=await services.search.suggest(q, country) if q.strip() else [])


def product_screen(product: Product) -> ProductOut:
    return ProductOut(
        id=product.id,
        slug=product.slug,
        name=product.name,
        brand=product.brand,
        description=product.description,
        images=list(product.image_urls),
        price=product.lowest,
        price_varies=product.highest != product.lowest,
        for_sale=product.lowest is not None,
        market=market_out(product.market),
        available=product.available,
        options=product.options,
        variants=[
            VariantOut(sku=v.sku, attributes=v.attributes, price=v.price, available=v.available)
            for v in product.variants
        ],
    )


async def product(services: Services, id_or_slug: str, country: str | None) -> ProductOut:
    return product_screen(await services.catalog.product(id_or_slug, country))
