"""The product CSV, one row per variant: what an import reads and an export writes (so an export can be
imported again, changing nothing). Pure: no I/O, no database; docs/merchandising.md describes it.

Reading checks everything a file can say about itself — the header, each cell, and the rows of one
product against each other (they must agree on the product's columns, and never repeat a SKU or a set of
attributes) — and reports every problem found, by row and column, rather than
the first. What only the database knows (categories, SKUs of other products, reserved stock, images)
is checked by `imports.py`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from mercato.platform.storage import is_key
from mercato.services.catalog.merchandising.schemas import MAX_PRICE
from mercato.services.catalog.schemas import SKU_PATTERN, SLUG_PATTERN

ATTRIBUTE_PREFIX = "attr."
PRICE_PREFIX = "price_"  # price_eur, price_gbp...: the price list, a column per currency
NAMED_ATTRIBUTES = ("size", "colour")  # variant attributes with a column of their own
REQUIRED = ("product_slug", "product_name", "brand", "category_slug", "sku")
# `price` + `currency`: one price per row (the format before price lists; still read)
OPTIONAL = (
    "description",
    "status",
    "tax_class",
    "price",
    "currency",
    "weight_grams",
    "stock",
    "active",
    "images",
    *NAMED_ATTRIBUTES,
)
PRODUCT_COLUMNS = ("product_name", "description", "brand", "category_slug", "status", "tax_class", "images")
STATUSES = ("active", "draft", "archived")
TAX_CLASSES = ("standard", "reduced", "zero")
MAX_WEIGHT = 1_000_000
MAX_IMAGES = 20
MAX_STOCK = 10_000_000

# ISO 4217 minor units where they are not 2.
_MINOR_UNITS = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
_PRICE = re.compile(r"^(\d{1,12})(?:\.(\d{1,3}))?$")
_SLUG = re.compile(SLUG_PATTERN)
_SKU = re.compile(SKU_PATTERN)
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_STOCK = re.compile(r"^\d{1,9}$")
_PRICE_COLUMN = re.compile(r"^price_[a-z]{3}$")
# A cell a spreadsheet would run as a formula (CSV injection): exported with a leading apostrophe,
# which an import removes again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class TooManyRows(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} rows")
        self.limit = limit


@dataclass(frozen=True)
class CellError:
    row: int  # as a spreadsheet numbers it: the header is row 1
    column: str | None
    message: str


@dataclass
class VariantRow:
    row: int
    sku: str
    attributes: dict[str, str]
    # currency → amount, or None: no price in that currency (an empty cell: not sold there). Currencies
    # the file has no column for are not here, and keep their prices.
    prices: dict[str, int | None]
    weight_grams: int | None  # None: the file has no weight_grams column
    stock: int | None  # None: the file has no stock column
    active: bool | None  # None: the file has no active column


@dataclass
class ProductRows:
    """A product as the file describes it: its columns (from its first row) and its variants' rows.
    None means the file has no such column, so an existing product keeps its value."""

    slug: str
    row: int
    name: str
    brand: str
    category: str
    description: str | None
    status: str | None
    tax_class: str | None
    images: tuple[str, ...] | None
    variants: list[VariantRow] = field(default_factory=list)


@dataclass
class ParsedFile:
    rows: int = 0
    products: dict[str, ProductRows] = field(default_factory=dict)
    errors: list[CellError] = field(default_factory=list)


# --- values ---------------------------------------------------------------------------------------


def minor_units(currency: str) -> int:
    return _MINOR_UNITS.get(currency, 2)


def parse_price(text: str, currency: str) -> int:
    """`19.99` in EUR -> 1999. Raises ValueError with what is wrong."""
    match = _PRICE.match(text.strip())
    if not match:
        raise ValueError("is not a price such as 19.99 (digits, a point, no currency sign)")
    whole, fraction = match.group(1), match.group(2) or ""
    digits = minor_units(currency)
    if len(fraction) > digits:
        raise ValueError(f"has more decimals than {currency} has ({digits})")
    amount = int(whole) * 10**digits + int(fraction.ljust(digits, "0") or "0")
    if amount > MAX_PRICE:
        raise ValueError("is too high")
    return amount


def format_price(amount: int, currency: str) -> str:
    digits = minor_units(currency)
    if digits == 0:
        return str(amount)
    whole, fraction = divmod(amount, 10**digits)
    return f"{whole}.{fraction:0{digits}d}"


def protect(text: str) -> str:
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def unprotect(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_START) else text


# --- reading --------------------------------------------------------------------------------------


def _header(cells: list[str]) -> tuple[list[str], list[CellError]]:
    """Column keys (fixed names lower-cased; `attr.<name>` kept as written) and what is wrong."""
    columns, errors = [], []
    for raw in cells:
        name = raw.strip()
        key = name.lower()
        if key.startswith(ATTRIBUTE_PREFIX):
            attribute = name[len(ATTRIBUTE_PREFIX) :].strip()
            key = ATTRIBUTE_PREFIX + attribute
            if not attribute or len(attribute) > 40:
                errors.append(CellError(1, name, "needs an attribute name of 1 to 40 characters after attr."))
            elif attribute.lower() in NAMED_ATTRIBUTES:
                errors.append(CellError(1, name, f"use the {attribute.lower()} column for this attribute"))
        elif key.startswith(PRICE_PREFIX) and not _PRICE_COLUMN.match(key):
            errors.append(CellError(1, name, "is not price_ and a currency code such as price_eur"))
        elif key not in REQUIRED and key not in OPTIONAL and not key.startswith(PRICE_PREFIX):
            errors.append(CellError(1, name or None, "is not a known column"))
        if key in columns:
            errors.append(CellError(1, name, "appears twice"))
        columns.append(key)
    errors += [
        CellError(1, name, "is a required column and is missing") for name in REQUIRED if name not in columns
    ]
    if ("price" in columns) != ("currency" in columns):  # the one-price format: both or neither
        missing = "currency" if "price" in columns else "price"
        errors.append(CellError(1, missing, "is a required column and is missing"))
    elif "price" not in columns and not any(c.startswith(PRICE_PREFIX) for c in columns):
        message = "is missing: a price_<currency> column (or price and currency)"
        errors.append(CellError(1, "price_eur", message))
    return columns, errors


class _Row:
    """One row's cells, checked one by one; problems are collected, never raised."""

    def __init__(self, number: int, cells: dict[str, str], errors: list[CellError]) -> None:
        self.number, self.cells, self.errors = number, cells, errors

    def fail(self, column: str | None, message: str) -> None:
        self.errors.append(CellError(self.number, column, message))

    def text(self, column: str, *, low: int, high: int, strip: bool = True) -> str:
        value = unprotect(self.cells[column].strip() if strip else self.cells[column])
        if not low <= len(value) <= high:
            self.fail(column, "is required" if not value else f"is longer than {high} characters")
        return value

    def pattern(self, column: str, pattern: re.Pattern[str], message: str, *, high: int) -> str:
        value = self.cells[column].strip()
        if not value:
            self.fail(column, "is required")
        elif len(value) > high or not pattern.match(value):
            self.fail(column, message)
        return value

    def optional(self, column: str) -> str | None:
        return self.cells.get(column)


