from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mercato.platform.columns import UTCDateTime
from mercato.platform.crypto import Encrypted, EncryptedJSON


class Base(DeclarativeBase):
    pass


class Cart(Base):
    """A shopper's cart: an account's (one per customer) or a guest's, found by the SHA-256 of its cart
    token (the token itself is shown to the client once). It carries what checkout will need besides
    the lines: where it goes, how, and the guest's e-mail address (personal data: encrypted)."""

    __tablename__ = "carts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    country: Mapped[str | None] = mapped_column(String(2))
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON)
    shipping_method_id: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(Encrypted())
    # The promotion codes the shopper entered, normalised (upper case), in the order entered; each is
    # weighed at every quote (applied, or rejected with its reason: docs/promotions.md).
    codes: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CartLine(Base):
    """One row per SKU a cart holds."""

    __tablename__ = "cart_lines"
    __table_args__ = (Index("ix_cart_lines_order", "order_id"),)

    cart_id: Mapped[str] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The checkout that holds this line while it pays: a cart is checked out at most once at a time
    # (two tabs, a double tap, a guest cart being merged into an account), and a line added meanwhile
    # is not part of that order.
    order_id: Mapped[str | None] = mapped_column(String(40))


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("customer_id", "idempotency_key", name="uq_orders_idempotency_key"),
        # A guest's orders have no customer: their Idempotency-Keys are the cart's.
        UniqueConstraint("cart_id", "idempotency_key", name="uq_orders_cart_idempotency_key"),
        Index("ix_orders_email_index", "email_index"),
        UniqueConstraint("number", name="uq_orders_number"),
        UniqueConstraint("invoice_number", name="uq_orders_invoice_number"),
        Index("ix_orders_customer", "customer_id", "id"),
        Index("ix_orders_state", "state", "updated_at"),
        Index("ix_orders_placed_at", "placed_at"),  # the back office's date filters and the reports
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    # None for a guest's order (until the guest claims it for an account: docs/guest-checkout.md).
    customer_id: Mapped[str | None] = mapped_column(String(40))
    # The cart it was bought from (orders from before carts had an identity have none).
    cart_id: Mapped[str | None] = mapped_column(String(40))
    # A guest's e-mail address (encrypted) and its blind index, to confirm to and to find the guest's
    # orders by (a claim, a GDPR request).
    email: Mapped[str | None] = mapped_column(Encrypted())
    email_index: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(24))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(Integer)
    shipping: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    # Encrypted under the orders' data keys (mercato/platform/crypto.py): personal data.
    shipping_address: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON)
    payment_method: Mapped[str] = mapped_column(String(100))  # a provider token, never card data
    idempotency_key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    payment_status: Mapped[str | None] = mapped_column(String(24))
    card_brand: Mapped[str | None] = mapped_column(String(24))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    refunded: Mapped[int] = mapped_column(Integer, default=0)
    # Why a checkout failed, as the HTTP problem it answered, so a retry answers the same.
    failure_status: Mapped[int | None] = mapped_column(Integer)
    failure: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when operations ship the order.
    carrier: Mapped[str | None] = mapped_column(String(50))
    tracking_number: Mapped[str | None] = mapped_column(String(40))
    # The short human number (shown as M-10042), given when the order is placed, in the placing
    # transaction, from OrderNumberCounter; never for a checkout that failed.
    number: Mapped[int | None] = mapped_column(Integer)
    # Its invoice's number (EU-2026-00001), given with the order number in the placing transaction,
    # gapless per market and year (invoicing/numbers.py); the invoice is dated when the order was placed.
    invoice_number: Mapped[str | None] = mapped_column(String(24))
    # The quote it was sold with, kept as it was (docs/money.md): never re-derived.
    market_id: Mapped[str] = mapped_column(String(8), default="eu")
    country: Mapped[str | None] = mapped_column(String(2))
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, default=True)
    tax: Mapped[int] = mapped_column(Integer, default=0)
    discount: Mapped[int] = mapped_column(Integer, default=0)
    # {id, name, kind, price, tax, tax_rate, estimate: {min_days, max_days}}; null for a free nothing.
    shipping_method: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON)
    tax_lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{rate, label, amount}]
    # The cart promotions it was sold with, as they applied (docs/promotions.md):
    # [{promotion_id, name, code, kind, amount, shipping_amount}] — `amount` includes `shipping_amount`.
    promotions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # How it was paid: [{kind: "gift_card", gift_card_id, last4, amount}, …, {kind: "card", amount}]
    # (gift cards first); empty for orders from before gift cards (all by card).
    tenders: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    @property
    def buyer_id(self) -> str:
        """Who bought it, as events and payments name them: the customer, or a guest's cart."""
        return self.customer_id or self.cart_id or ""


class OrderNumberCounter(Base):
    """One row: the last order number given. Placing an order increments it in the same transaction,
    so numbers are unique without gaps on SQLite and PostgreSQL alike (the row lock orders the placers)."""

    __tablename__ = "order_number_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger)


class OrderLine(Base):
    __tablename__ = "order_lines"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(40))
    product_name: Mapped[str] = mapped_column(String(200))
    attributes: Mapped[dict[str, str]] = mapped_column(JSON)
    image_url: Mapped[str | None] = mapped_column(String(300))
    unit_price: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    line_total: Mapped[int] = mapped_column(Integer, default=0)
    tax: Mapped[int] = mapped_column(Integer, default=0)
    tax_rate: Mapped[str] = mapped_column(String(10), default="0")  # a percentage as text: "19", "5.5"
    tax_class: Mapped[str] = mapped_column(String(10), default="standard")
    # The cart promotions' share of this line (largest remainder: the lines' sum to the order's).
    discount: Mapped[int] = mapped_column(Integer, default=0)
    # The unit price before a catalogue promotion (a sale); None when none applied.
    list_unit_price: Mapped[int | None] = mapped_column(Integer)
    # The sale (a catalogue promotion) that priced it, as sold: the report credits it with what it took off.
    sale_promotion_id: Mapped[str | None] = mapped_column(String(40))
    sale_name: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(12), default="physical")  # physical | gift_card
    # Units refunded by line (a return): what they paid back is computed cumulatively (docs/money.md).
    refunded_quantity: Mapped[int] = mapped_column(Integer, default=0)


class OrderStateChange(Base):
    """The order's history: every state it entered, when, why, and who asked for it."""

    __tablename__ = "order_state_changes"
    __table_args__ = (Index("ix_order_state_changes_order", "order_id", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # customer | staff | system (the reconciler, or a consequence such as the refund after a cancel);
    # empty for changes recorded before it was kept.
    actor: Mapped[str | None] = mapped_column(String(16))
    staff_id: Mapped[str | None] = mapped_column(String(40))
