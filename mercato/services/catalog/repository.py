"""Every query the catalog service makes."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, String, bindparam, cast, delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from mercato.platform.db import insert_or_merge
from mercato.services.catalog.documents import Document
from mercato.services.catalog.models import (
    CataloguePromotions,
    Category,
    Image,
    Inventory,
    Market,
    Product,
    ProductDocument,
    ProductDocumentCategory,
    Reservation,
    ReservationLine,
    Variant,
    VariantPrice,
)

CHUNK = 500
"""Ids per IN (...) list when a use case works through many rows: well inside every driver's limit."""

# --- reads ---------------------------------------------------------------------------------------


async def all_categories(session: AsyncSession) -> list[Category]:
    return list(await session.scalars(select(Category).order_by(Category.position, Category.name)))


async def all_markets(session: AsyncSession) -> list[Market]:
    return list(await session.scalars(select(Market).order_by(Market.position, Market.id)))


async def active_products(session: AsyncSession, *, after: str | None, limit: int) -> list[Product]:
    query = select(Product).where(Product.status == "active").order_by(Product.id).limit(limit)
    if after:
        query = query.where(Product.id > after)
    return list(await session.scalars(query))


async def products_by_ids(session: AsyncSession, ids: Sequence[str]) -> list[Product]:
    return list(await session.scalars(select(Product).where(Product.id.in_(ids)).order_by(Product.id)))


async def variants_with_stock(
    session: AsyncSession, product_ids: Sequence[str], *, active_only: bool = True
) -> list[tuple[Variant, int]]:
    """Variants of the given products (by default only those on sale) with the units available now."""
    query = (
        select(Variant, func.coalesce(Inventory.on_hand - Inventory.reserved, 0))
        .outerjoin(Inventory, Inventory.sku == Variant.sku)
        .where(Variant.product_id.in_(product_ids))
        .order_by(Variant.product_id, Variant.position)
    )
    if active_only:
        query = query.where(Variant.active)
    return [(variant, available) for variant, available in await session.execute(query)]


async def prices_of(session: AsyncSession, product_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """The price lists of the given products' variants: variant id → currency → amount."""
    rows = await session.execute(
        select(VariantPrice.variant_id, VariantPrice.currency, VariantPrice.amount)
        .join(Variant, Variant.id == VariantPrice.variant_id)
        .where(Variant.product_id.in_(product_ids))
        .order_by(VariantPrice.variant_id, VariantPrice.currency)
    )
    prices: dict[str, dict[str, int]] = {}
    for variant_id, currency, amount in rows:
        prices.setdefault(variant_id, {})[currency] = amount
    return prices


async def images_of(session: AsyncSession, product_ids: Sequence[str]) -> list[Image]:
    return list(
        await session.scalars(
            select(Image).where(Image.product_id.in_(product_ids)).order_by(Image.product_id, Image.position)
        )
    )


class VariantRow(NamedTuple):
    variant: Variant
    product: Product
    available: int
    image_key: str | None  # the product's first image
    amount: int | None  # its list price in the currency asked for
    category_ids: str | None  # the product's category and those above it, space-separated
    promotions: list[dict[str, Any]]  # the sales catalog knows of (the same on every row)


async def variant_infos(session: AsyncSession, skus: Sequence[str], *, currency: str) -> list[VariantRow]:
    """Sold variants of `skus` with their product, units available, the product's first image (its
    storage key), their price in `currency` (None: not priced in it), the product's categories (as its
    documents file it: a sold variant's product is visible) and the sales: one query."""
    first_image = (
        select(Image.storage_key)
        .where(Image.product_id == Product.id)
        .order_by(Image.position)
        .limit(1)
        .scalar_subquery()
    )
    categories = (
        select(func.aggregate_strings(ProductDocumentCategory.category_id, " "))
        .where(ProductDocumentCategory.product_id == Product.id)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(
            Variant,
            Product,
            func.coalesce(Inventory.on_hand - Inventory.reserved, 0),
            first_image,
            VariantPrice.amount,
            categories,
            _PROMOTIONS.scalar_subquery(),
        )
        .join(Product, Product.id == Variant.product_id)
        .outerjoin(Inventory, Inventory.sku == Variant.sku)
        .outerjoin(
            VariantPrice, (VariantPrice.variant_id == Variant.id) & (VariantPrice.currency == currency)
        )
        .where(Variant.sku.in_(skus), Variant.active, Product.status == "active")
    )
    return [VariantRow(*row) for row in rows]


async def available_units(session: AsyncSession, skus: Sequence[str]) -> dict[str, int]:
    rows = await session.execute(
        select(Inventory.sku, Inventory.on_hand - Inventory.reserved).where(Inventory.sku.in_(skus))
    )
    return {sku: available for sku, available in rows}


# --- sales (prices.py, sales.py) -----------------------------------------------------------------

CURRENT = "current"  # the one row of catalogue_promotions
_PROMOTIONS = select(CataloguePromotions.promotions).where(CataloguePromotions.id == CURRENT)


async def catalogue_promotions(session: AsyncSession) -> list[dict[str, Any]]:
    return await session.scalar(_PROMOTIONS) or []


async def promotions_row(session: AsyncSession) -> CataloguePromotions:
    """The set as stored, locked until the transaction ends (PostgreSQL): one change at a time."""
    query = select(CataloguePromotions).where(CataloguePromotions.id == CURRENT).with_for_update()
    return (await session.scalars(query)).one()


async def due_flip(session: AsyncSession, now: datetime) -> CataloguePromotions | None:
    """The set, if a sale has started or ended since the documents were last rendered."""
    query = select(CataloguePromotions).where(
        CataloguePromotions.id == CURRENT, CataloguePromotions.next_flip_at <= now
    )
    return await session.scalar(query)


async def claim_flip(session: AsyncSession, *, seen: datetime, next_flip_at: datetime | None) -> bool:
    """Move the next flip on from the one read: of replicas sweeping together, one does the rendering."""
    result = await session.execute(
        update(CataloguePromotions)
        .where(CataloguePromotions.id == CURRENT, CataloguePromotions.next_flip_at == seen)
        .values(next_flip_at=next_flip_at)
    )
    return result.rowcount == 1


async def products_covered(
    session: AsyncSession,
    *,
    everything: bool,
    product_ids: Iterable[str],
    category_ids: Iterable[str],
    skus: Iterable[str],
) -> list[Product]:
    """The active products some sales name (by id, by SKU, or under a category), or every active one."""
    query = select(Product).where(Product.status == "active").order_by(Product.id)
    if not everything:
        by_sku = select(Variant.product_id).where(Variant.sku.in_(list(skus)))
        under = select(ProductDocumentCategory.product_id).where(
            ProductDocumentCategory.category_id.in_(list(category_ids))
        )
        query = query.where(
            or_(Product.id.in_(list(product_ids)), Product.id.in_(by_sku), Product.id.in_(under))
        )
    return list(await session.scalars(query))


async def count_products(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Product)) or 0


