"""Products and variants as merchandisers see and change them, whatever their status.

Each change that a shopper or search could notice is published with the whole product
(ProductCreated/ProductUpdated, only its active variants, each with the units available) and put on
the audit trail, in the transaction that makes it. A write that changes nothing publishes and records
nothing. `updated_at` moves with every published change: search orders snapshots by it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import ProductCreated, ProductUpdated
from mercato.contracts.money import Money
from mercato.platform.errors import Conflict, NotFound, UnprocessableEntity
from mercato.platform.ids import new_id
from mercato.platform.staff import Staff, record_staff_action
from mercato.platform.storage import content_type_of
from mercato.services.catalog import repository as catalog_repo
from mercato.services.catalog.browsing import Categories, category_ref, load_product
from mercato.services.catalog.markets import load as load_markets
from mercato.services.catalog.merchandising import SERVICE
from mercato.services.catalog.merchandising import repository as repo
from mercato.services.catalog.merchandising.images import Media
from mercato.services.catalog.merchandising.preconditions import check_if_match
from mercato.services.catalog.merchandising.schemas import (
    AdminImage,
    AdminProduct,
    AdminProductSummary,
    AdminVariant,
    ImageRef,
    ProductIn,
    ProductPatch,
)
from mercato.services.catalog.models import Image, Inventory, Product, StockMovement, Variant, VariantPrice
from mercato.services.catalog.schemas import PriceRange
from mercato.services.catalog.service import aware, record_product_state

INITIAL_STOCK = "initial stock"

# --- views ----------------------------------------------------------------------------------------


def image_view(image: Image, media: Media) -> AdminImage:
    return AdminImage(
        name=image.storage_key,
        url=media.url(image.storage_key),
        alt=image.alt,
        content_type=image.content_type,
    )


def money(prices: dict[str, int], currency: str) -> Money | None:
    return Money(amount=prices[currency], currency=currency) if currency in prices else None


def admin_view(
    product: Product,
    *,
    categories: Categories,
    variants: Sequence[Variant],
    prices: dict[str, dict[str, int]],
    default_currency: str,
    images: Sequence[Image],
    media: Media,
) -> AdminProduct:
    return AdminProduct(
        id=product.id,
        slug=product.slug,
        name=product.name,
        brand=product.brand,
        description=product.description,
        status=product.status,  # type: ignore[arg-type]
        tax_class=product.tax_class,  # type: ignore[arg-type]
        category=category_ref(categories.by_id[product.category_id]),
        attributes=product.attributes,
        images=[image_view(image, media) for image in images],
        variants=[
            AdminVariant(
                id=v.id,
                sku=v.sku,
                attributes=v.attributes,
                price=money(listed, default_currency),
                prices=[Money(amount=amount, currency=currency) for currency, amount in listed.items()],
                weight_grams=v.weight_grams,
                kind=v.kind,  # type: ignore[arg-type]
                active=v.active,
            )
            for v in variants
            for listed in [prices.get(v.id, {})]
        ],
        created_at=aware(product.created_at),
        updated_at=aware(product.updated_at),
    )


async def load_view(session: AsyncSession, product: Product, media: Media) -> AdminProduct:
    return admin_view(
        product,
        categories=Categories(await catalog_repo.all_categories(session)),
        variants=await repo.variants_of(session, [product.id]),
        prices=await catalog_repo.prices_of(session, [product.id]),
        default_currency=(await load_markets(session)).default.currency,
        images=await repo.images_of(session, [product.id]),
        media=media,
    )


async def get_product(session: AsyncSession, id_or_slug: str, media: Media) -> AdminProduct:
    product = await repo.product(session, id_or_slug)
    if product is None:
        raise NotFound(f"There is no product {id_or_slug!r}.")
    return await load_view(session, product, media)


async def product_query(
    session: AsyncSession, *, text: str | None, status: str | None, category: str | None
) -> repo.ProductQuery:
    """The list's filters, the category resolved to its whole subtree."""
    category_ids = None
    if category is not None:
        categories = Categories(await catalog_repo.all_categories(session))
        root = categories.find(category)
        if root is None:
            raise UnprocessableEntity(
                f"There is no category {category!r}.", errors={"category": "is not a known category"}
            )
        category_ids = categories.subtree_ids(root)
    return repo.ProductQuery(text=(text or "").strip() or None, status=status, category_ids=category_ids)


