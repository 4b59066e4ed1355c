"""Catalog use cases: pricing a cart, the product snapshots events carry, and stock reservations for
orders. Browsing is `browsing.py`; the staff back office (products, categories, images, inventory,
CSV) is the `merchandising` package, built on the snapshot and event helpers here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import InventoryChanged, ProductCreated, ProductUpdated, VariantSnapshot
from mercato.contracts.money import Money
from mercato.platform.errors import Conflict, NotFound, UnprocessableEntity
from mercato.platform.ids import new_id
from mercato.platform.outbox import record_event
from mercato.services.catalog import repository as repo
from mercato.services.catalog.browsing import (
    Categories,
    LoadedProduct,
    image_out,
    load_products,
    store_documents,
)
from mercato.services.catalog.domain import ReservationStatus, check_transition
from mercato.services.catalog.markets import market_out
from mercato.services.catalog.models import (
    Image,
    Market,
    Product,
    Reservation,
    ReservationLine,
    StockMovement,
    Variant,
)
from mercato.services.catalog.prices import Sales, parse
from mercato.services.catalog.schemas import (
    ReservationIn,
    ReservationLineOut,
    ReservationOut,
    ReservedOut,
    SaleRef,
    VariantInfo,
)

# --- pricing a cart ------------------------------------------------------------------------------


async def variant_infos(
    session: AsyncSession, skus: list[str], *, market: Market, image_base_url: str
) -> list[VariantInfo]:
    """The SKUs as `market` sells them: price in its currency now (None: not sold there; a sale applied,
    with the list price and the sale beside it), tax class, weight, kind, the product's categories."""
    rows = await repo.variant_infos(session, skus, currency=market.currency)
    sales = Sales(parse(rows[0].promotions if rows else ()), datetime.now(UTC))
    infos = []
    for row in rows:
        variant, product = row.variant, row.product
        category_ids = (row.category_ids or "").split()
        priced = None
        if row.amount is not None:
            priced = sales.price(
                row.amount,
                currency=market.currency,
                sku=variant.sku,
                product_id=product.id,
                category_ids=category_ids,
                market_id=market.id,
                kind=variant.kind,
            )
        sale = priced.sale if priced else None
        infos.append(
            VariantInfo(
                sku=variant.sku,
                variant_id=variant.id,
                product_id=product.id,
                product_name=product.name,
                product_slug=product.slug,
                attributes=variant.attributes,
                price=priced.price if priced else None,
                list_price=priced.list_price if priced else None,
                sale=SaleRef(promotion_id=sale.promotion_id, name=sale.name) if sale else None,
                available=max(row.available, 0),
                image_url=f"{image_base_url}/{row.image_key}" if row.image_key else None,
                tax_class=product.tax_class,  # type: ignore[arg-type]
                weight_grams=variant.weight_grams,
                category_ids=category_ids,
                kind=variant.kind,  # type: ignore[arg-type]
            )
        )
    return infos


# --- events --------------------------------------------------------------------------------------

ProductState = TypeVar("ProductState", ProductCreated, ProductUpdated)


def aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def product_state(
    event: type[ProductState],
    product: Product,
    *,
    categories: Categories,
    variants: Sequence[tuple[Variant, int]],
    prices: Callable[[Variant], tuple[Money, ...]],
    sale_prices: Callable[[Variant], tuple[Money, ...]],
    default_currency: str,
    first_image: Image | None,
    image_base_url: str,
) -> ProductState:
    """The whole product as a ProductCreated/ProductUpdated payload: the one place snapshots are built.

    `variants` are the product's, in display order, each with the units available now; `prices` gives a
    variant's price list, `sale_prices` its prices now where a sale lowers them. A variant's `price` is
    its list price in the default market (None if it has none)."""
    return event(
        product_id=product.id,
        slug=product.slug,
        name=product.name,
        brand=product.brand,
        description=product.description,
        category_id=product.category_id,
        category_path=tuple(ref.slug for ref in categories.breadcrumbs(product.category_id)),
        status=product.status,
        tax_class=product.tax_class,
        variants=tuple(
            VariantSnapshot(
                variant_id=variant.id,
                sku=variant.sku,
                attributes=variant.attributes,
                price=next((p for p in price_list if p.currency == default_currency), None),
                prices=price_list,
                sale_prices=sale_prices(variant),
                weight_grams=variant.weight_grams,
                available=max(available, 0),
            )
            for variant, available in variants
            for price_list in [prices(variant)]
        ),
        image_url=image_out(first_image, image_base_url).url if first_image else None,
        created_at=aware(product.created_at),
        updated_at=aware(product.updated_at),
    )


