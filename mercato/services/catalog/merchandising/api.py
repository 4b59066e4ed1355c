"""The back office's routes under `/admin/v1` (the gateway sends them here with verified staff claims).
Thin: they check the role, parse, call a use case and shape the answer."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, File, Header, Path, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from starlette.convertors import StringConvertor, register_url_convertor

from mercato.platform.app import ReadSession, UnitOfWork
from mercato.platform.errors import BadRequest
from mercato.platform.idempotency import IdempotencyKey, RequiredIdempotencyKey, idempotent
from mercato.platform.pagination import Page, Paging
from mercato.platform.staff import Staff, requires
from mercato.services.catalog.merchandising import categories, imports, inventory, products, variants
from mercato.services.catalog.merchandising.export import export_csv
from mercato.services.catalog.merchandising.images import Media, upload
from mercato.services.catalog.merchandising.preconditions import json_with_etag, with_etag
from mercato.services.catalog.merchandising.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    AdminCategory,
    AdminProduct,
    AdminProductSummary,
    CategoryIn,
    CategoryList,
    CategoryPatch,
    ImageUploaded,
    InventoryOut,
    ProductImportDetail,
    ProductImportOut,
    ProductIn,
    ProductPatch,
    ProductStatus,
    VariantIn,
    VariantPatch,
)
from mercato.services.catalog.settings import CatalogSettings


class _ProductRef(StringConvertor):
    """A product's id or slug, never `export.csv`: so the export is the only route at its path."""

    regex = "[A-Za-z0-9_-]+"


register_url_convertor("product_ref", _ProductRef())

router = APIRouter(prefix="/admin/v1")

Merchandiser = Annotated[Staff, requires("merchandising")]
Reader = Annotated[Staff, requires("merchandising", "support", "operations")]
ProductKey = Annotated[str, Path(max_length=200, description="The product's id or slug.")]
CategoryKey = Annotated[str, Path(max_length=120, description="The category's id or slug.")]
SkuPath = Annotated[str, Path(max_length=64)]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", max_length=1000, description="The ETag of the product as you last read it."),
]
PRODUCTS, CATEGORIES, IMAGES = (
    ["merchandising: products"],
    ["merchandising: categories"],
    ["merchandising: images"],
)
INVENTORY, CSV = ["merchandising: inventory"], ["merchandising: CSV import and export"]
CONFLICT = {409: {"description": "A slug or SKU is taken, or another variant has these attributes"}}
PRECONDITIONS = {
    412: {"description": "The product changed since the ETag in If-Match was read"},
    428: {"description": "If-Match is missing"},
}


def _settings(request: Request) -> CatalogSettings:
    return request.app.state.settings


def _media(request: Request) -> Media:
    return Media(store=request.app.state.images, base_url=_settings(request).image_base_url)


MediaDep = Annotated[Media, Depends(_media)]


# --- products -------------------------------------------------------------------------------------


def _filters(q: str | None, status: str | None, category: str | None) -> list[str | None]:
    return [q, status, category]


Text = Annotated[str | None, Query(max_length=200, description="Part of the name, slug or a SKU.")]
StatusFilter = Annotated[ProductStatus | None, Query()]
CategoryFilter = Annotated[
    str | None, Query(max_length=120, description="Id or slug; includes sub-categories.")
]


@router.get("/products", response_model=Page[AdminProductSummary], tags=PRODUCTS)
async def list_products(
    staff: Reader,
    session: ReadSession,
    paging: Paging,
    media: MediaDep,
    q: Text = None,
    status: StatusFilter = None,
    category: CategoryFilter = None,
) -> Page[AdminProductSummary]:
    """Products of every status, newest first; search by name, slug or SKU, filter by status and category."""
    filters = _filters(q, status, category)
    if paging.position and paging.position.get("filters") != filters:
        raise BadRequest("This cursor is for another listing.", errors={"cursor": "is for other filters"})
    where = await products.product_query(session, text=q, status=status, category=category)
    rows = await products.list_products(
        session, where, before=paging.position.get("before"), limit=paging.fetch, media=media
    )
    return paging.page(rows, lambda last: {"before": last.id, "filters": filters})


@router.get(
    "/products/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The import's format, one row per variant"}},
    tags=CSV,
)
async def export_products(
    request: Request,
    staff: Merchandiser,
    session: ReadSession,
    q: Text = None,
    status: StatusFilter = None,
    category: CategoryFilter = None,
) -> StreamingResponse:
    """The products the list's filters select, as CSV in the import's format: edit it, import it back."""
    where = await products.product_query(session, text=q, status=status, category=category)
    return StreamingResponse(
        export_csv(request.app.state.db, where),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="products.csv"', "Cache-Control": "no-store"},
    )