# --- the read model (browsing.py, documents.py) -------------------------------------------------


def _units_available() -> Any:
    """`SKU-1 3,SKU-2 0`: the units available now of the document's product's active variants (a scalar
    subquery of the read that fetches the document)."""
    available = func.coalesce(Inventory.on_hand - Inventory.reserved, 0)
    return (
        select(func.aggregate_strings(Variant.sku + " " + cast(available, String), ","))
        .select_from(Variant)
        .outerjoin(Inventory, Inventory.sku == Variant.sku)
        .where(Variant.product_id == ProductDocument.product_id, Variant.active)
        .scalar_subquery()
    )


# Built once: a page read is the hottest query catalog makes.
_PRODUCT_DOCUMENT = (
    select(ProductDocument.detail, ProductDocument.skus, _units_available())
    .where(
        or_(ProductDocument.product_id == bindparam("key"), ProductDocument.slug == bindparam("key")),
        ProductDocument.market_id == bindparam("market"),
        ProductDocument.visible,
    )
    .limit(1)
)


async def product_document(
    connection: AsyncConnection, id_or_slug: str, *, market_id: str
) -> tuple[bytes, str, str | None] | None:
    """A visible product's page parts for a market, its SKUs in page order and their units available
    now."""
    row = (await connection.execute(_PRODUCT_DOCUMENT, {"key": id_or_slug, "market": market_id})).first()
    return None if row is None else (row[0], row[1], row[2])


@functools.cache
def _document_page(*, by_category: bool, after: bool) -> Select[tuple[str, bytes, bool]]:
    in_stock = exists().where(
        Variant.product_id == ProductDocument.product_id,
        Variant.active,
        Inventory.sku == Variant.sku,
        Inventory.on_hand > Inventory.reserved,
    )
    if by_category:
        key = ProductDocumentCategory.product_id
        category_id = select(Category.id).where(
            or_(Category.id == bindparam("category"), Category.slug == bindparam("category"))
        )
        query = (
            select(key, ProductDocument.summary, in_stock)
            .join(ProductDocument, ProductDocument.product_id == key)
            .where(ProductDocumentCategory.category_id == category_id.scalar_subquery())
        )
    else:
        key = ProductDocument.product_id
        query = select(key, ProductDocument.summary, in_stock)
    query = query.where(ProductDocument.market_id == bindparam("market"), ProductDocument.listed)
    if after:
        query = query.where(key > bindparam("after"))
    return query.order_by(key).limit(bindparam("limit"))


