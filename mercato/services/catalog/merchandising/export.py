"""CSV export: the products a list filter selects, in the import's format, streamed a chunk of products
at a time (the whole catalog never sits in memory, and the download starts at once)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator

from mercato.platform.db import Database
from mercato.services.catalog import repository as catalog_repo
from mercato.services.catalog.browsing import Categories
from mercato.services.catalog.markets import load as load_markets
from mercato.services.catalog.merchandising import csv_format
from mercato.services.catalog.merchandising import repository as repo
from mercato.services.catalog.models import Variant


async def export_csv(db: Database, where: repo.ProductQuery) -> AsyncIterator[bytes]:
    """The file, piece by piece: the header, then the rows of each chunk of products, oldest first.
    One read transaction throughout, so the file is one consistent picture of the catalog."""
    async with db.read() as session:
        categories = Categories(await catalog_repo.all_categories(session))
        currencies = dict.fromkeys(
            [*(await load_markets(session)).currencies, *await repo.currencies(session)]
        )
        columns = csv_format.header(await repo.attribute_names(session, where), currencies)
        yield csv_format.encode([columns])
        async for products in repo.product_pages(session, where):
            ids = [p.id for p in products]
            variants: dict[str, list[Variant]] = defaultdict(list)
            for variant in await repo.variants_of(session, ids):
                variants[variant.product_id].append(variant)
            stock = await repo.stock_of(session, [v.sku for vs in variants.values() for v in vs])
            prices = await catalog_repo.prices_of(session, ids)
            images: dict[str, list[str]] = defaultdict(list)
            for image in await repo.images_of(session, ids):
                images[image.product_id].append(image.storage_key)
            yield csv_format.encode(
                csv_format.row(
                    columns,
                    slug=product.slug,
                    name=product.name,
                    description=product.description,
                    brand=product.brand,
                    category=categories.by_id[product.category_id].slug,
                    status=product.status,
                    tax_class=product.tax_class,
                    sku=variant.sku,
                    attributes=variant.attributes,
                    prices=prices.get(variant.id, {}),
                    weight_grams=variant.weight_grams,
                    stock=stock[variant.sku].on_hand if variant.sku in stock else 0,
                    active=variant.active,
                    images=images[product.id],
                )
                for product in products
                for variant in variants[product.id]
            )
