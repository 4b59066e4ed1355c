"""A product's variants: added and changed one at a time, each change published with the whole product.

Each variant has a price list — one price per currency; with no price in a market's currency it is not
sold in that market — and no two have the very same attributes (shoppers could not pick between them).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.platform.errors import Conflict, NotFound
from mercato.platform.ids import new_id
from mercato.platform.staff import Staff
from mercato.services.catalog import repository as catalog_repo
from mercato.services.catalog.merchandising import repository as repo
from mercato.services.catalog.merchandising.images import Media
from mercato.services.catalog.merchandising.preconditions import check_if_match
from mercato.services.catalog.merchandising.products import (
    INITIAL_STOCK,
    finish,
    load_view,
    locked,
    price_rows,
    same_attributes,
    stock_rows,
)
from mercato.services.catalog.merchandising.schemas import AdminProduct, VariantIn, VariantPatch, price_list
from mercato.services.catalog.models import Variant


async def add_variant(
    session: AsyncSession,
    staff: Staff,
    id_or_slug: str,
    data: VariantIn,
    *,
    if_match: str | None,
    media: Media,
) -> AdminProduct:
    product = await locked(session, id_or_slug)
    before = await load_view(session, product, media)
    check_if_match(if_match, before, required=False)
    variants = await repo.variants_of(session, [product.id])
    if taken := await repo.variants_by_sku(session, [data.sku]):
        owner = await repo.slugs_of(session, [taken[data.sku].product_id])
        raise Conflict(
            f"The SKU {data.sku} belongs to a product already.",
            errors={"sku": f"is taken by {owner.get(taken[data.sku].product_id, 'another product')}"},
        )
    if clash := same_attributes([*((v.sku, v.attributes) for v in variants), (data.sku, data.attributes)]):
        raise Conflict(
            "Another variant of this product has these very attributes.",
            errors={"attributes": f"are those of {clash[data.sku]}"},
        )
    now = datetime.now(UTC)
    variant = Variant(
        id=new_id("var"),
        product_id=product.id,
        sku=data.sku,
        attributes=data.attributes,
        weight_grams=data.weight_grams,
        kind=data.kind,
        position=max((v.position for v in variants), default=-1) + 1,
        active=data.active,
    )
    try:
        await catalog_repo.add_checked(session, [variant])
    except catalog_repo.DuplicateKey:
        raise Conflict(
            f"The SKU {data.sku} belongs to a product already.", errors={"sku": "is taken"}
        ) from None
    rows = price_rows(variant.id, data.price_list) + stock_rows(
        variant, data.stock, staff, now, INITIAL_STOCK
    )
    await catalog_repo.add_all(session, rows)
    return await finish(
        session,
        staff,
        product,
        before,
        media,
        action="variant.create",
        target=("variant", variant.id),
        details={"sku": variant.sku, "product_id": product.id},
    )


async def update_variant(
    session: AsyncSession,
    staff: Staff,
    id_or_slug: str,
    sku: str,
    patch: VariantPatch,
    *,
    if_match: str | None,
    media: Media,
) -> AdminProduct:
    product = await locked(session, id_or_slug)
    before = await load_view(session, product, media)
    check_if_match(if_match, before, required=True)
    variants = await repo.variants_of(session, [product.id])
    variant = next((v for v in variants if v.sku == sku), None)
    if variant is None:
        raise NotFound(f"The product has no variant {sku!r}.")
    others = [v for v in variants if v.sku != sku]
    fields: list[str] = []
    if patch.prices is not None or patch.price is not None:
        current = (await catalog_repo.prices_of(session, [product.id])).get(variant.id, {})
        wanted = price_list(*patch.prices) if patch.prices is not None else dict(current)
        if patch.price is not None:
            wanted = dict(sorted((wanted | {patch.price.currency: patch.price.amount}).items()))
        if wanted != current:
            fields.append("prices")
            await repo.replace_prices(session, variant.id, price_rows(variant.id, wanted))
    if patch.weight_grams is not None:
        if variant.weight_grams != patch.weight_grams:
            fields.append("weight_grams")
        variant.weight_grams = patch.weight_grams
    if patch.kind is not None:
        if variant.kind != patch.kind:
            fields.append("kind")
        variant.kind = patch.kind
    if patch.attributes is not None:
        if clash := same_attributes([*((v.sku, v.attributes) for v in others), (sku, patch.attributes)]):
            raise Conflict(
                "Another variant of this product has these very attributes.",
                errors={"attributes": f"are those of {clash[sku]}"},
            )
        if variant.attributes != patch.attributes:
            fields.append("attributes")
        variant.attributes = patch.attributes
    if patch.active is not None:
        if variant.active != patch.active:
            fields.append("active")
        variant.active = patch.active
    return await finish(
        session,
        staff,
        product,
        before,
        media,
        action="variant.update",
        target=("variant", variant.id),
        details={"sku": sku, "product_id": product.id, "fields": ",".join(fields)},
    )
