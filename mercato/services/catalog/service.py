"""Catalog use cases: browsing, stock reservations for orders, and merchandising writes."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.money import Money
from mercato.platform.errors import Conflict, NotFound, UnprocessableEntity
from mercato.platform.ids import new_id
from mercato.services.catalog import repository as repo
from mercato.services.catalog.domain import ReservationStatus, check_transition
from mercato.services.catalog.models import (
    Category,
    Image,
    Inventory,
    Product,
    Reservation,
    ReservationLine,
    StockMovement,
    Variant,
)
from mercato.services.catalog.schemas import (
    CategoryNode,
    CategoryRef,
    CategoryTree,
    ImageOut,
    PriceRange,
    ProductDetail,
    ProductIn,
    ProductSummary,
    ReservationIn,
    ReservationLineOut,
    ReservationOut,
    StockAdjustmentIn,
    StockOut,
    VariantInfo,
    VariantOut,
)

# --- browsing ------------------------------------------------------------------------------------


def _ref(category: Category) -> CategoryRef:
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
            trail.append(_ref(node))
            node = self.by_id.get(node.parent_id) if node.parent_id else None
        return trail[::-1]

    def tree(self, parent_id: str | None = None) -> list[CategoryNode]:
        return [
            CategoryNode(id=c.id, slug=c.slug, name=c.name, children=self.tree(c.id))
            for c in self.children[parent_id]
        ]


async def category_tree(session: AsyncSession) -> CategoryTree:
    return CategoryTree(data=Categories(await repo.all_categories(session)).tree())


def _image_out(image: Image, base_url: str) -> ImageOut:
    return ImageOut(
        id=image.id, url=f"{base_url}/{image.storage_key}", alt=image.alt, content_type=image.content_type
    )


def _price_range(variants: list[tuple[Variant, int]]) -> PriceRange:
    prices = [v.price_amount for v, _ in variants]
    currency = variants[0][0].currency
    return PriceRange(
        min=Money(amount=min(prices), currency=currency), max=Money(amount=max(prices), currency=currency)
    )


async def _first_images(session: AsyncSession, product_ids: list[str]) -> dict[str, Image]:
    first: dict[str, Image] = {}
    for image in await repo.images_of(session, product_ids):
        first.setdefault(image.product_id, image)
    return first


async def list_products(
    session: AsyncSession, *, category: str | None, after: str | None, limit: int, image_base_url: str
) -> list[ProductSummary]:
    categories = Categories(await repo.all_categories(session))
    category_ids = None
    if category is not None:
        root = categories.find(category)
        if root is None:
            raise NotFound(
                f"There is no category {category!r}.", errors={"category": "is not a known category"}
            )
        category_ids = categories.subtree_ids(root)
    products = await repo.products_page(session, category_ids=category_ids, after=after, limit=limit)
    ids = [p.id for p in products]
    variants: dict[str, list[tuple[Variant, int]]] = defaultdict(list)
    for variant, available in await repo.variants_with_stock(session, ids):
        variants[variant.product_id].append((variant, available))
    first_image = await _first_images(session, ids)
    return [
        ProductSummary(
            id=p.id,
            slug=p.slug,
            name=p.name,
            brand=p.brand,
            category=_ref(categories.by_id[p.category_id]),
            price_range=_price_range(variants[p.id]),
            available=any(available > 0 for _, available in variants[p.id]),
            image=_image_out(first_image[p.id], image_base_url) if p.id in first_image else None,
        )
        for p in products
        if variants[p.id]
    ]


async def product_detail(session: AsyncSession, id_or_slug: str, *, image_base_url: str) -> ProductDetail:
    product = await repo.product_by_id_or_slug(session, id_or_slug)
    if product is None:
        raise NotFound(f"There is no product {id_or_slug!r}.")
    categories = Categories(await repo.all_categories(session))
    variants = await repo.variants_with_stock(session, [product.id])
    images = await repo.images_of(session, [product.id])
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
        category=_ref(categories.by_id[product.category_id]),
        breadcrumbs=categories.breadcrumbs(product.category_id),
        price_range=_price_range(variants),
        available=any(available > 0 for _, available in variants),
        variants=[
            VariantOut(
                id=v.id,
                sku=v.sku,
                attributes=v.attributes,
                price=Money(amount=v.price_amount, currency=v.currency),
                available=max(available, 0),
            )
            for v, available in variants
        ],
        images=[_image_out(image, image_base_url) for image in images],
        attributes=dict(attributes),
        updated_at=product.updated_at,
    )


async def variant_infos(session: AsyncSession, skus: list[str], *, image_base_url: str) -> list[VariantInfo]:
    rows = await repo.variant_infos(session, skus)
    first_image = await _first_images(session, list({product.id for _, product, _ in rows}))
    return [
        VariantInfo(
            sku=variant.sku,
            variant_id=variant.id,
            product_id=product.id,
            product_name=product.name,
            product_slug=product.slug,
            attributes=variant.attributes,
            price=Money(amount=variant.price_amount, currency=variant.currency),
            available=max(available, 0),
            image_url=_image_out(first_image[product.id], image_base_url).url
            if product.id in first_image
            else None,
        )
        for variant, product, available in rows
    ]


# --- reservations --------------------------------------------------------------------------------


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
    session: AsyncSession, data: ReservationIn, *, default_ttl: int, max_ttl: int
) -> tuple[ReservationOut, bool]:
    """Hold stock for every line, or for none. Returns (reservation, created)."""
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
    try:
        await repo.add_checked(session, [reservation])
    except repo.DuplicateKey:
        return await _replay(session, data.key, wanted), False

    short = [
        sku for sku, quantity in wanted.items() if not await repo.take_stock(session, sku, quantity, now)
    ]
    if short and await expire_due(session, now, skus=short):
        short = [sku for sku in short if not await repo.take_stock(session, sku, wanted[sku], now)]
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
    return _reservation_view(reservation, wanted), True


async def _end(session: AsyncSession, reservation_id: str, target: ReservationStatus) -> ReservationOut:
    reservation = await repo.reservation_by_id_or_key(session, reservation_id)
    if reservation is None:
        raise NotFound("There is no such reservation.")
    if check_transition(reservation.status, target):
        now = datetime.now(UTC)
        if not await repo.set_reservation_status(
            session, reservation.id, expected=ReservationStatus.ACTIVE, status=target, now=now
        ):
            raise Conflict("The reservation changed concurrently; retry.")
        move = repo.ship_stock if target == ReservationStatus.COMMITTED else repo.return_stock
        for line in await repo.reservation_lines(session, reservation.id):
            await move(session, line.sku, line.quantity, now)
        reservation.status = target
    return await _reservation_out(session, reservation)


async def commit_reservation(session: AsyncSession, reservation_id: str) -> ReservationOut:
    return await _end(session, reservation_id, ReservationStatus.COMMITTED)


async def release_reservation(session: AsyncSession, reservation_id: str) -> ReservationOut:
    return await _end(session, reservation_id, ReservationStatus.RELEASED)


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
            for line in await repo.reservation_lines(session, reservation_id):
                await repo.return_stock(session, line.sku, line.quantity, now)
            expired += 1
    return expired


# --- merchandising -------------------------------------------------------------------------------


async def create_product(session: AsyncSession, data: ProductIn, *, image_base_url: str) -> ProductDetail:
    category = await repo.category_by_slug(session, data.category)
    if category is None:
        raise UnprocessableEntity("Unknown category.", errors={"category": "is not a known category"})
    skus = [v.sku for v in data.variants]
    if len(set(skus)) != len(skus):
        raise UnprocessableEntity("Each variant needs its own SKU.", errors={"variants": "repeat a SKU"})
    now = datetime.now(UTC)
    product = Product(
        id=new_id("prod"),
        slug=data.slug,
        name=data.name,
        brand=data.brand,
        description=data.description,
        category_id=category.id,
        status="active",
        created_at=now,
        updated_at=now,
    )
    variants = [
        Variant(
            id=new_id("var"),
            product_id=product.id,
            sku=v.sku,
            attributes=v.attributes,
            price_amount=v.price_amount,
            currency=data.currency,
            position=i,
        )
        for i, v in enumerate(data.variants)
    ]
    try:
        await repo.add_checked(session, [product, *variants])
    except repo.DuplicateKey:
        raise Conflict("A product with this slug, or a variant with one of these SKUs, exists.") from None
    await repo.add_all(
        session, [Inventory(sku=v.sku, on_hand=v.stock, reserved=0, updated_at=now) for v in data.variants]
    )
    return await product_detail(session, product.id, image_base_url=image_base_url)


async def adjust_stock(session: AsyncSession, sku: str, data: StockAdjustmentIn) -> StockOut:
    now = datetime.now(UTC)
    if await repo.stock(session, sku) is None:
        raise NotFound(f"There is no SKU {sku!r}.")
    if not await repo.adjust_on_hand(session, sku, data.delta, now):
        raise Conflict("Stock on hand can't drop below the units reserved for orders.")
    await repo.add_all(
        session,
        [StockMovement(id=new_id("stm"), sku=sku, delta=data.delta, reason=data.reason, created_at=now)],
    )
    inventory = await repo.stock(session, sku)
    assert inventory is not None
    await session.refresh(inventory)
    return StockOut(
        sku=sku,
        on_hand=inventory.on_hand,
        reserved=inventory.reserved,
        available=inventory.on_hand - inventory.reserved,
    )
