"""Browsing: the category tree, product pages and the product list — served from the read model.

A product's page and its list entry are rendered when the product changes, not when it is read — once per
market, each priced in its market's currency (`markets.py`): every
change a shopper could see (a product's fields, status, variants, prices, images; a category's name,
slug or place in the tree) rebuilds the documents of the products it touches, in its own transaction
(`store_documents`, called where the change is published: `service.record_product_state(s)`, and
`merchandising.categories` for a category's new name). A read is then one SELECT of the stored parts
with the live units available joined in (`documents.py`), for any number of variants or list entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from mercato.contracts.money import Money
from mercato.platform.errors import NotFound
from mercato.services.catalog import documents
from mercato.services.catalog import repository as repo
from mercato.services.catalog.markets import Markets, market_ref
from mercato.services.catalog.markets import load as load_markets
from mercato.services.catalog.models import Category, Image, Market, Product, Variant
from mercato.services.catalog.prices import Priced, Sales, parse
from mercato.services.catalog.schemas import (
    CategoryNode,
    CategoryRef,
    CategoryTree,
    ImageOut,
    PriceRange,
    ProductDetail,
    ProductSummary,
    SaleOut,
    VariantOut,
)


def category_ref(category: Category) -> CategoryRef:
    return CategoryRef(id=category.id, slug=category.slug, name=category.name)


class Categories:
    """The whole (small) category tree in memory for one request: lookups, descendants, breadcrumbs."""

    def __init__(self, rows: list[Category]) -> None:
        self.by_id = {c.id: c for c in rows}
        self.by_slug = {c.slug: c for c in rows}
        self.children: dict[str | None, list[Category]] = defaultdict(list)
        for category in rows:
            self.children[category.parent_id].append(category)

    def find(self, id_or_slug: str) -> Category | None:
        return self.by_id.get(id_or_slug) or self.by_slug.get(id_or_slug)

    def subtree_ids(self, root: Category) -> list[str]:
        ids, stack = [], [root]
        while stack:
            node = stack.pop()
            ids.append(node.id)
            stack.extend(self.children[node.id])
        return ids

    def breadcrumbs(self, category_id: str) -> list[CategoryRef]:
        trail, node = [], self.by_id.get(category_id)
        while node is not None:
            trail.append(category_ref(node))
            node = self.by_id.get(node.parent_id) if node.parent_id else None
        return trail[::-1]

    def tree(self, parent_id: str | None = None) -> list[CategoryNode]:
        return [
            CategoryNode(id=c.id, slug=c.slug, name=c.name, children=self.tree(c.id))
            for c in self.children[parent_id]
        ]


async def category_tree(session: AsyncSession) -> CategoryTree:
    return CategoryTree(data=Categories(await repo.all_categories(session)).tree())


def image_out(image: Image, base_url: str) -> ImageOut:
    return ImageOut(
        id=image.id, url=f"{base_url}/{image.storage_key}", alt=image.alt, content_type=image.content_type
    )


# --- a product as shoppers see it -----------------------------------------------------------------


@dataclass(frozen=True)
class LoadedProduct:
    """A product with everything its page, its list entry and its event snapshot show."""

    product: Product
    categories: Categories
    variants: list[tuple[Variant, int]]  # the active ones, in page order, with the units available now
    images: list[Image]
    prices: dict[str, dict[str, int]]  # variant id → currency → amount (the variants' price lists)
    markets: Markets
    sales: Sales

    @property
    def visible(self) -> bool:
        """Shown to shoppers: active, with something on sale."""
        return self.product.status == "active" and bool(self.variants)

    @property
    def category_ids(self) -> tuple[str, ...]:
        """The product's category and every one above it (root first)."""
        return tuple(ref.id for ref in self.categories.breadcrumbs(self.product.category_id))

    def priced(self, variant: Variant, market: Market) -> Priced | None:
        """The variant's price in `market` now (a sale applied); None: it has none in its currency."""
        amount = self.prices.get(variant.id, {}).get(market.currency)
        if amount is None:
            return None
        return self.sales.price(
            amount,
            currency=market.currency,
            sku=variant.sku,
            product_id=self.product.id,
            category_ids=self.category_ids,
            market_id=market.id,
            kind=variant.kind,
        )

    def price_list(self, variant: Variant) -> tuple[Money, ...]:
        """The variant's list prices, one per currency."""
        return tuple(Money(amount=a, currency=c) for c, a in self.prices.get(variant.id, {}).items())

    def sale_prices(self, variant: Variant) -> tuple[Money, ...]:
        """Its current price in each currency where a sale lowers it (priced in the first market of that
        currency)."""
        found = []
        for currency in self.prices.get(variant.id, {}):
            market = next((m for m in self.markets.all if m.currency == currency), None)
            priced = self.priced(variant, market) if market is not None else None
            if priced is not None and priced.sale is not None:
                found.append(priced.price)
        return tuple(found)