async def list_products(
    session: AsyncSession, where: repo.ProductQuery, *, before: str | None, limit: int, media: Media
) -> list[AdminProductSummary]:
    products = await repo.products_page(session, where, before=before, limit=limit)
    ids = [p.id for p in products]
    categories = Categories(await catalog_repo.all_categories(session))
    variants: dict[str, list[tuple[Variant, int]]] = defaultdict(list)
    for variant, available in await catalog_repo.variants_with_stock(session, ids, active_only=False):
        variants[variant.product_id].append((variant, available))
    first_image: dict[str, Image] = {}
    for image in await repo.images_of(session, ids):
        first_image.setdefault(image.product_id, image)
    price_lists = await catalog_repo.prices_of(session, ids)
    currency = (await load_markets(session)).default.currency
    summaries = []
    for p in products:
        on_sale = [(v, available) for v, available in variants[p.id] if v.active]
        prices = [price_lists[v.id][currency] for v, _ in on_sale if currency in price_lists.get(v.id, {})]
        summaries.append(
            AdminProductSummary(
                id=p.id,
                slug=p.slug,
                name=p.name,
                brand=p.brand,
                status=p.status,  # type: ignore[arg-type]
                category=category_ref(categories.by_id[p.category_id]),
                variants=len(variants[p.id]),
                price_range=PriceRange(
                    min=Money(amount=min(prices), currency=currency),
                    max=Money(amount=max(prices), currency=currency),
                )
                if prices
                else None,
                available=sum(max(available, 0) for _, available in on_sale),
                image=image_view(first_image[p.id], media) if p.id in first_image else None,
                updated_at=aware(p.updated_at),
            )
        )
    return summaries


# --- shared by every write ------------------------------------------------------------------------


async def locked(session: AsyncSession, id_or_slug: str) -> Product:
    """The product, its row locked until the transaction ends: the If-Match check and the write it
    guards see the same product, however writers race."""
    product = await repo.product(session, id_or_slug, for_update=True)
    if product is None:
        raise NotFound(f"There is no product {id_or_slug!r}.")
    return product


async def publish(
    session: AsyncSession,
    product: Product,
    media: Media,
    *,
    event: type[ProductCreated] | type[ProductUpdated] = ProductUpdated,
) -> None:
    """Publish the product as shoppers and search now see it (active variants, units available)."""
    await record_product_state(
        session, event, await load_product(session, product), image_base_url=media.base_url
    )


def _changed(before: AdminProduct, after: AdminProduct) -> list[str]:
    return [
        field
        for field in type(before).model_fields
        if field != "updated_at" and getattr(before, field) != getattr(after, field)
    ]


async def _saved(session: AsyncSession) -> None:
    try:
        await repo.flush_checked(session)
    except catalog_repo.DuplicateKey:
        raise Conflict("A product with this slug, or a variant with this SKU, exists already.") from None


async def image_errors(images: Sequence[ImageRef], media: Media, *, field: str = "images") -> dict[str, str]:
    errors: dict[str, str] = {}
    missing = await media.missing(ref.name for ref in images)
    seen: set[str] = set()
    for index, ref in enumerate(images):
        if ref.name in missing:
            errors[f"{field}.{index}.name"] = "is not an uploaded image"
        elif ref.name in seen:
            errors[f"{field}.{index}.name"] = "is listed twice"
        seen.add(ref.name)
    return errors