async def product_snapshots(
    session: AsyncSession, *, after: str | None, limit: int, image_base_url: str
) -> list[ProductCreated]:
    """Every active product as the snapshot its events carry, in id order: what a consumer that lost
    its copy (a search index rebuild) starts again from."""
    products = await repo.active_products(session, after=after, limit=limit)
    return [
        _state(ProductCreated, loaded, image_base_url=image_base_url)
        for loaded in await load_products(session, products)
    ]


def _state(event: type[ProductState], loaded: LoadedProduct, *, image_base_url: str) -> ProductState:
    return product_state(
        event,
        loaded.product,
        categories=loaded.categories,
        variants=loaded.variants,
        prices=loaded.price_list,
        sale_prices=loaded.sale_prices,
        default_currency=loaded.markets.default.currency,
        first_image=loaded.images[0] if loaded.images else None,
        image_base_url=image_base_url,
    )


EventOf = Callable[[Product], type[ProductCreated] | type[ProductUpdated]]


async def record_product_states(
    session: AsyncSession, products: Sequence[Product], *, event_of: EventOf, image_base_url: str
) -> None:
    """Record each product's whole state (ProductCreated or ProductUpdated, as `event_of` says) and
    rebuild its documents (`browsing`), in the caller's transaction: for changes that touch many products
    at once (an import, a category move)."""
    loaded = await load_products(session, products)
    for product in loaded:
        state = _state(event_of(product.product), product, image_base_url=image_base_url)
        await record_event(session, state, aggregate_id=state.product_id)
    await store_documents(session, loaded, image_base_url=image_base_url)


async def record_product_state(
    session: AsyncSession, event: type[ProductState], loaded: LoadedProduct, *, image_base_url: str
) -> None:
    """Record the product's whole state and rebuild its documents, in the caller's transaction: the
    event and the page shoppers see are built from the same loaded product, so they never disagree."""
    await record_event(
        session, _state(event, loaded, image_base_url=image_base_url), aggregate_id=loaded.product.id
    )
    await store_documents(session, [loaded], image_base_url=image_base_url)


# Why a SKU's stock changed, as InventoryChanged.reason says it.
ADJUSTED, SOLD, RESERVED, RELEASED, EXPIRED = "adjustment", "sale", "reserved", "released", "expired"
RESTOCKED = "restocked"


async def record_inventory(session: AsyncSession, level: repo.StockLevel, reason: str, now: datetime) -> None:
    await record_event(
        session,
        InventoryChanged(
            product_id=level.product_id,
            sku=level.sku,
            on_hand=level.on_hand,
            reserved=level.reserved,
            available=level.available,
            reason=reason,
            changed_at=now,
        ),
        aggregate_id=level.product_id,
    )


# --- reservations --------------------------------------------------------------------------------
#
# InventoryChanged is published whenever a SKU's units on hand change (a sale, an adjustment), and
# when a reservation, its release or its expiry changes only `reserved` but that flips the SKU between
# in stock and sold out (`available` reaching 0, or leaving it). Consumers filter on `available > 0`,
# so that is what they need to hear; every other reservation moves `available` for minutes at most
# and is left out, which keeps reserving free of outbox writes on the checkout path. The new stock
# levels come back from the UPDATE itself (RETURNING), so an event costs its INSERT and nothing else.


def _merged(data: ReservationIn) -> dict[str, int]:
    """One line per SKU (duplicates summed), sorted, so concurrent reservations lock rows in one order."""
    quantities: dict[str, int] = defaultdict(int)
    for line in data.lines:
        quantities[line.sku] += line.quantity
    return dict(sorted(quantities.items()))


def _reservation_view(reservation: Reservation, lines: dict[str, int]) -> ReservationOut:
    return ReservationOut(
        id=reservation.id,
        key=reservation.key,
        status=reservation.status,
        expires_at=reservation.expires_at,
        lines=[ReservationLineOut(sku=sku, quantity=quantity) for sku, quantity in lines.items()],
    )


async def _reservation_out(session: AsyncSession, reservation: Reservation) -> ReservationOut:
    lines = await repo.reservation_lines(session, reservation.id)
    return _reservation_view(reservation, {line.sku: line.quantity for line in lines})


