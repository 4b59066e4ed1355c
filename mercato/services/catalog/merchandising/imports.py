"""CSV bulk import: every row is checked before anything changes; then all of it is applied in one
transaction, or — if any row is wrong — nothing is, and the answer lists every problem by row and column.

Rows are upserts: a product is found by its slug, a variant by its SKU; what the file says is set,
what it leaves out (a column it lacks, variants it does not list, product attributes) stays as it is.
Importing a file a second time, or a file just exported, therefore changes nothing and says so
(`unchanged`). The work is done a chunk of products at a time (a few queries per chunk, never per row),
inside the one transaction that keeps it all-or-nothing.

Each import, applied or rejected, is kept in `product_imports` (who, when, which file, the counts or the
errors) for the admin app's history, and put on the audit trail.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO

import anyio
from fastapi import UploadFile
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.events import ProductCreated, ProductUpdated
from mercato.platform.errors import Conflict, NotFound, PayloadTooLarge, UnprocessableEntity
from mercato.platform.ids import new_id
from mercato.platform.staff import Staff, record_staff_action
from mercato.services.catalog import repository as catalog_repo
from mercato.services.catalog.browsing import Categories
from mercato.services.catalog.merchandising import SERVICE
from mercato.services.catalog.merchandising import repository as repo
from mercato.services.catalog.merchandising.csv_format import (
    CellError,
    ParsedFile,
    ProductRows,
    TooManyRows,
    VariantRow,
    parse,
)
from mercato.services.catalog.merchandising.images import Media
from mercato.services.catalog.merchandising.products import replace_images
from mercato.services.catalog.merchandising.schemas import (
    ImportCounts,
    ProductImportDetail,
    ProductImportOut,
    RowError,
)
from mercato.services.catalog.models import (
    Image,
    Inventory,
    Product,
    ProductImport,
    StockMovement,
    Variant,
    VariantPrice,
)
from mercato.services.catalog.repository import CHUNK, StockLevel
from mercato.services.catalog.service import ADJUSTED, aware, record_inventory, record_product_states

MAX_REPORTED_ERRORS = 1000
COUNTED = "count"  # the stock movement reason of an import: the file says how many units there are


class ImportRejected(UnprocessableEntity):
    """422 with a row-by-row report: `errors` is a list of {row, column, message} here (every problem
    found), not the field -> message map of other validation errors. The rejected import is kept."""

    slug, title = "import-rejected", "Import rejected"

    def __init__(self, detail: str, *, report: list[dict[str, Any]], **extensions: Any) -> None:
        super().__init__(detail, keep_changes=True, **extensions)
        self.errors = report  # type: ignore[assignment] # rendered as is: a list, in the problem's `errors`


@dataclass(frozen=True)
class Upload:
    name: str
    sha256: str
    size: int
    parsed: ParsedFile


@dataclass
class CheckedFile:
    """A file that passed every check, with what the database held for it when it was checked (rows
    locked since, so it still holds when the file is applied)."""

    upload: Upload
    categories: Categories
    products: dict[str, Product]  # by slug, the existing ones
    variants: dict[str, Variant]  # by SKU, the existing variants of the file's SKUs
    siblings: dict[str, list[Variant]]  # product id -> all its variants
    stock: dict[str, Inventory]  # by SKU
    prices: dict[str, dict[str, int]]  # variant id -> currency -> amount, of the existing products


# --- reading and checking -------------------------------------------------------------------------


def _read(file: BinaryIO, name: str, *, max_bytes: int, max_rows: int) -> Upload:
    """Blocking (a thread's work): size, hash and parse the spooled upload, a block at a time."""
    file.seek(0, os.SEEK_END)
    size = file.tell()
    if size > max_bytes:
        raise PayloadTooLarge(
            f"The CSV file is {size} bytes; at most {max_bytes} can be imported at once: split it.",
            errors={"file": f"is over {max_bytes} bytes"},
        )
    file.seek(0)
    digest = hashlib.sha256()
    while block := file.read(1 << 16):
        digest.update(block)
    file.seek(0)
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")  # utf-8-sig: Excel's BOM is fine
    try:
        parsed = parse(text, max_rows=max_rows)
    except TooManyRows as too_many:
        raise PayloadTooLarge(
            f"The CSV file has more than {too_many.limit} rows; split it by product.",
            errors={"file": f"has more than {too_many.limit} rows"},
        ) from None
    finally:
        text.detach()  # the upload closes its own file
    return Upload(name=name, sha256=digest.hexdigest(), size=size, parsed=parsed)


async def check(
    session: AsyncSession,
    staff: Staff,
    file: UploadFile,
    *,
    max_bytes: int,
    max_rows: int,
    media: Media,
) -> CheckedFile:
    """Read and check the whole file. A file with any problem is recorded as a rejected import and
    refused (ImportRejected) with every problem found; nothing else changes."""
    name = (file.filename or "products.csv")[:255]
    upload = await anyio.to_thread.run_sync(
        lambda: _read(file.file, name, max_bytes=max_bytes, max_rows=max_rows)
    )
    products = upload.parsed.products
    skus = [variant.sku for product in products.values() for variant in product.variants]
    existing = await repo.products_by_slug(session, list(products))
    variants = await repo.variants_by_sku(session, skus)
    siblings: dict[str, list[Variant]] = defaultdict(list)
    for variant in await repo.variants_of(session, [p.id for p in existing.values()]):
        siblings[variant.product_id].append(variant)
    checked = CheckedFile(
        upload=upload,
        categories=Categories(await catalog_repo.all_categories(session)),
        products=existing,
        variants=variants,
        siblings=siblings,
        stock=await repo.stock_of(session, list(variants)),
        prices=await catalog_repo.prices_of(session, [p.id for p in existing.values()]),
    )
    errors = upload.parsed.errors + await _database_errors(session, checked, media)
    if errors:
        await _reject(session, staff, upload, sorted(errors, key=lambda e: e.row))
    return checked


async def _database_errors(session: AsyncSession, checked: CheckedFile, media: Media) -> list[CellError]:
    """What only the database knows: categories, SKUs of other products, reserved stock, attributes of
    variants the file leaves out, and whether its images were uploaded."""
    errors: list[CellError] = []
    products = checked.upload.parsed.products.values()
    missing = await media.missing(name for p in products for name in p.images or ())
    owners = await repo.slugs_of(session, list({v.product_id for v in checked.variants.values()}))
    for product in products:
        current = checked.products.get(product.slug)
        if product.category not in checked.categories.by_slug:
            errors.append(CellError(product.row, "category_slug", "is not a known category"))
        if gone := [name for name in product.images or () if name in missing]:
            errors.append(CellError(product.row, "images", f"{gone[0]} is not an uploaded image"))
        for variant in product.variants:
            owner = checked.variants.get(variant.sku)
            if owner is not None and (current is None or owner.product_id != current.id):
                errors.append(
                    CellError(
                        variant.row, "sku", f"belongs to another product, {owners.get(owner.product_id)}"
                    )
                )
            elif owner is not None and variant.stock is not None:
                reserved = stock.reserved if (stock := checked.stock.get(variant.sku)) else 0
                if variant.stock < reserved:
                    errors.append(
                        CellError(
                            variant.row,
                            "stock",
                            f"is below the {reserved} units reserved for orders being paid for",
                        )
                    )
        if current is not None:
            errors += _sibling_errors(product, checked.siblings[current.id])
    return errors


def _sibling_errors(product: ProductRows, siblings: list[Variant]) -> list[CellError]:
    """The product's variants that the file leaves out must still fit with those it lists."""
    listed = {variant.sku for variant in product.variants}
    others = [variant for variant in siblings if variant.sku not in listed]
    errors = []
    taken = {tuple(sorted(v.attributes.items())): v.sku for v in others}
    for variant in product.variants:
        if clash := taken.get(tuple(sorted(variant.attributes.items()))):
            errors.append(
                CellError(variant.row, None, f"has the same attributes as {clash}, a variant of this product")
            )
    return errors


async def _reject(session: AsyncSession, staff: Staff, upload: Upload, errors: list[CellError]) -> None:
    report = [asdict(error) for error in errors[:MAX_REPORTED_ERRORS]]
    record = ProductImport(
        id=new_id("imp"),
        staff_id=staff.id,
        file_name=upload.name,
        file_sha256=upload.sha256,
        size_bytes=upload.size,
        status="rejected",
        rows=upload.parsed.rows,
        created=0,
        updated=0,
        unchanged=0,
        variants_created=0,
        variants_updated=0,
        variants_unchanged=0,
        error_count=len(errors),
        errors=report,
        created_at=datetime.now(UTC),
    )
    await catalog_repo.add_all(session, [record])
    await record_staff_action(
        session,
        staff,
        "product_import.reject",
        service=SERVICE,
        target_type="product_import",
        target_id=record.id,
        details={"file_name": upload.name, "rows": upload.parsed.rows, "errors": len(errors)},
    )
    raise ImportRejected(
        f"{len(errors)} problem(s) in {upload.name}; nothing was imported. Fix them and upload it again.",
        report=report,
        import_id=record.id,
        error_count=len(errors),
    )


# --- applying -------------------------------------------------------------------------------------


@dataclass
class _Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    variants_created: int = 0
    variants_updated: int = 0
    variants_unchanged: int = 0


class _Apply:
    """Applies a checked file: one instance per import, holding what it changed for the events."""

    def __init__(self, session: AsyncSession, staff: Staff, checked: CheckedFile, media: Media) -> None:
        self.session, self.staff, self.checked, self.media = session, staff, checked, media
        self.now = datetime.now(UTC)
        self.import_id = new_id("imp")
        self.note = f"import {self.import_id}"
        self.tally = _Tally()
        self.created: list[Product] = []
        self.changed: list[Product] = []  # fields or variants changed: ProductUpdated
        self.stock_changes: list[StockLevel] = []  # on hand changed: InventoryChanged

    async def run(self) -> None:
        rows = list(self.checked.upload.parsed.products.values())
        for start in range(0, len(rows), CHUNK):
            await self._chunk(rows[start : start + CHUNK])
        created = {product.id for product in self.created}
        await record_product_states(
            self.session,
            [*self.created, *self.changed],
            event_of=lambda product: ProductCreated if product.id in created else ProductUpdated,
            image_base_url=self.media.base_url,
        )
        for level in self.stock_changes:  # after the snapshots: these are the newer facts
            await record_inventory(self.session, level, ADJUSTED, self.now)

    async def _chunk(self, rows: list[ProductRows]) -> None:
        existing = [self.checked.products[p.slug] for p in rows if p.slug in self.checked.products]
        images: dict[str, list[Image]] = defaultdict(list)
        for image in await repo.images_of(self.session, [p.id for p in existing]):
            images[image.product_id].append(image)
        new_products: list[Product] = []
        new_variants: list[Variant] = []
        new_rows: list[object] = []
        image_changes: list[tuple[Product, list[tuple[str, str]], list[Image]]] = []
        for product_rows in rows:
            current = self.checked.products.get(product_rows.slug)
            if current is None:
                product, variants = self._new_product(product_rows)
                new_products.append(product)
                new_variants += variants
                for variant, row in zip(variants, product_rows.variants, strict=True):
                    new_rows += self._price_rows(variant, row, {})
                    new_rows += self._stock_rows(variant, row.stock or 0)
                if product_rows.images:
                    image_changes.append((product, [(n, product.name) for n in product_rows.images], []))
            else:
                variants, rows_to_add, wanted_images = await self._update_product(
                    current, product_rows, images[current.id]
                )
                new_variants += variants
                new_rows += rows_to_add
                if wanted_images is not None:
                    image_changes.append((current, wanted_images, images[current.id]))
        try:
            await repo.flush_checked(self.session)
            await catalog_repo.add_checked(self.session, new_products)
            await catalog_repo.add_checked(self.session, new_variants)
            await catalog_repo.add_checked(self.session, new_rows)
        except catalog_repo.DuplicateKey:
            raise Conflict("The catalog changed while the file was imported; upload it again.") from None
        for product, wanted, current_images in image_changes:
            await replace_images(self.session, product, wanted, current_images)

    def _new_product(self, rows: ProductRows) -> tuple[Product, list[Variant]]:
        category = self.checked.categories.by_slug[rows.category]
        product = Product(
            id=new_id("prod"),
            slug=rows.slug,
            name=rows.name,
            brand=rows.brand,
            description=rows.description or "",
            category_id=category.id,
            status=rows.status or "active",
            tax_class=rows.tax_class or "standard",
            attributes={},
            created_at=self.now,
            updated_at=self.now,
        )
        variants = [self._new_variant(product, row, position) for position, row in enumerate(rows.variants)]
        self.created.append(product)
        self.tally.created += 1
        self.tally.variants_created += len(variants)
        return product, variants

    def _new_variant(self, product: Product, row: VariantRow, position: int) -> Variant:
        return Variant(
            id=new_id("var"),
            product_id=product.id,
            sku=row.sku,
            attributes=row.attributes,
            weight_grams=row.weight_grams or 0,
            position=position,
            active=True if row.active is None else row.active,
        )

    @staticmethod
    def _wanted_prices(row: VariantRow, current: dict[str, int]) -> dict[str, int]:
        """The price list after the row: its currencies set (or removed, for an empty cell); the others
        the file has no column for kept."""
        wanted = current | row.prices
        return {currency: amount for currency, amount in sorted(wanted.items()) if amount is not None}

    def _price_rows(self, variant: Variant, row: VariantRow, current: dict[str, int]) -> list[object]:
        prices = self._wanted_prices(row, current)
        return [VariantPrice(variant_id=variant.id, currency=c, amount=a) for c, a in prices.items()]

    def _stock_rows(self, variant: Variant, on_hand: int) -> list[object]:
        rows: list[object] = [Inventory(sku=variant.sku, on_hand=on_hand, reserved=0, updated_at=self.now)]
        if on_hand:
            rows.append(self._movement(variant.sku, on_hand))
        return rows

    def _movement(self, sku: str, delta: int) -> StockMovement:
        return StockMovement(
            id=new_id("stm"),
            sku=sku,
            delta=delta,
            reason=COUNTED,
            note=self.note,
            staff_id=self.staff.id,
            created_at=self.now,
        )

    async def _update_product(
        self, product: Product, rows: ProductRows, images: list[Image]
    ) -> tuple[list[Variant], list[object], list[tuple[str, str]] | None]:
        """Set what the file says; returns the new variants and rows to insert, and the images wanted
        (None: the file says nothing about images)."""
        category_id = self.checked.categories.by_slug[rows.category].id
        wanted: dict[str, Any] = {"name": rows.name, "brand": rows.brand, "category_id": category_id}
        if rows.description is not None:
            wanted["description"] = rows.description
        if rows.status is not None:
            wanted["status"] = rows.status
        if rows.tax_class is not None:
            wanted["tax_class"] = rows.tax_class
        shown = _set(product, wanted)  # changes what the product's snapshot shows
        wanted_images = None
        if rows.images is not None:
            alts = {image.storage_key: image.alt for image in images}
            wanted_images = [(name, alts.get(name) or rows.name) for name in rows.images]
            shown |= [(image.storage_key, image.alt) for image in images] != wanted_images

        siblings = self.checked.siblings[product.id]
        position = max((v.position for v in siblings), default=-1) + 1
        new_variants: list[Variant] = []
        new_rows: list[object] = []
        stock_changed = False
        for row in rows.variants:
            variant = self.checked.variants.get(row.sku)
            if variant is None:
                variant = self._new_variant(product, row, position)
                position += 1
                new_variants.append(variant)
                new_rows += self._price_rows(variant, row, {})
                new_rows += self._stock_rows(variant, row.stock or 0)
                self.tally.variants_created += 1
                shown = True
                continue
            variant_wanted: dict[str, Any] = {"attributes": row.attributes}
            if row.active is not None:
                variant_wanted["active"] = row.active
            if row.weight_grams is not None:
                variant_wanted["weight_grams"] = row.weight_grams
            variant_shown = _set(variant, variant_wanted)
            current_prices = self.checked.prices.get(variant.id, {})
            if self._wanted_prices(row, current_prices) != current_prices:
                await repo.replace_prices(
                    self.session, variant.id, self._price_rows(variant, row, current_prices)
                )
                variant_shown = True
            counted = await self._set_stock(variant, row.stock) if row.stock is not None else None
            restocked = counted is not None
            if counted is not None:
                new_rows.append(counted)
            shown |= variant_shown
            stock_changed |= restocked
            if variant_shown or restocked:
                self.tally.variants_updated += 1
            else:
                self.tally.variants_unchanged += 1

        if shown:
            product.updated_at = self.now
            self.changed.append(product)
        if shown or stock_changed:
            self.tally.updated += 1
        else:
            self.tally.unchanged += 1
        return new_variants, new_rows, wanted_images

    async def _set_stock(self, variant: Variant, on_hand: int) -> StockMovement | None:
        """Set the units on hand the file counted; returns the movement to keep, None if it was right."""
        current = stock.on_hand if (stock := self.checked.stock.get(variant.sku)) else 0
        if current == on_hand:
            return None
        level = await catalog_repo.set_on_hand(self.session, variant.sku, on_hand, self.now)
        if level is None:  # an order reserved units since the file was checked
            raise Conflict(
                f"Orders reserved units of {variant.sku} while the file was imported; upload it again."
            )
        self.stock_changes.append(level)
        return self._movement(variant.sku, on_hand - current)


def _set(row: object, wanted: dict[str, Any]) -> bool:
    """Set the attributes that differ; returns whether any did."""
    changed = False
    for field, value in wanted.items():
        if getattr(row, field) != value:
            setattr(row, field, value)
            changed = True
    return changed


async def apply(session: AsyncSession, staff: Staff, checked: CheckedFile, media: Media) -> ProductImportOut:
    """Apply a checked file: create and update products, variants and stock, publish them, keep the
    import in the history and on the audit trail — all in the caller's one transaction."""
    applying = _Apply(session, staff, checked, media)
    await applying.run()
    upload, tally = checked.upload, applying.tally
    record = ProductImport(
        id=applying.import_id,
        staff_id=staff.id,
        file_name=upload.name,
        file_sha256=upload.sha256,
        size_bytes=upload.size,
        status="applied",
        rows=upload.parsed.rows,
        error_count=0,
        errors=None,
        created_at=applying.now,
        **asdict(tally),
    )
    await catalog_repo.add_all(session, [record])
    await record_staff_action(
        session,
        staff,
        "product_import.apply",
        service=SERVICE,
        target_type="product_import",
        target_id=record.id,
        details={
            "file_name": upload.name,
            "rows": upload.parsed.rows,
            "created": tally.created,
            "updated": tally.updated,
            "unchanged": tally.unchanged,
        },
    )
    return import_view(record)


def import_view(record: ProductImport) -> ProductImportOut:
    return ProductImportOut(
        import_id=record.id,
        status=record.status,  # type: ignore[arg-type]
        file_name=record.file_name,
        file_sha256=record.file_sha256,
        size_bytes=record.size_bytes,
        staff_id=record.staff_id,
        created_at=aware(record.created_at),
        rows=record.rows,
        created=record.created,
        updated=record.updated,
        unchanged=record.unchanged,
        variants=ImportCounts(
            created=record.variants_created,
            updated=record.variants_updated,
            unchanged=record.variants_unchanged,
        ),
        error_count=record.error_count,
    )


async def list_imports(session: AsyncSession, *, before: str | None, limit: int) -> list[ProductImportOut]:
    return [import_view(record) for record in await repo.imports_page(session, before=before, limit=limit)]


async def get_import(session: AsyncSession, import_id: str) -> ProductImportDetail:
    record = await repo.product_import(session, import_id)
    if record is None:
        raise NotFound(f"There is no import {import_id!r}.")
    return ProductImportDetail(
        **import_view(record).model_dump(),
        errors=[RowError.model_validate(error) for error in record.errors or []],
    )
