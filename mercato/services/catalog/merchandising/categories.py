"""Categories: create, rename, move and delete, keeping the tree a tree.

Products' events carry their category path (slugs from the root down), and search files products by
it. So when a category's slug changes or it moves, every product under it — in its whole subtree — is
published again with its new path, in the same transaction. A new name alone changes no path, but it
shows on the product pages and list entries of the subtree: their documents are rebuilt (browsing.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import ProductUpdated
from mercato.platform.errors import Conflict, NotFound, UnprocessableEntity
from mercato.platform.ids import new_id
from mercato.platform.staff import Staff, record_staff_action
from mercato.services.catalog import repository as catalog_repo
from mercato.services.catalog.browsing import Categories, refresh_documents
from mercato.services.catalog.merchandising import SERVICE
from mercato.services.catalog.merchandising import repository as repo
from mercato.services.catalog.merchandising.images import Media
from mercato.services.catalog.merchandising.schemas import (
    AdminCategory,
    CategoryIn,
    CategoryList,
    CategoryPatch,
)
from mercato.services.catalog.models import Category
from mercato.services.catalog.service import record_product_states


def _view(category: Category, *, depth: int, products: int) -> AdminCategory:
    return AdminCategory(
        id=category.id,
        slug=category.slug,
        name=category.name,
        parent_id=category.parent_id,
        position=category.position,
        depth=depth,
        products=products,
    )


def _depth(categories: Categories, category: Category) -> int:
    return len(categories.breadcrumbs(category.id)) - 1


async def list_categories(session: AsyncSession) -> CategoryList:
    categories = Categories(await catalog_repo.all_categories(session))
    counts = await repo.product_counts(session)
    data: list[AdminCategory] = []

    def walk(parent_id: str | None, depth: int) -> None:
        for category in categories.children[parent_id]:
            data.append(_view(category, depth=depth, products=counts.get(category.id, 0)))
            walk(category.id, depth + 1)

    walk(None, 0)
    return CategoryList(data=data)


async def _category(session: AsyncSession, id_or_slug: str) -> Category:
    category = await repo.category(session, id_or_slug)
    if category is None:
        raise NotFound(f"There is no category {id_or_slug!r}.")
    return category


async def _parent(session: AsyncSession, id_or_slug: str | None) -> Category | None:
    if id_or_slug is None:
        return None
    parent = await repo.category(session, id_or_slug)
    if parent is None:
        raise UnprocessableEntity(
            f"There is no category {id_or_slug!r}.", errors={"parent": "is not a known category"}
        )
    return parent


async def _slug_free(session: AsyncSession, slug: str) -> None:
    if await catalog_repo.category_by_slug(session, slug):
        raise Conflict(f"A category with the slug {slug!r} exists already.", errors={"slug": "is taken"})


async def create_category(session: AsyncSession, staff: Staff, data: CategoryIn) -> AdminCategory:
    parent = await _parent(session, data.parent)
    await _slug_free(session, data.slug)
    category = Category(
        id=new_id("cat"),
        slug=data.slug,
        name=data.name,
        parent_id=parent.id if parent else None,
        position=data.position,
    )
    try:
        await catalog_repo.add_checked(session, [category])
    except catalog_repo.DuplicateKey:
        raise Conflict(
            f"A category with the slug {data.slug!r} exists already.", errors={"slug": "is taken"}
        ) from None
    await record_staff_action(
        session,
        staff,
        "category.create",
        service=SERVICE,
        target_type="category",
        target_id=category.id,
        details={"slug": category.slug, "parent_id": category.parent_id},
    )
    categories = Categories(await catalog_repo.all_categories(session))
    return _view(category, depth=_depth(categories, category), products=0)


async def update_category(
    session: AsyncSession, staff: Staff, id_or_slug: str, patch: CategoryPatch, *, media: Media
) -> AdminCategory:
    category = await _category(session, id_or_slug)
    changes = patch.model_dump(exclude_unset=True)
    categories = Categories(await catalog_repo.all_categories(session))
    if "parent" in changes:
        parent = await _parent(session, patch.parent)
        if parent is not None and parent.id in categories.subtree_ids(category):
            raise Conflict(
                "A category can't be moved under itself or one of its own sub-categories.",
                errors={"parent": "is this category or one under it"},
            )
        changes["parent_id"] = parent.id if parent else None
    if patch.slug is not None and patch.slug != category.slug:
        await _slug_free(session, patch.slug)
    fields = [
        field
        for field in ("slug", "name", "parent_id", "position")
        if field in changes and changes[field] != getattr(category, field)
    ]
    for field in fields:
        setattr(category, field, changes[field])
    if fields:
        try:
            await repo.flush_checked(session)
        except catalog_repo.DuplicateKey:
            raise Conflict("A category with this slug exists already.", errors={"slug": "is taken"}) from None
    if {"slug", "parent_id"} & set(fields):
        await _republish_subtree(session, category, media)
    elif "name" in fields:  # in every product page and list entry under it, but in no event
        categories = Categories(await catalog_repo.all_categories(session))
        products = await repo.products_in(session, categories.subtree_ids(category))
        await refresh_documents(session, products, image_base_url=media.base_url)
    if fields:
        await record_staff_action(
            session,
            staff,
            "category.update",
            service=SERVICE,
            target_type="category",
            target_id=category.id,
            details={"fields": ",".join(fields), "slug": category.slug},
        )
    categories = Categories(await catalog_repo.all_categories(session))
    counts = await repo.product_counts(session)
    return _view(category, depth=_depth(categories, category), products=counts.get(category.id, 0))


async def _republish_subtree(session: AsyncSession, category: Category, media: Media) -> None:
    """Every product under the category now has another category path: tell search and the others."""
    categories = Categories(await catalog_repo.all_categories(session))
    products = await repo.products_in(session, categories.subtree_ids(category))
    now = datetime.now(UTC)
    for product in products:
        product.updated_at = now
    await session.flush()
    await record_product_states(
        session, products, event_of=lambda _: ProductUpdated, image_base_url=media.base_url
    )


async def delete_category(session: AsyncSession, staff: Staff, id_or_slug: str) -> None:
    category = await _category(session, id_or_slug)
    children, products = await repo.category_in_use(session, category.id)
    if children or products:
        raise Conflict(
            "Only an empty category can be deleted: move its sub-categories and products elsewhere first.",
            sub_categories=children,
            products=products,
        )
    await repo.delete_rows(session, [category])
    await record_staff_action(
        session,
        staff,
        "category.delete",
        service=SERVICE,
        target_type="category",
        target_id=category.id,
        details={"slug": category.slug},
    )
