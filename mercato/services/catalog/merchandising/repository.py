"""Every query the back office makes (the shop's and the stock changes are in catalog's repository)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.services.catalog.models import (
    Category,
    Image,
    Inventory,
    Product,
    ProductImport,
    StockMovement,
    Variant,
    VariantPrice,
)
from mercato.services.catalog.repository import CHUNK, DuplicateKey


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[start : start + CHUNK] for start in range(0, len(values), CHUNK)]


async def flush_checked(session: AsyncSession) -> None:
    """Flush pending changes, turning a unique-constraint violation into DuplicateKey."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise DuplicateKey from None


# --- products -------------------------------------------------------------------------------------


async def currencies(session: AsyncSession) -> list[str]:
    """Every currency some variant has a price in."""
    return list(
        await session.scalars(select(VariantPrice.currency).distinct().order_by(VariantPrice.currency))
    )


async def replace_prices(session: AsyncSession, variant_id: str, rows: Sequence[object]) -> None:
    """Give a variant exactly these price rows (its whole price list)."""
    await session.execute(delete(VariantPrice).where(VariantPrice.variant_id == variant_id))
    session.add_all(rows)
    await session.flush()


@dataclass(frozen=True)
class ProductQuery:
    """The list's (and the export's) filters: text in name, slug or SKU; a status; a category subtree."""

    text: str | None = None
    status: str | None = None
    category_ids: Sequence[str] | None = None


def _filtered(query: Any, where: ProductQuery) -> Any:
    if where.status:
        query = query.where(Product.status == where.status)
    if where.category_ids is not None:
        query = query.where(Product.category_id.in_(where.category_ids))
    if where.text:
        query = query.where(
            or_(
                Product.name.icontains(where.text, autoescape=True),
                Product.slug.icontains(where.text, autoescape=True),
                Product.id.in_(
                    select(Variant.product_id).where(Variant.sku.icontains(where.text, autoescape=True))
                ),
            )
        )
    return query


async def products_page(
    session: AsyncSession, where: ProductQuery, *, before: str | None, limit: int
) -> list[Product]:
    """Newest first (ids are time-ordered), every status unless filtered."""
    query = _filtered(select(Product), where).order_by(Product.id.desc()).limit(limit)
    if before:
        query = query.where(Product.id < before)
    return list(await session.scalars(query))


async def product(session: AsyncSession, id_or_slug: str, *, for_update: bool = False) -> Product | None:
    """A product by id or slug, whatever its status; locked for the transaction if `for_update`."""
    query = select(Product).where(or_(Product.id == id_or_slug, Product.slug == id_or_slug))
    return await session.scalar(query.with_for_update() if for_update else query)


async def products_by_slug(session: AsyncSession, slugs: Sequence[str]) -> dict[str, Product]:
    """Locked for the transaction: an import decides on what it read, so nobody may change it meanwhile."""
    found: dict[str, Product] = {}
    for chunk in _chunks(slugs):
        rows = await session.scalars(select(Product).where(Product.slug.in_(chunk)).with_for_update())
        found |= {p.slug: p for p in rows}
    return found


async def products_in(session: AsyncSession, category_ids: Sequence[str]) -> list[Product]:
    rows = await session.scalars(
        select(Product).where(Product.category_id.in_(category_ids)).order_by(Product.id).with_for_update()
    )
    return list(rows)


async def variants_of(session: AsyncSession, product_ids: Sequence[str]) -> list[Variant]:
    """All variants of the products, active or not, in display order."""
    found: list[Variant] = []
    for chunk in _chunks(product_ids):
        found += await session.scalars(
            select(Variant)
            .where(Variant.product_id.in_(chunk))
            .order_by(Variant.product_id, Variant.position)
        )
    return found