async def _replay(session: AsyncSession, key: str, wanted: dict[str, int]) -> ReservationOut:
    existing = await repo.reservation_by_key(session, key)
    if existing is None:  # pragma: no cover - the unique key said it exists
        raise Conflict("A reservation with this key is being created; retry.")
    out = await _reservation_out(session, existing)
    if {line.sku: line.quantity for line in out.lines} != wanted:
        raise Conflict(
            "A reservation with this key already exists for different lines.",
            errors={"key": "was used for different lines"},
        )
    return out


async def reserve(
    session: AsyncSession,
    data: ReservationIn,
    *,
    market: Market,
    default_ttl: int,
    max_ttl: int,
    image_base_url: str,
) -> tuple[ReservedOut, bool]:
    """Hold stock for every line, or for none; price what is held in `market`. Returns (reservation,
    created). A SKU no longer sold (archived product, inactive variant) is refused like one out of stock;
    one without a price in the market's currency as not sold in the market."""
    wanted = _merged(data)
    ttl = data.ttl_seconds or default_ttl
    if ttl > max_ttl:
        raise UnprocessableEntity(
            f"ttl_seconds may be at most {max_ttl}.", errors={"ttl_seconds": "is too long"}
        )
    now = datetime.now(UTC)
    reservation = Reservation(
        id=new_id("res"),
        key=data.key,
        status=ReservationStatus.ACTIVE,
        expires_at=now + timedelta(seconds=ttl),
        created_at=now,
        updated_at=now,
    )
    # Claim the key first: a concurrent duplicate waits here, then replays instead of reserving twice.
    if not await repo.claim_reservation_key(session, reservation):
        replayed = await _replay(session, data.key, wanted)
        items = await variant_infos(session, list(wanted), market=market, image_base_url=image_base_url)
        return ReservedOut(**replayed.model_dump(), market=market_out(market), items=items), False

    items = await variant_infos(session, list(wanted), market=market, image_base_url=image_base_url)
    if not_sold := [sku for sku in wanted if sku not in {item.sku for item in items}]:
        known = await repo.available_units(session, not_sold)
        if unknown := [sku for sku in not_sold if sku not in known]:
            raise UnprocessableEntity(
                "Some SKUs do not exist.", errors={f"lines.{sku}": "is not a known SKU" for sku in unknown}
            )
        raise Conflict(
            "Some items are no longer sold.",
            slug="out-of-stock",
            unavailable=[{"sku": sku, "requested": wanted[sku], "available": 0} for sku in not_sold],
        )
    if unpriced := [item.sku for item in items if item.price is None]:
        raise Conflict(
            f"Some items are not sold in the {market.name} market.",
            slug="not-sold-in-market",
            market=market.id,
            unavailable=[{"sku": sku, "reason": "not_sold_in_market"} for sku in unpriced],
        )
    short = await _take_stock(session, wanted, list(wanted), now)
    if short and await expire_due(session, now, skus=short):
        short = await _take_stock(session, wanted, short, now)
    if short:  # only now find out why: the happy path costs no extra query
        available = await repo.available_units(session, short)
        if unknown := [sku for sku in short if sku not in available]:
            raise UnprocessableEntity(
                "Some SKUs do not exist.", errors={f"lines.{sku}": "is not a known SKU" for sku in unknown}
            )
        raise Conflict(
            "Not enough stock for some items.",
            slug="out-of-stock",
            unavailable=[
                {"sku": sku, "requested": wanted[sku], "available": available[sku]} for sku in short
            ],
        )
    await repo.insert_many(
        session,
        ReservationLine,
        [{"reservation_id": reservation.id, "sku": sku, "quantity": q} for sku, q in wanted.items()],
    )
    view = _reservation_view(reservation, wanted).model_dump()
    return ReservedOut(**view, market=market_out(market), items=items), True


async def _take_stock(
    session: AsyncSession, wanted: dict[str, int], skus: list[str], now: datetime
) -> list[str]:
    """Reserve each SKU's units; returns the SKUs that fell short (the caller then refuses, and the whole
    transaction, events included, rolls back). A sell-out is recorded as it happens, so that an expiry
    that puts the SKU back in stock later in this transaction is told after it, as it happened."""
    short = []
    for sku in skus:
        level = await repo.take_stock(session, sku, wanted[sku], now)
        if level is None:
            short.append(sku)
        elif level.available == 0:
            await record_inventory(session, level, RESERVED, now)
    return short


async def _return_stock(
    session: AsyncSession, lines: list[ReservationLine], reason: str, now: datetime
) -> None:
    """Put a released or expired reservation's units back; tell when that brings a SKU back in stock."""
    for line in lines:
        level = await repo.return_stock(session, line.sku, line.quantity, now)
        if level is not None and level.available - line.quantity <= 0 < level.available:
            await record_inventory(session, level, reason, now)


