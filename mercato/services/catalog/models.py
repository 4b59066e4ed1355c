from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mercato.platform.columns import UTCDateTime


class Base(DeclarativeBase):
    pass


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Market(Base):
    """Where the shop sells (`markets.py`): countries sharing a currency, and whether the prices entered
    for it include tax. Set by migrations (docs/markets.md), read once at start-up."""

    __tablename__ = "markets"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    countries: Mapped[list[str]] = mapped_column(JSON)  # ISO 3166-1 alpha-2; the first is its default
    prices_include_tax: Mapped[bool] = mapped_column(Boolean)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)


TAX_CLASSES = ("standard", "reduced", "zero")


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        Index("ix_products_category", "category_id", "id"),
        Index("ix_products_status", "status", "id"),
        CheckConstraint("tax_class IN ('standard', 'reduced', 'zero')", name="ck_products_tax_class"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    brand: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[str] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"))
    # active: sold and shown; draft: being prepared; archived: withdrawn. Only active is public.
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Product-level attributes (material, fit, care...); the variants' own attributes pick a variant.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    # Which tax rate applies (orders owns the rates per country): one of TAX_CLASSES.
    tax_class: Mapped[str] = mapped_column(String(16), default="standard", server_default="standard")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())


class Variant(Base):
    __tablename__ = "variants"
    __table_args__ = (
        Index("ix_variants_product", "product_id", "position"),
        CheckConstraint("weight_grams >= 0", name="ck_variants_weight_not_negative"),
        CheckConstraint("kind IN ('physical', 'gift_card')", name="ck_variants_kind"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # An inactive variant is kept (orders and stock history name it) but no longer shown or sold.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    weight_grams: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # shipping by weight
    # physical, or gift_card: a digital variant (payments issues a card per unit) never on sale.
    kind: Mapped[str] = mapped_column(String(16), default="physical", server_default="physical")


class VariantPrice(Base):
    """A variant's price list: one price per currency, the only place prices are kept. A variant with no
    price in a market's currency is not sold in that market."""

    __tablename__ = "variant_prices"
    __table_args__ = (CheckConstraint("amount >= 0", name="ck_variant_prices_amount_not_negative"),)

    variant_id: Mapped[str] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    amount: Mapped[int] = mapped_column(Integer)  # minor units


class CataloguePromotions(Base):
    """The newest set of sales orders published (CataloguePromotionsChanged), as one row (`id` "current"):
    what every price catalog shows and answers is priced with (`sales.py`), and when the documents must be
    rendered again because a sale starts or ends (`next_flip_at`; None: no boundary ahead)."""

    __tablename__ = "catalogue_promotions"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    promotions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # CataloguePromotion, as JSON
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_flip_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Image(Base):
    __tablename__ = "images"
    __table_args__ = (Index("ix_images_product", "product_id", "position"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    storage_key: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    alt: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class Inventory(Base):
    """Stock per SKU. `reserved` counts units held by active reservations; the database itself refuses
    a row where more is reserved than is on hand, whatever bug or race might try."""

    __tablename__ = "inventory"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="ck_inventory_on_hand_not_negative"),
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="ck_inventory_reserved_within_on_hand"),
    )

    sku: Mapped[str] = mapped_column(ForeignKey("variants.sku", ondelete="CASCADE"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())


class ProductDocument(Base):
    """The read model shoppers browse (`browsing.py`, `documents.py`): a product's page and its entry in
    the product list as ready-to-send JSON, rebuilt in the transaction of every change that shows in
    them. Units available are not in the bytes (they change with every reservation): `detail` and
    `summary` are JSON split where they go, and a read joins the live figures in."""

    __tablename__ = "product_documents"
    __table_args__ = (Index("ix_product_documents_slug", "slug", "market_id"),)

    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    market_id: Mapped[str] = mapped_column(String(16), primary_key=True)  # prices in its currency
    slug: Mapped[str] = mapped_column(String(200))
    visible: Mapped[bool] = mapped_column(Boolean)  # active, with a variant on sale: what shoppers may see
    listed: Mapped[bool] = mapped_column(Boolean)  # visible, and priced in the market's currency
    skus: Mapped[str] = mapped_column(Text)  # the active variants' SKUs in page order, space-separated
    detail: Mapped[bytes] = mapped_column(LargeBinary)
    summary: Mapped[bytes] = mapped_column(LargeBinary)
    built_for: Mapped[str] = mapped_column(String(32))  # the document format and image URL it was built with


class ProductDocumentCategory(Base):
    """A visible product under a category: its own, and each one above it (a category lists its subtree;
    the list then keeps the products listed in the market asked for)."""

    __tablename__ = "product_document_categories"
    __table_args__ = (Index("ix_product_document_categories_product", "product_id"),)

    category_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)


class Reservation(Base):
    __tablename__ = "reservations"
    __table_args__ = (Index("ix_reservations_expiry", "status", "expires_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # the caller's idempotency key (an order id)
    status: Mapped[str] = mapped_column(String(16))  # see domain.ReservationStatus
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReservationLine(Base):
    __tablename__ = "reservation_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="ck_reservation_lines_quantity_positive"),)

    reservation_id: Mapped[str] = mapped_column(
        ForeignKey("reservations.id", ondelete="CASCADE"), primary_key=True
    )
    sku: Mapped[str] = mapped_column(ForeignKey("variants.sku"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)


class StockMovement(Base):
    """Every change of stock on hand other than a sale, with its reason: the inventory audit trail.

    `reason` is one of the adjustment reasons staff choose from (received, damaged, ...) or `restocked`
    (a cancelled order's units came back); `staff_id` says who, when a person did it."""

    __tablename__ = "stock_movements"
    __table_args__ = (Index("ix_stock_movements_sku", "sku", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("variants.sku", ondelete="CASCADE"))
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(500))
    staff_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProductImport(Base):
    """One CSV upload and what came of it: applied (with its counts) or rejected (with its errors)."""

    __tablename__ = "product_imports"
    __table_args__ = (Index("ix_product_imports_status", "status", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(40))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # applied | rejected
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    variants_created: Mapped[int] = mapped_column(Integer, default=0)
    variants_updated: Mapped[int] = mapped_column(Integer, default=0)
    variants_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # a rejected import's report
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