def _images(row: _Row) -> tuple[str, ...] | None:
    cell = row.optional("images")
    if cell is None:
        return None
    names = tuple(cell.split())
    if len(names) > MAX_IMAGES:
        row.fail("images", f"lists more than {MAX_IMAGES} images")
    if bad := [name for name in names if not is_key(name)]:
        row.fail("images", f"{bad[0]} is not an image name (upload images first: POST /admin/v1/images)")
    if len(set(names)) != len(names):
        row.fail("images", "lists an image twice")
    return names


def _variant(row: _Row, number: int) -> VariantRow:
    sku = row.pattern("sku", _SKU, "is not a SKU (capital letters, digits and dashes)", high=64)
    attributes: dict[str, str] = {}
    for column, value in row.cells.items():
        name = column if column in NAMED_ATTRIBUTES else None
        if column.startswith(ATTRIBUTE_PREFIX):
            name = column[len(ATTRIBUTE_PREFIX) :]
        value = unprotect(value.strip())
        if name is not None and value:
            if len(value) > 80:
                row.fail(column, "is longer than 80 characters")
            attributes[name] = value
    prices = _prices(row)
    weight = None
    if (cell := row.optional("weight_grams")) is not None:
        if not _STOCK.match(cell.strip() or "0") or int(cell.strip() or "0") > MAX_WEIGHT:
            row.fail("weight_grams", f"is not a whole number of grams from 0 to {MAX_WEIGHT}")
        else:
            weight = int(cell.strip() or "0")
    stock = None
    if (cell := row.optional("stock")) is not None:
        if not _STOCK.match(cell.strip()) or int(cell) > MAX_STOCK:
            row.fail("stock", f"is not a whole number of units from 0 to {MAX_STOCK}")
        else:
            stock = int(cell)
    active = None
    if (cell := row.optional("active")) is not None:
        if cell.strip().lower() not in ("true", "false"):
            row.fail("active", "is not true or false")
        active = cell.strip().lower() == "true"
    return VariantRow(
        row=number,
        sku=sku,
        attributes=attributes,
        prices=prices,
        weight_grams=weight,
        stock=stock,
        active=active,
    )


