"""Every query the catalog service makes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.platform.db import insert_or_merge
from mercato.services.catalog.models import (
    Category,
    Image,
    Inventory,
    Product,
    Reservation,
    ReservationLine,
    Variant,
)

CHUNK = 500
"""Ids per IN (...) list when a use case works through many rows: well inside every driver's limit."""

# --- reads ---------------------------------------------------------------------------------------


async def all_categories(session: AsyncSession) -> list[Category]:
    return list(await session.scalars(select(Category).order_by(Category.position, Category.name)))


async def products_page(
    session: AsyncSession, *, category_ids: Sequence[str] | None, after: str | None, limit: int
) -> list[Product]:
    query = select(Product).where(Product.status == "active").order_by(Product.id).limit(limit)
    if category_ids is not None:
        query = query.where(Product.category_id.in_(category_ids))
    if after:
        query = query.where(Product.id > after)
    return list(await session.scalars(query))


async def product_by_id_or_slug(session: AsyncSession, id_or_slug: str) -> Product | None:
    return await session.scalar(
        select(Product).where(
            or_(Product.id == id_or_slug, Product.slug == id_or_slug), Product.status == "active"
        )
    )


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


async def images_of(session: AsyncSession, product_ids: Sequence[str]) -> list[Image]:
    return list(
        await session.scalars(
            select(Image).where(Image.product_id.in_(product_ids)).order_by(Image.product_id, Image.position)
        )
    )


async def variant_infos(
    session: AsyncSession, skus: Sequence[str]
) -> list[tuple[Variant, Product, int, str | None]]:
    """Sold variants of `skus` with their product, units available and the product's first image (its
    storage key): one query."""
    first_image = (
        select(Image.storage_key)
        .where(Image.product_id == Product.id)
        .order_by(Image.position)
        .limit(1)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Variant, Product, func.coalesce(Inventory.on_hand - Inventory.reserved, 0), first_image)
        .join(Product, Product.id == Variant.product_id)
        .outerjoin(Inventory, Inventory.sku == Variant.sku)
        .where(Variant.sku.in_(skus), Variant.active, Product.status == "active")
    )
    return [(variant, product, available, image) for variant, product, available, image in rows]


async def available_units(session: AsyncSession, skus: Sequence[str]) -> dict[str, int]:
    rows = await session.execute(
        select(Inventory.sku, Inventory.on_hand - Inventory.reserved).where(Inventory.sku.in_(skus))
    )
    return {sku: available for sku, available in rows}


async def count_products(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Product)) or 0


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