async def replace_images(
    session: AsyncSession, product: Product, wanted: Sequence[tuple[str, str]], current: Sequence[Image]
) -> bool:
    """Give the product exactly these (name, alt) images in this order, keeping the ids of those it
    already had. Returns whether anything changed."""
    if [(image.storage_key, image.alt) for image in current] == list(wanted):
        return False
    kept = {image.storage_key: image for image in current}
    rows = []
    for position, (name, alt) in enumerate(wanted):
        image = kept.pop(name, None) or Image(
            id=new_id("img"), product_id=product.id, storage_key=name, content_type=content_type_of(name)
        )
        image.alt, image.position = alt, position
        rows.append(image)
    await repo.delete_rows(session, list(kept.values()))
    await catalog_repo.add_all(session, rows)
    return True


def same_attributes(variants: Sequence[tuple[str, dict[str, str]]]) -> dict[str, str]:
    """SKU -> the SKU before it with the very same attributes: shoppers could not tell them apart."""
    seen: dict[tuple[tuple[str, str], ...], str] = {}
    clashes: dict[str, str] = {}
    for sku, attributes in variants:
        key = tuple(sorted(attributes.items()))
        if key in seen:
            clashes[sku] = seen[key]
        seen.setdefault(key, sku)
    return clashes


def price_rows(variant_id: str, prices: dict[str, int]) -> list[object]:
    return [VariantPrice(variant_id=variant_id, currency=c, amount=a) for c, a in prices.items()]


def stock_rows(variant: Variant, stock: int, staff: Staff, now: datetime, note: str) -> list[object]:
    rows: list[object] = [Inventory(sku=variant.sku, on_hand=stock, reserved=0, updated_at=now)]
    if stock:
        rows.append(
            StockMovement(
                id=new_id("stm"),
                sku=variant.sku,
                delta=stock,
                reason="received",
                note=note,
                staff_id=staff.id,
                created_at=now,
            )
        )
    return rows


# --- products -------------------------------------------------------------------------------------


async def create_product(session: AsyncSession, staff: Staff, data: ProductIn, media: Media) -> AdminProduct:
    category = await repo.category(session, data.category)
    errors: dict[str, str] = {} if category else {"category": "is not a known category"}
    first_index: dict[str, int] = {}
    for index, variant in enumerate(data.variants):
        if variant.sku in first_index:
            errors[f"variants.{index}.sku"] = f"repeats the SKU of variants.{first_index[variant.sku]}"
        first_index.setdefault(variant.sku, index)
    for sku, earlier in same_attributes([(v.sku, v.attributes) for v in data.variants]).items():
        errors[f"variants.{first_index[sku]}.attributes"] = (
            f"are those of {earlier}; each variant needs its own"
        )
    errors |= await image_errors(data.images, media)
    if errors:
        raise UnprocessableEntity("The product has invalid fields; see `errors`.", errors=errors)
    assert category is not None
    if await repo.product(session, data.slug):
        raise Conflict(f"A product with the slug {data.slug!r} exists already.", errors={"slug": "is taken"})
    if taken := await repo.variants_by_sku(session, list(first_index)):
        raise Conflict(
            "Some SKUs belong to other products already.",
            errors={f"variants.{first_index[sku]}.sku": "is taken" for sku in taken},
        )

    now = datetime.now(UTC)
    product = Product(
        id=new_id("prod"),
        slug=data.slug,
        name=data.name,
        brand=data.brand,
        description=data.description,
        category_id=category.id,
        status=data.status,
        tax_class=data.tax_class,
        attributes=data.attributes,
        created_at=now,
        updated_at=now,
    )
    variants = [
        Variant(
            id=new_id("var"),
            product_id=product.id,
            sku=v.sku,
            attributes=v.attributes,
            weight_grams=v.weight_grams,
            kind=v.kind,
            position=position,
            active=v.active,
        )
        for position, v in enumerate(data.variants)
    ]
    try:
        await catalog_repo.add_checked(session, [product, *variants])
    except catalog_repo.DuplicateKey:  # a concurrent create took the slug or a SKU since we looked
        raise Conflict(
            "A product with this slug, or a variant with one of these SKUs, exists already."
        ) from None
    rows: list[object] = []
    for variant, given in zip(variants, data.variants, strict=True):
        rows += price_rows(variant.id, given.price_list)
        rows += stock_rows(variant, given.stock, staff, now, INITIAL_STOCK)
    await catalog_repo.add_all(session, rows)
    await replace_images(session, product, [(ref.name, ref.alt or product.name) for ref in data.images], [])
    # The snapshot carries each variant's initial stock: no InventoryChanged for it.
    await publish(session, product, media, event=ProductCreated)
    await record_staff_action(
        session,
        staff,
        "product.create",
        service=SERVICE,
        target_type="product",
        target_id=product.id,
        details={"slug": product.slug, "status": product.status, "variants": len(variants)},
    )
    return await load_view(session, product, media)