def _prices(row: _Row) -> dict[str, int | None]:
    """The row's price list: a `price_<currency>` cell each (empty: no price in it), and the single
    `price` in `currency` of the older format. At least one price."""
    prices: dict[str, int | None] = {}
    errors_before = len(row.errors)
    for column, cell in row.cells.items():
        if column.startswith(PRICE_PREFIX):
            currency = column[len(PRICE_PREFIX) :].upper()
            prices[currency] = None
            if cell.strip():
                try:
                    prices[currency] = parse_price(cell, currency)
                except ValueError as problem:
                    row.fail(column, str(problem))
    if "currency" in row.cells:
        currency = row.pattern("currency", _CURRENCY, "is not an ISO 4217 currency code such as EUR", high=3)
        if _CURRENCY.match(currency):
            try:
                price = parse_price(row.cells["price"], currency)
            except ValueError as problem:
                row.fail("price", "is required" if not row.cells["price"].strip() else str(problem))
            else:
                if prices.get(currency) not in (None, price):
                    row.fail("price", f"differs from price_{currency.lower()} in the same row")
                prices[currency] = price
    if len(row.errors) == errors_before and all(amount is None for amount in prices.values()):
        row.fail(None, "has no price: a variant needs a price in at least one currency")
    return prices


def _product(row: _Row) -> ProductRows:
    status = row.optional("status")
    if status is not None:
        status = status.strip().lower()
        if status not in STATUSES:
            row.fail("status", f"is not one of {', '.join(STATUSES)}")
    tax_class = row.optional("tax_class")
    if tax_class is not None:
        tax_class = tax_class.strip().lower() or "standard"
        if tax_class not in TAX_CLASSES:
            row.fail("tax_class", f"is not one of {', '.join(TAX_CLASSES)}")
    description = row.optional("description")
    if description is not None:
        description = unprotect(description)
        if len(description) > 10_000:
            row.fail("description", "is longer than 10000 characters")
    return ProductRows(
        slug=row.pattern(
            "product_slug", _SLUG, "is not a slug (lower-case letters and digits, joined by dashes)", high=200
        ),
        row=row.number,
        name=row.text("product_name", low=1, high=200),
        brand=row.text("brand", low=1, high=120),
        category=row.pattern("category_slug", _SLUG, "is not a category slug", high=120),
        description=description,
        status=status,
        tax_class=tax_class,
        images=_images(row),
    )


def _product_value(product: ProductRows, column: str) -> object:
    return {
        "product_name": product.name,
        "description": product.description,
        "brand": product.brand,
        "category_slug": product.category,
        "status": product.status,
        "tax_class": product.tax_class,
        "images": product.images,
    }[column]


def _attribute_key(attributes: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(attributes.items()))