async def _ship_stock(session: AsyncSession, lines: list[ReservationLine], now: datetime) -> None:
    """A committed reservation's units leave stock: on hand changes, so every SKU's change is told."""
    for line in lines:
        level = await repo.ship_stock(session, line.sku, line.quantity, now)
        if level is not None:
            await record_inventory(session, level, SOLD, now)


async def _end(session: AsyncSession, reservation_id: str, target: ReservationStatus) -> ReservationOut:
    reservation = await repo.reservation_by_id_or_key(session, reservation_id)
    if reservation is None:
        raise NotFound("There is no such reservation.")
    lines = await repo.reservation_lines(session, reservation.id)  # never change once written
    if check_transition(reservation.status, target):
        now = datetime.now(UTC)
        if not await repo.set_reservation_status(
            session, reservation.id, expected=ReservationStatus.ACTIVE, status=target, now=now
        ):
            raise Conflict("The reservation changed concurrently; retry.")
        if target == ReservationStatus.COMMITTED:
            await _ship_stock(session, lines, now)
        else:
            await _return_stock(session, lines, RELEASED, now)
        reservation.status = target
    return _reservation_view(reservation, {line.sku: line.quantity for line in lines})


async def commit_reservation(session: AsyncSession, reservation_id: str) -> ReservationOut:
    """The paid order's units leave stock. The usual case — an active reservation — ends it and reads
    it back in one UPDATE … RETURNING; a repeat, or one no longer active, answers as it stands."""
    now = datetime.now(UTC)
    reservation = await repo.end_active_reservation(
        session, reservation_id, status=ReservationStatus.COMMITTED, now=now
    )
    if reservation is None:
        return await _end(session, reservation_id, ReservationStatus.COMMITTED)
    lines = await repo.reservation_lines(session, reservation.id)
    await _ship_stock(session, lines, now)
    return _reservation_view(reservation, {line.sku: line.quantity for line in lines})


async def release_reservation(session: AsyncSession, reservation_id: str) -> ReservationOut:
    return await _end(session, reservation_id, ReservationStatus.RELEASED)


async def restock_cancelled_order(session: AsyncSession, order_id: str) -> str | None:
    """An order was cancelled: its stock comes back. A reservation still held is released; a committed
    one (the units had left on hand) is restocked. Returns what happened, None if nothing was held."""
    reservation = await repo.reservation_by_key(session, order_id)  # orders reserves under the order id
    if reservation is None:
        return None
    if reservation.status == ReservationStatus.ACTIVE:
        await _end(session, reservation.id, ReservationStatus.RELEASED)
        return ReservationStatus.RELEASED
    if reservation.status != ReservationStatus.COMMITTED:
        return None  # released, expired or restocked already: the units are back
    now = datetime.now(UTC)
    restocked = await repo.set_reservation_status(
        session,
        reservation.id,
        expected=ReservationStatus.COMMITTED,
        status=ReservationStatus.RESTOCKED,
        now=now,
    )
    if not restocked:
        raise Conflict("The reservation changed concurrently; retry.")
    lines = await repo.reservation_lines(session, reservation.id)
    movements = []
    for line in lines:
        level = await repo.adjust_on_hand(session, line.sku, line.quantity, now)
        if level is not None:
            await record_inventory(session, level, RESTOCKED, now)
        movements.append(
            StockMovement(
                id=new_id("stm"),
                sku=line.sku,
                delta=line.quantity,
                reason=RESTOCKED,
                note=f"order {order_id} cancelled",
                created_at=now,
            )
        )
    await repo.add_all(session, movements)
    return ReservationStatus.RESTOCKED


async def get_reservation(session: AsyncSession, reservation_id: str) -> ReservationOut:
    reservation = await repo.reservation_by_id_or_key(session, reservation_id)
    if reservation is None:
        raise NotFound("There is no such reservation.")
    return await _reservation_out(session, reservation)


async def expire_due(session: AsyncSession, now: datetime, *, skus: list[str] | None = None) -> int:
    """Return the stock of reservations whose TTL has passed. Returns how many expired."""
    expired = 0
    for reservation_id in await repo.expired_reservation_ids(session, now, skus=skus):
        if await repo.set_reservation_status(
            session,
            reservation_id,
            expected=ReservationStatus.ACTIVE,
            status=ReservationStatus.EXPIRED,
            now=now,
        ):
            await _return_stock(session, await repo.reservation_lines(session, reservation_id), EXPIRED, now)
            expired += 1
    return expired