async def update_product(
    session: AsyncSession,
    staff: Staff,
    id_or_slug: str,
    patch: ProductPatch,
    *,
    if_match: str | None,
    media: Media,
) -> AdminProduct:
    product = await locked(session, id_or_slug)
    before = await load_view(session, product, media)
    check_if_match(if_match, before, required=True)
    changes = patch.model_dump(exclude_unset=True)
    errors: dict[str, str] = {}
    category = await repo.category(session, patch.category) if patch.category is not None else None
    if patch.category is not None and category is None:
        errors["category"] = "is not a known category"
    if patch.images is not None:
        errors |= await image_errors(patch.images, media)
    if errors:
        raise UnprocessableEntity("The change has invalid fields; see `errors`.", errors=errors)
    if patch.slug is not None and patch.slug != product.slug and await repo.product(session, patch.slug):
        raise Conflict(f"A product with the slug {patch.slug!r} exists already.", errors={"slug": "is taken"})

    for field in ("slug", "name", "brand", "description", "status", "tax_class", "attributes"):
        if field in changes:
            setattr(product, field, changes[field])
    if category is not None:
        product.category_id = category.id
    if patch.images is not None:
        current = await repo.images_of(session, [product.id])
        await replace_images(
            session, product, [(ref.name, ref.alt or product.name) for ref in patch.images], current
        )
    return await finish(session, staff, product, before, media, action="product.update")


async def finish(
    session: AsyncSession,
    staff: Staff,
    product: Product,
    before: AdminProduct,
    media: Media,
    *,
    action: str,
    target: tuple[str, str] | None = None,
    details: dict[str, str | int | bool | None] | None = None,
) -> AdminProduct:
    """After a change to a product or one of its variants: save, publish and audit — if anything changed."""
    await _saved(session)
    after = await load_view(session, product, media)
    changed = _changed(before, after)
    if not changed:
        return before
    product.updated_at = datetime.now(UTC)
    await _saved(session)
    await publish(session, product, media)
    target_type, target_id = target or ("product", product.id)
    await record_staff_action(
        session,
        staff,
        action,
        service=SERVICE,
        target_type=target_type,
        target_id=target_id,
        details={"fields": ",".join(changed), **(details or {})},
    )
    return after.model_copy(update={"updated_at": aware(product.updated_at)})


async def set_status(
    session: AsyncSession,
    staff: Staff,
    id_or_slug: str,
    status: str,
    *,
    if_match: str | None,
    media: Media,
) -> AdminProduct:
    """Archive (out of the shop and search; carts can't buy it) or bring an archived product back
    (active). Repeating it is harmless; unarchiving a product that is not archived changes nothing."""
    product = await locked(session, id_or_slug)
    before = await load_view(session, product, media)
    check_if_match(if_match, before, required=False)
    if status == "active" and product.status != "archived":
        return before
    previous, product.status = product.status, status
    action = "product.archive" if status == "archived" else "product.unarchive"
    return await finish(session, staff, product, before, media, action=action, details={"from": previous})