def parse(lines: Iterable[str], *, max_rows: int) -> ParsedFile:
    """Read a whole file (lines of text, e.g. an open text file), checking everything it can say about
    itself. Raises TooManyRows past `max_rows` variant rows."""
    parsed = ParsedFile()
    reader = csv.reader(lines, strict=True)
    number = 0  # the last row read
    try:
        header = next(reader, None)
        number = 1
        if header is None:
            parsed.errors.append(CellError(1, None, "The file is empty: it needs a header row."))
            return parsed
        columns, parsed.errors = _header(header)
        if parsed.errors:
            return parsed  # rows can't be read against a header that is wrong
        first_sku: dict[str, int] = {}
        attribute_sets: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            parsed.rows += 1
            if parsed.rows > max_rows:
                raise TooManyRows(max_rows)
            if len(cells) != len(columns):
                parsed.errors.append(
                    CellError(number, None, f"has {len(cells)} cells where the header has {len(columns)}")
                )
                continue
            errors_before = len(parsed.errors)
            row = _Row(number, dict(zip(columns, cells, strict=True)), parsed.errors)
            product, variant = _product(row), _variant(row, number)
            if len(parsed.errors) > errors_before:
                continue
            _add(parsed, product, variant, first_sku, attribute_sets)
    except csv.Error as problem:
        parsed.errors.append(CellError(number + 1, None, f"is not valid CSV: {problem}"))
    except UnicodeDecodeError:
        parsed.errors.append(CellError(number + 1, None, "is not UTF-8 text: save the file as CSV UTF-8"))
    return parsed


def _add(
    parsed: ParsedFile,
    product: ProductRows,
    variant: VariantRow,
    first_sku: dict[str, int],
    attribute_sets: dict[tuple[str, tuple[tuple[str, str], ...]], int],
) -> None:
    """Add a well-formed row, checking it against the rows before it."""
    fail = parsed.errors.append
    if variant.sku in first_sku:
        fail(CellError(variant.row, "sku", f"repeats the SKU of row {first_sku[variant.sku]}"))
        return
    first_sku[variant.sku] = variant.row
    known = parsed.products.setdefault(product.slug, product)
    if known is not product:
        differing = [c for c in PRODUCT_COLUMNS if _product_value(known, c) != _product_value(product, c)]
        for column in differing:
            fail(
                CellError(variant.row, column, f"differs from row {known.row}, the same product's first row")
            )
        if differing:
            return
    key = (product.slug, _attribute_key(variant.attributes))
    if key in attribute_sets:
        fail(
            CellError(
                variant.row, None, f"has the same attributes as row {attribute_sets[key]} of this product"
            )
        )
        return
    attribute_sets[key] = variant.row
    known.variants.append(variant)


# --- writing --------------------------------------------------------------------------------------


def header(attribute_names: Iterable[str], currencies: Iterable[str]) -> list[str]:
    extra = sorted(name for name in set(attribute_names) if name not in NAMED_ATTRIBUTES)
    return [
        "product_slug",
        "product_name",
        "description",
        "brand",
        "category_slug",
        "status",
        "tax_class",
        "sku",
        *NAMED_ATTRIBUTES,
        *(ATTRIBUTE_PREFIX + name for name in extra),
        *(PRICE_PREFIX + currency.lower() for currency in currencies),
        "weight_grams",
        "stock",
        "active",
        "images",
    ]


def row(
    columns: list[str],
    *,
    slug: str,
    name: str,
    description: str,
    brand: str,
    category: str,
    status: str,
    tax_class: str,
    sku: str,
    attributes: dict[str, str],
    prices: dict[str, int],
    weight_grams: int,
    stock: int,
    active: bool,
    images: Iterable[str],
) -> list[str]:
    values = {
        "product_slug": slug,
        "product_name": protect(name),
        "description": protect(description),
        "brand": protect(brand),
        "category_slug": category,
        "status": status,
        "tax_class": tax_class,
        "sku": sku,
        **{PRICE_PREFIX + c.lower(): format_price(amount, c) for c, amount in prices.items()},
        "weight_grams": str(weight_grams),
        "stock": str(stock),
        "active": "true" if active else "false",
        "images": " ".join(images),
    }
    for attribute, value in attributes.items():
        column = attribute if attribute in NAMED_ATTRIBUTES else ATTRIBUTE_PREFIX + attribute
        values[column] = protect(value)
    return [values.get(column, "") for column in columns]


def encode(rows: Iterable[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()