async def load_product(session: AsyncSession, product: Product) -> LoadedProduct:
    """The product as shoppers and events see it: only its active variants."""
    return (await load_products(session, [product]))[0]


async def load_products(session: AsyncSession, products: Sequence[Product]) -> list[LoadedProduct]:
    """Many products at once: a few queries per chunk of products, not per product."""
    if not products:
        return []
    categories = Categories(await repo.all_categories(session))
    markets = await load_markets(session)
    sales = Sales(parse(await repo.catalogue_promotions(session)), datetime.now(UTC))
    loaded: list[LoadedProduct] = []
    for start in range(0, len(products), repo.CHUNK):
        chunk = products[start : start + repo.CHUNK]
        ids = [p.id for p in chunk]
        variants: dict[str, list[tuple[Variant, int]]] = defaultdict(list)
        for variant, available in await repo.variants_with_stock(session, ids):
            variants[variant.product_id].append((variant, available))
        images: dict[str, list[Image]] = defaultdict(list)
        for image in await repo.images_of(session, ids):
            images[image.product_id].append(image)
        prices = await repo.prices_of(session, ids)
        loaded += [
            LoadedProduct(p, categories, variants[p.id], images[p.id], prices, markets, sales) for p in chunk
        ]
    return loaded


@dataclass(frozen=True)
class _Pricing:
    """A product's prices in one market: each variant's (None: not priced there), their range now, and
    while some variant is on sale the range of their list prices and the sale."""

    variants: list[Priced | None]
    price_range: PriceRange | None
    compare_at_price_range: PriceRange | None
    sale: SaleOut | None


def _range(amounts: list[int], currency: str) -> PriceRange:
    return PriceRange(
        min=Money(amount=min(amounts), currency=currency), max=Money(amount=max(amounts), currency=currency)
    )


def _pricing(loaded: LoadedProduct, market: Market) -> _Pricing:
    priced = [loaded.priced(variant, market) for variant, _ in loaded.variants]
    found = [p for p in priced if p is not None]
    if not found:
        return _Pricing(priced, None, None, None)
    on_sale = [p for p in found if p.sale is not None]
    now = _range([p.price.amount for p in found], market.currency)
    if not on_sale:
        return _Pricing(priced, now, None, None)
    listed = _range([(p.list_price or p.price).amount for p in found], market.currency)
    cheapest = min(on_sale, key=lambda p: p.price.amount).sale
    assert cheapest is not None
    return _Pricing(priced, now, listed, SaleOut(name=cheapest.name, ends_at=cheapest.ends_at))


def detail_view(loaded: LoadedProduct, image_base_url: str, market: Market) -> ProductDetail:
    """The product page in a market: prices in its currency (null for a variant not priced in it)."""
    product, categories, variants, images = loaded.product, loaded.categories, loaded.variants, loaded.images
    pricing = _pricing(loaded, market)
    price_range = pricing.price_range
    attributes: dict[str, list[str]] = defaultdict(list)
    for variant, _ in variants:
        for name, value in variant.attributes.items():
            if value not in attributes[name]:
                attributes[name].append(value)
    return ProductDetail(
        id=product.id,
        slug=product.slug,
        name=product.name,
        brand=product.brand,
        description=product.description,
        category=category_ref(categories.by_id[product.category_id]),
        breadcrumbs=categories.breadcrumbs(product.category_id),
        market=market_ref(market),
        for_sale=price_range is not None,
        price_range=price_range,
        compare_at_price_range=pricing.compare_at_price_range,
        sale=pricing.sale,
        tax_class=product.tax_class,  # type: ignore[arg-type]
        available=any(available > 0 for _, available in variants),
        variants=[
            VariantOut(
                id=v.id,
                sku=v.sku,
                attributes=v.attributes,
                price=priced.price if priced else None,
                compare_at_price=priced.list_price if priced else None,
                kind=v.kind,  # type: ignore[arg-type]
                available=max(available, 0),
            )
            for (v, available), priced in zip(variants, pricing.variants, strict=True)
        ],
        images=[image_out(image, image_base_url) for image in images],
        attributes=dict(attributes),
        properties=product.attributes,
        updated_at=product.updated_at,
    )