@router.post(
    "/products",
    status_code=201,
    response_model=AdminProduct,
    responses={**CONFLICT, 200: {"description": "A replay (same Idempotency-Key and body)"}},
    tags=PRODUCTS,
)
async def create_product(
    body: ProductIn,
    staff: Merchandiser,
    session: UnitOfWork,
    media: MediaDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Create a product with its variants (prices as Money, initial stock). A retry with the same
    Idempotency-Key returns the first answer instead of a 409."""
    response = await idempotent(
        session,
        scope=f"POST /admin/v1/products {staff.id}",
        key=idempotency_key,
        request=body,
        run=lambda: products.create_product(session, staff, body, media),
    )
    product_id = orjson.loads(response.body).get("id") if response.status_code == 201 else None
    return with_etag(response, location=f"/admin/v1/products/{product_id}" if product_id else None)


@router.get("/products/{product:product_ref}", response_model=AdminProduct, tags=PRODUCTS)
async def get_product(
    request: Request, product: ProductKey, staff: Reader, session: ReadSession, media: MediaDep
) -> Response:
    """A product whatever its status, with an ETag for If-Match (and If-None-Match)."""
    return json_with_etag(request, await products.get_product(session, product, media))


@router.patch(
    "/products/{product:product_ref}",
    response_model=AdminProduct,
    responses={**CONFLICT, **PRECONDITIONS},
    tags=PRODUCTS,
)
async def update_product(
    request: Request,
    product: ProductKey,
    body: ProductPatch,
    staff: Merchandiser,
    session: UnitOfWork,
    media: MediaDep,
    if_match: IfMatch = None,
) -> Response:
    """Change a product's fields; those left out stay. Needs If-Match: 412 if someone changed it first."""
    changed = await products.update_product(session, staff, product, body, if_match=if_match, media=media)
    return json_with_etag(request, changed)


@router.post(
    "/products/{product:product_ref}/archive",
    response_model=AdminProduct,
    responses=PRECONDITIONS,
    tags=PRODUCTS,
)
async def archive_product(
    request: Request,
    product: ProductKey,
    staff: Merchandiser,
    session: UnitOfWork,
    media: MediaDep,
    if_match: IfMatch = None,
) -> Response:
    """Take a product out of the shop and search (carts can no longer buy it). Repeating it is harmless."""
    archived = await products.set_status(session, staff, product, "archived", if_match=if_match, media=media)
    return json_with_etag(request, archived)


@router.post(
    "/products/{product:product_ref}/unarchive",
    response_model=AdminProduct,
    responses=PRECONDITIONS,
    tags=PRODUCTS,
)
async def unarchive_product(
    request: Request,
    product: ProductKey,
    staff: Merchandiser,
    session: UnitOfWork,
    media: MediaDep,
    if_match: IfMatch = None,
) -> Response:
    """Bring an archived product back into the shop (status active)."""
    active = await products.set_status(session, staff, product, "active", if_match=if_match, media=media)
    return json_with_etag(request, active)


@router.post(
    "/products/{product:product_ref}/variants",
    status_code=201,
    response_model=AdminProduct,
    responses={**CONFLICT, 412: PRECONDITIONS[412]},
    tags=PRODUCTS,
)
async def add_variant(
    request: Request,
    product: ProductKey,
    body: VariantIn,
    staff: Merchandiser,
    session: UnitOfWork,
    media: MediaDep,
    if_match: IfMatch = None,
) -> Response:
    """Add a variant (in the currency of the product's others); answers with the whole product."""
    changed = await variants.add_variant(session, staff, product, body, if_match=if_match, media=media)
    return json_with_etag(request, changed, status_code=201)


@router.patch(
    "/products/{product:product_ref}/variants/{sku}",
    response_model=AdminProduct,
    responses={**CONFLICT, **PRECONDITIONS},
    tags=PRODUCTS,
)
async def update_variant(
    request: Request,
    product: ProductKey,
    sku: SkuPath,
    body: VariantPatch,
    staff: Merchandiser,
    session: UnitOfWork,
    media: MediaDep,
    if_match: IfMatch = None,
) -> Response:
    """Change a variant's price, attributes or whether it is sold (`active`). If-Match is the product's
    ETag: a variant is part of its product."""
    changed = await variants.update_variant(
        session, staff, product, sku, body, if_match=if_match, media=media
    )
    return json_with_etag(request, changed)


# --- images ---------------------------------------------------------------------------------------


@router.post(
    "/images",
    status_code=201,
    response_model=ImageUploaded,
    responses={413: {"description": "Larger than the image size limit"}},
    tags=IMAGES,
)
async def upload_image(
    request: Request,
    file: Annotated[UploadFile, File(description="A JPEG, PNG or WebP image.")],
    staff: Merchandiser,
    session: UnitOfWork,
    media: MediaDep,
) -> ImageUploaded:
    """Store an image; attach it to products by the `name` this answers with."""
    return await upload(session, staff, media, file, max_bytes=_settings(request).image_max_bytes)


# --- categories -----------------------------------------------------------------------------------


@router.get("/categories", response_model=CategoryList, tags=CATEGORIES)
async def list_categories(staff: Reader, session: ReadSession) -> CategoryList:
    """Every category, depth first in display order, with how many products each holds."""
    return await categories.list_categories(session)


@router.post(
    "/categories", status_code=201, response_model=AdminCategory, responses=CONFLICT, tags=CATEGORIES
)
async def create_category(body: CategoryIn, staff: Merchandiser, session: UnitOfWork) -> AdminCategory:
    return await categories.create_category(session, staff, body)


@router.patch(
    "/categories/{category}",
    response_model=AdminCategory,
    responses={409: {"description": "The slug is taken, or the move would make a cycle"}},
    tags=CATEGORIES,
)
async def update_category(
    category: CategoryKey, body: CategoryPatch, staff: Merchandiser, session: UnitOfWork, media: MediaDep
) -> AdminCategory:
    """Rename, re-slug or move a category (never under itself). Products under it are re-published."""
    return await categories.update_category(session, staff, category, body, media=media)


@router.delete(
    "/categories/{category}",
    status_code=204,
    responses={409: {"description": "It still holds products or sub-categories"}},
    tags=CATEGORIES,
)
async def delete_category(category: CategoryKey, staff: Merchandiser, session: UnitOfWork) -> Response:
    """Delete an empty category."""
    await categories.delete_category(session, staff, category)
    return Response(status_code=204)


# --- inventory ------------------------------------------------------------------------------------


@router.post(
    "/inventory/{sku}/adjustments",
    status_code=201,
    response_model=AdjustmentOut,
    responses={409: {"description": "It would leave fewer units on hand than are reserved"}},
    tags=INVENTORY,
)
async def adjust_stock(
    sku: SkuPath,
    body: AdjustmentIn,
    staff: Merchandiser,
    session: UnitOfWork,
    idempotency_key: RequiredIdempotencyKey,
) -> Response:
    """Add or remove units on hand, with a reason. Needs an Idempotency-Key: a retried delivery must not
    be counted twice."""
    return await idempotent(
        session,
        scope=f"POST /admin/v1/inventory/adjustments {staff.id}",
        key=idempotency_key,
        request={"sku": sku, **body.model_dump(mode="json")},
        run=lambda: inventory.adjust(session, staff, sku, body),
        required=True,
    )


@router.get("/inventory/{sku}", response_model=InventoryOut, tags=INVENTORY)
async def stock(sku: SkuPath, staff: Reader, session: ReadSession, paging: Paging) -> InventoryOut:
    """Units on hand, reserved and available, and the history of adjustments (who, when, how many, why),
    newest first; `limit` and `cursor` page through the history."""
    level, history = await inventory.stock(
        session, sku, before=paging.position.get("before"), limit=paging.fetch
    )
    page = paging.page(history, lambda last: {"before": last.id})
    return InventoryOut(**level.model_dump(), history=page.data, next_cursor=page.next_cursor)


# --- CSV import -----------------------------------------------------------------------------------


@router.post(
    "/product-imports",
    status_code=201,
    response_model=ProductImportOut,
    responses={
        413: {"description": "Too large a file, or too many rows"},
        422: {"description": "Something is wrong in the file: `errors` lists every problem, nothing changed"},
    },
    tags=CSV,
)
async def import_products(
    request: Request,
    file: Annotated[UploadFile, File(description="CSV, UTF-8, one row per variant (docs/merchandising.md).")],
    staff: Merchandiser,
    session: UnitOfWork,
    media: MediaDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Create and update products, variants and stock from a CSV file: all of it, or — if any row is
    wrong — none of it. Importing the same file again changes nothing."""
    settings = _settings(request)
    checked = await imports.check(
        session,
        staff,
        file,
        max_bytes=settings.import_max_bytes,
        max_rows=settings.import_max_rows,
        media=media,
    )
    return await idempotent(
        session,
        scope=f"POST /admin/v1/product-imports {staff.id}",
        key=idempotency_key,
        request={"file_sha256": checked.upload.sha256},
        run=lambda: imports.apply(session, staff, checked, media),
    )


@router.get("/product-imports", response_model=Page[ProductImportOut], tags=CSV)
async def list_imports(staff: Merchandiser, session: ReadSession, paging: Paging) -> Page[ProductImportOut]:
    """Imports, newest first: who, when, which file, and what came of it."""
    rows = await imports.list_imports(session, before=paging.position.get("before"), limit=paging.fetch)
    return paging.page(rows, lambda last: {"before": last.import_id})


@router.get("/product-imports/{import_id}", response_model=ProductImportDetail, tags=CSV)
async def get_import(
    import_id: Annotated[str, Path(max_length=64)], staff: Merchandiser, session: ReadSession
) -> ProductImportDetail:
    """One import; a rejected one with its report."""
    return await imports.get_import(session, import_id)
