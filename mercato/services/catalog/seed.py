"""Load the demo catalog (demo_catalog.py) into the catalog database and image store.

Ids are derived from the data, so every machine seeds the same ids and links stay valid across
re-seeds. Seeding an already populated catalog does nothing. Every product is announced with a
ProductCreated event in the seeding transaction, so consumers (search) can build from the stream, and
its documents (the pages shoppers browse, `browsing.py`) are built in it too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.progress import Progress

from mercato.contracts.events import ProductCreated
from mercato.contracts.money import Money
from mercato.platform.db import Database
from mercato.platform.ids import new_id
from mercato.platform.outbox import record_event
from mercato.platform.storage import ObjectStore, content_key
from mercato.services.catalog import repository as repo
from mercato.services.catalog.browsing import Categories, ensure_documents
from mercato.services.catalog.demo_catalog import demo_catalog
from mercato.services.catalog.markets import load as load_markets
from mercato.services.catalog.models import Category, Image, Inventory, Product, Variant, VariantPrice
from mercato.services.catalog.service import product_state
from mercato.services.catalog.settings import CatalogSettings

EPOCH_MS = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)


@dataclass(frozen=True)
class SeedReport:
    skipped: bool
    categories: int = 0
    products: int = 0
    variants: int = 0
    images: int = 0


def _id(prefix: str, index: int, natural_key: str) -> str:
    return new_id(prefix, at_ms=EPOCH_MS + index, entropy=hashlib.sha256(natural_key.encode()).digest()[:10])


DEFAULT_IMAGE_BASE_URL: str = CatalogSettings.model_fields["image_base_url"].default


async def seed_demo_catalog(
    db: Database,
    images: ObjectStore,
    *,
    progress: Progress | None = None,
    image_base_url: str = DEFAULT_IMAGE_BASE_URL,
) -> SeedReport:
    categories, products = demo_catalog()
    async with db.unit_of_work() as session:
        if await repo.count_products(session):
            return SeedReport(skipped=True)
        category_ids = {c.slug: _id("cat", i, c.slug) for i, c in enumerate(categories)}
        category_rows = [
            Category(
                id=category_ids[c.slug],
                slug=c.slug,
                name=c.name,
                position=c.position,
                parent_id=category_ids[c.parent_slug] if c.parent_slug else None,
            )
            for c in categories
        ]
        await repo.add_all(session, category_rows)
        tree = Categories(category_rows)
        default_currency = (await load_markets(session)).default.currency
        task = progress.add_task("Seeding demo catalog", total=len(products)) if progress else None
        now = datetime.now(UTC)
        rows: dict[type, list[dict[str, object]]] = {
            Product: [],
            Variant: [],
            VariantPrice: [],
            Inventory: [],
            Image: [],
        }
        events: list[ProductCreated] = []
        for index, seed in enumerate(products):
            product_id = _id("prod", index, seed.slug)
            first_variant, first_image = len(rows[Variant]), len(rows[Image])
            rows[Product].append(
                dict(
                    id=product_id,
                    slug=seed.slug,
                    name=seed.name,
                    brand=seed.brand,
                    description=seed.description,
                    category_id=category_ids[seed.category_slug],
                    status="active",
                    tax_class=seed.tax_class,
                    created_at=now,
                    updated_at=now,
                )
            )
            for position, variant in enumerate(seed.variants):
                variant_id = _id("var", index * 100 + position, variant.sku)
                rows[Variant].append(
                    dict(
                        id=variant_id,
                        product_id=product_id,
                        sku=variant.sku,
                        attributes=variant.attributes,
                        weight_grams=variant.weight_grams,
                        kind=variant.kind,
                        position=position,
                    )
                )
                rows[VariantPrice] += [
                    dict(variant_id=variant_id, currency=currency, amount=amount)
                    for currency, amount in variant.prices.items()
                ]
                rows[Inventory].append(
                    dict(sku=variant.sku, on_hand=variant.stock, reserved=0, updated_at=now)
                )
            for position, image in enumerate(seed.images):
                key = content_key(image.data, image.content_type)
                await images.put(key, image.data, image.content_type)
                rows[Image].append(
                    dict(
                        id=_id("img", index * 100 + position, image.filename),
                        product_id=product_id,
                        storage_key=key,
                        content_type=image.content_type,
                        alt=image.alt,
                        position=position,
                    )
                )
            price_lists = {
                v.sku: tuple(Money(amount=a, currency=c) for c, a in v.prices.items()) for v in seed.variants
            }
            events.append(
                product_state(
                    ProductCreated,
                    Product(**rows[Product][-1]),  # transient: only to describe what was inserted
                    categories=tree,
                    variants=[
                        (Variant(**row), variant.stock)
                        for row, variant in zip(rows[Variant][first_variant:], seed.variants, strict=True)
                    ],
                    prices=lambda v, lists=price_lists: lists[v.sku],
                    sale_prices=lambda v: (),  # a new catalog: a sale published later re-publishes it
                    default_currency=default_currency,
                    first_image=Image(**rows[Image][first_image]) if seed.images else None,
                    image_base_url=image_base_url,
                )
            )
            if task is not None and progress is not None:
                progress.advance(task)
        for model, batch in rows.items():  # parents before children
            await repo.insert_many(session, model, batch)
        for event in events:
            await record_event(session, event, aggregate_id=event.product_id)
        await ensure_documents(session, image_base_url=image_base_url)
    return SeedReport(
        skipped=False,
        categories=len(categories),
        products=len(products),
        variants=len(rows[Variant]),
        images=len(rows[Image]),
    )