def summary_view(loaded: LoadedProduct, image_base_url: str, market: Market) -> ProductSummary | None:
    """The product's list entry in a market; None if it has no price there (it is not listed)."""
    product, variants, images = loaded.product, loaded.variants, loaded.images
    pricing = _pricing(loaded, market)
    if pricing.price_range is None:
        return None
    return ProductSummary(
        id=product.id,
        slug=product.slug,
        name=product.name,
        brand=product.brand,
        category=category_ref(loaded.categories.by_id[product.category_id]),
        price_range=pricing.price_range,
        compare_at_price_range=pricing.compare_at_price_range,
        sale=pricing.sale,
        available=any(available > 0 for _, available in variants),
        image=image_out(images[0], image_base_url) if images else None,
    )


# --- the read model ---------------------------------------------------------------------------------


def document_of(loaded: LoadedProduct, image_base_url: str) -> documents.Document:
    """The product's page in every market, and its list entry in those where it has a price."""
    product, markets = loaded.product, loaded.markets.all
    if not loaded.visible:  # kept (so it counts as built), but never served or listed
        empty = {market.id: b"" for market in markets}
        return documents.Document(product.id, product.slug, False, (), empty, {}, ())
    summaries = {}
    for market in markets:
        if (summary := summary_view(loaded, image_base_url, market)) is not None:
            summaries[market.id] = documents.summary_parts(summary)
    return documents.Document(
        product_id=product.id,
        slug=product.slug,
        visible=True,
        skus=tuple(variant.sku for variant, _ in loaded.variants),
        detail={m.id: documents.detail_parts(detail_view(loaded, image_base_url, m)) for m in markets},
        summary=summaries,
        category_ids=loaded.category_ids,
    )


def built_for(image_base_url: str, markets: Markets) -> str:
    return documents.fingerprint(
        image_base_url, (f"{m.id}:{m.currency}:{m.prices_include_tax}" for m in markets.all)
    )


async def store_documents(
    session: AsyncSession, loaded: Sequence[LoadedProduct], *, image_base_url: str
) -> None:
    """Rebuild these products' documents in the caller's transaction."""
    if not loaded:
        return
    await repo.store_documents(
        session,
        [document_of(product, image_base_url) for product in loaded],
        built_for=built_for(image_base_url, loaded[0].markets),
    )


async def refresh_documents(
    session: AsyncSession, products: Sequence[Product], *, image_base_url: str
) -> None:
    """Load and rebuild: for a change that shows in documents but is published by no product event
    (a category's new name)."""
    await store_documents(session, await load_products(session, products), image_base_url=image_base_url)


async def ensure_documents(session: AsyncSession, *, image_base_url: str) -> int:
    """Build every document that is missing or was built with another format or image URL (a new
    database, a migration, a changed setting); returns how many were built."""
    markets = await load_markets(session)
    stale = await repo.products_without_document(session, built_for=built_for(image_base_url, markets))
    for start in range(0, len(stale), repo.CHUNK):
        products = await repo.products_by_ids(session, stale[start : start + repo.CHUNK])
        await refresh_documents(session, products, image_base_url=image_base_url)
    return len(stale)


# --- reads ------------------------------------------------------------------------------------------


async def product_page(connection: AsyncConnection, id_or_slug: str, market: Market) -> bytes:
    """A product page (`ProductDetail`) in a market as JSON: one SELECT."""
    found = await repo.product_document(connection, id_or_slug, market_id=market.id)
    if found is None:  # unknown, archived, a draft, or nothing on sale
        raise NotFound(f"There is no product {id_or_slug!r}.")
    detail, skus, units = found
    return documents.detail_body(detail, skus.split(), documents.parse_units(units))


async def product_list(
    connection: AsyncConnection, *, category: str | None, after: str | None, limit: int, market: Market
) -> list[tuple[str, bytes]]:
    """Up to `limit` list entries (`ProductSummary` as JSON) of the products sold in `market`, after the
    product id `after`, in id order, of a category (id or slug) and its sub-categories: (product id,
    entry). One SELECT (a second one only to tell an empty category from an unknown one)."""
    rows = await repo.document_page(
        connection, category=category, after=after, limit=limit, market_id=market.id
    )
    if not rows and category is not None and not await repo.category_exists(connection, category):
        raise NotFound(f"There is no category {category!r}.", errors={"category": "is not a known category"})
    return [(product_id, documents.summary_body(summary, in_stock)) for product_id, summary, in_stock in rows]