async def variants_by_sku(session: AsyncSession, skus: Sequence[str]) -> dict[str, Variant]:
    found: dict[str, Variant] = {}
    for chunk in _chunks(skus):
        found |= {v.sku: v for v in await session.scalars(select(Variant).where(Variant.sku.in_(chunk)))}
    return found


async def stock_of(session: AsyncSession, skus: Sequence[str]) -> dict[str, Inventory]:
    found: dict[str, Inventory] = {}
    for chunk in _chunks(skus):
        found |= {i.sku: i for i in await session.scalars(select(Inventory).where(Inventory.sku.in_(chunk)))}
    return found


async def slugs_of(session: AsyncSession, product_ids: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(product_ids):
        rows = await session.execute(select(Product.id, Product.slug).where(Product.id.in_(chunk)))
        found |= {product_id: slug for product_id, slug in rows}
    return found


async def images_of(session: AsyncSession, product_ids: Sequence[str]) -> list[Image]:
    found: list[Image] = []
    for chunk in _chunks(product_ids):
        found += await session.scalars(
            select(Image).where(Image.product_id.in_(chunk)).order_by(Image.product_id, Image.position)
        )
    return found


async def delete_rows(session: AsyncSession, rows: Sequence[object]) -> None:
    for row in rows:
        await session.delete(row)
    await session.flush()


async def attribute_names(session: AsyncSession, where: ProductQuery) -> set[str]:
    """Every variant attribute name used by the products `where` selects (the export's columns)."""
    names: set[str] = set()
    query = select(Variant.attributes).where(Variant.product_id.in_(_filtered(select(Product.id), where)))
    for attributes in await session.scalars(query):
        names.update(attributes)
    return names


async def product_pages(session: AsyncSession, where: ProductQuery) -> AsyncIterator[list[Product]]:
    """Every product `where` selects, a page at a time, oldest first (the export's order)."""
    after: str | None = None
    while True:
        query = _filtered(select(Product), where).order_by(Product.id).limit(CHUNK)
        if after:
            query = query.where(Product.id > after)
        page = list(await session.scalars(query))
        if not page:
            return
        yield page
        after = page[-1].id


# --- categories -----------------------------------------------------------------------------------


async def product_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Product.category_id, func.count()).group_by(Product.category_id))
    return {category_id: count for category_id, count in rows}


async def category(session: AsyncSession, id_or_slug: str) -> Category | None:
    return await session.scalar(
        select(Category).where(or_(Category.id == id_or_slug, Category.slug == id_or_slug))
    )


async def category_in_use(session: AsyncSession, category_id: str) -> tuple[int, int]:
    """(sub-categories, products) filed under the category."""
    children = await session.scalar(select(func.count()).where(Category.parent_id == category_id))
    products = await session.scalar(select(func.count()).where(Product.category_id == category_id))
    return children or 0, products or 0


# --- inventory ------------------------------------------------------------------------------------


async def stock_level(session: AsyncSession, sku: str) -> tuple[Inventory, str] | None:
    """A SKU's stock row and its product's id."""
    row = (
        await session.execute(
            select(Inventory, Variant.product_id)
            .join(Variant, Variant.sku == Inventory.sku)
            .where(Inventory.sku == sku)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def movements_page(
    session: AsyncSession, sku: str, *, before: str | None, limit: int
) -> list[StockMovement]:
    query = (
        select(StockMovement).where(StockMovement.sku == sku).order_by(StockMovement.id.desc()).limit(limit)
    )
    if before:
        query = query.where(StockMovement.id < before)
    return list(await session.scalars(query))


# --- imports --------------------------------------------------------------------------------------


async def imports_page(session: AsyncSession, *, before: str | None, limit: int) -> list[ProductImport]:
    query = select(ProductImport).order_by(ProductImport.id.desc()).limit(limit)
    if before:
        query = query.where(ProductImport.id < before)
    return list(await session.scalars(query))


async def product_import(session: AsyncSession, import_id: str) -> ProductImport | None:
    return await session.get(ProductImport, import_id)