async def document_page(
    connection: AsyncConnection, *, category: str | None, after: str | None, limit: int, market_id: str
) -> list[tuple[str, bytes, bool]]:
    """(product id, list entry parts, in stock now) of the products listed in a market in id order, after
    `after`, of a category (by id or slug) and everything under it."""
    query = _document_page(by_category=category is not None, after=bool(after))
    values = {"category": category, "after": after, "limit": limit, "market": market_id}
    rows = await connection.execute(query, values)
    return [(product_id, summary, bool(available)) for product_id, summary, available in rows]


async def category_exists(connection: AsyncConnection, id_or_slug: str) -> bool:
    query = select(Category.id).where(or_(Category.id == id_or_slug, Category.slug == id_or_slug))
    return await connection.scalar(query) is not None


async def products_without_document(session: AsyncSession, *, built_for: str) -> list[str]:
    """Products whose documents are missing or were built with something else (their markets are part
    of `built_for`: a product's documents are written together)."""
    built = exists().where(ProductDocument.product_id == Product.id, ProductDocument.built_for == built_for)
    query = select(Product.id).where(~built).order_by(Product.id)
    return list(await session.scalars(query))


async def store_documents(session: AsyncSession, documents: Sequence[Document], *, built_for: str) -> None:
    """Insert or replace these products' documents and the categories they are listed under."""
    if not documents:
        return
    upsert = insert_or_merge(session, ProductDocument)
    columns = ("slug", "visible", "listed", "skus", "detail", "summary", "built_for")
    await session.execute(
        upsert.on_conflict_do_update(
            index_elements=[ProductDocument.product_id, ProductDocument.market_id],
            set_={column: upsert.excluded[column] for column in columns},
        ),
        [
            {
                "product_id": d.product_id,
                "market_id": market_id,
                "slug": d.slug,
                "visible": d.visible,
                "listed": market_id in d.summary,
                "skus": " ".join(d.skus),
                "detail": detail,
                "summary": d.summary.get(market_id, b""),
                "built_for": built_for,
            }
            for d in documents
            for market_id, detail in d.detail.items()
        ],
    )
    ids = list(dict.fromkeys(d.product_id for d in documents))
    await session.execute(delete(ProductDocumentCategory).where(ProductDocumentCategory.product_id.in_(ids)))
    listed = [{"category_id": c, "product_id": d.product_id} for d in documents for c in d.category_ids]
    if listed:  # (two replicas building the same documents at start-up insert the same rows)
        await session.execute(
            insert_or_merge(session, ProductDocumentCategory).on_conflict_do_nothing(), listed
        )


# --- writes --------------------------------------------------------------------------------------


class StockLevel(NamedTuple):
    """A SKU's stock right after a change, with its product (what InventoryChanged reports)."""

    sku: str
    product_id: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


async def _change_stock(
    session: AsyncSession, sku: str, values: dict[str, Any], *conditions: Any
) -> StockLevel | None:
    """One UPDATE of a SKU's stock that also answers with the new level and the SKU's product (RETURNING:
    no read before or after). None if no row matched: an unknown SKU, or a condition refused it."""
    # Not correlated on purpose: SQLite's RETURNING renders columns unqualified, so a correlated
    # `variants.sku = inventory.sku` would come out as `sku = sku`, true for every variant.
    product_id = select(Variant.product_id).where(Variant.sku == sku).scalar_subquery()
    row = (
        await session.execute(
            update(Inventory)
            .where(Inventory.sku == sku, *conditions)
            .values(**values)
            .returning(product_id, Inventory.on_hand, Inventory.reserved)
        )
    ).first()
    return None if row is None else StockLevel(sku, *row)


async def add_all(session: AsyncSession, rows: Iterable[object]) -> None:
    session.add_all(rows)
    await session.flush()


async def insert_many(session: AsyncSession, model: type, rows: list[dict[str, object]]) -> None:
    if rows:
        await session.execute(insert(model), rows)


class DuplicateKey(Exception):
    pass


async def add_checked(session: AsyncSession, rows: Iterable[object]) -> None:
    """Insert, turning a unique-constraint violation into DuplicateKey without spoiling the transaction."""
    try:
        async with session.begin_nested():
            session.add_all(rows)
            await session.flush()
    except IntegrityError:
        raise DuplicateKey from None


async def claim_reservation_key(session: AsyncSession, reservation: Reservation) -> bool:
    """Insert the reservation unless its key exists: one INSERT … ON CONFLICT DO NOTHING (no savepoint).
    False when the key was taken: a concurrent duplicate waits on the key's row, then sees it."""
    values = {c.key: getattr(reservation, c.key) for c in Reservation.__table__.columns}
    inserted = await session.execute(
        insert_or_merge(session, Reservation).values(values).on_conflict_do_nothing(index_elements=["key"])
    )
    return inserted.rowcount == 1


async def category_by_slug(session: AsyncSession, slug: str) -> Category | None:
    return await session.scalar(select(Category).where(Category.slug == slug))


async def adjust_on_hand(session: AsyncSession, sku: str, delta: int, now: datetime) -> StockLevel | None:
    """Change stock on hand, refusing to drop below what is reserved (or below zero)."""
    return await _change_stock(
        session,
        sku,
        {"on_hand": Inventory.on_hand + delta, "updated_at": now},
        Inventory.on_hand + delta >= Inventory.reserved,
    )


async def set_on_hand(session: AsyncSession, sku: str, on_hand: int, now: datetime) -> StockLevel | None:
    """Set stock on hand to a counted figure, refusing to drop below what is reserved."""
    return await _change_stock(
        session, sku, {"on_hand": on_hand, "updated_at": now}, Inventory.reserved <= on_hand
    )


# --- reservations --------------------------------------------------------------------------------


async def reservation_by_key(session: AsyncSession, key: str) -> Reservation | None:
    return await session.scalar(select(Reservation).where(Reservation.key == key))


async def reservation_by_id_or_key(session: AsyncSession, id_or_key: str) -> Reservation | None:
    return await session.scalar(
        select(Reservation).where(or_(Reservation.id == id_or_key, Reservation.key == id_or_key))
    )


async def reservation_lines(session: AsyncSession, reservation_id: str) -> list[ReservationLine]:
    return list(
        await session.scalars(
            select(ReservationLine)
            .where(ReservationLine.reservation_id == reservation_id)
            .order_by(ReservationLine.sku)
        )
    )


async def take_stock(session: AsyncSession, sku: str, quantity: int, now: datetime) -> StockLevel | None:
    """Reserve units if, and only if, enough are available — one atomic conditional UPDATE, so two
    concurrent reservations can never both take the last unit. None if they were not."""
    return await _change_stock(
        session,
        sku,
        {"reserved": Inventory.reserved + quantity, "updated_at": now},
        Inventory.on_hand - Inventory.reserved >= quantity,
    )


async def return_stock(session: AsyncSession, sku: str, quantity: int, now: datetime) -> StockLevel | None:
    return await _change_stock(session, sku, {"reserved": Inventory.reserved - quantity, "updated_at": now})


async def ship_stock(session: AsyncSession, sku: str, quantity: int, now: datetime) -> StockLevel | None:
    """A committed reservation's units leave the warehouse: both on_hand and reserved go down."""
    return await _change_stock(
        session,
        sku,
        {
            "on_hand": Inventory.on_hand - quantity,
            "reserved": Inventory.reserved - quantity,
            "updated_at": now,
        },
    )


async def end_active_reservation(
    session: AsyncSession, id_or_key: str, *, status: str, now: datetime
) -> Reservation | None:
    """Move an active reservation (by id or key) to `status` and return it: one UPDATE … RETURNING. None
    when no active reservation matched (unknown, or ended already)."""
    return await session.scalar(
        update(Reservation)
        .where(or_(Reservation.id == id_or_key, Reservation.key == id_or_key), Reservation.status == "active")
        .values(status=status, updated_at=now)
        .returning(Reservation)
    )


async def set_reservation_status(
    session: AsyncSession, reservation_id: str, *, expected: str, status: str, now: datetime
) -> bool:
    """Move a reservation on only from the state we read: the winner of a race does the stock work."""
    result = await session.execute(
        update(Reservation)
        .where(Reservation.id == reservation_id, Reservation.status == expected)
        .values(status=status, updated_at=now)
    )
    return result.rowcount == 1


async def expired_reservation_ids(
    session: AsyncSession, now: datetime, *, skus: Sequence[str] | None = None, limit: int = 500
) -> list[str]:
    query = (
        select(Reservation.id)
        .where(Reservation.status == "active", Reservation.expires_at <= now)
        .order_by(Reservation.expires_at)
        .limit(limit)
    )
    if skus is not None:
        query = query.where(
            Reservation.id.in_(select(ReservationLine.reservation_id).where(ReservationLine.sku.in_(skus)))
        )
    return list(await session.scalars(query))
