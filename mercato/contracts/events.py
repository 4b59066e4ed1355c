"""Events: small, immutable, past-tense facts that services publish for anyone to consume.

On the wire every event is an envelope — `event_id` (UUID), `type`, `version`, `occurred_at`,
`traceparent` (W3C trace context) — around a payload, the event model's fields. New fields may be
added to a payload within a version; removing or changing one needs a new version.

Each event belongs to an aggregate (`order`, `product`, `customer`, `payment`, `staff`); the broker subject is
`<namespace>.<aggregate>.<type>`, and events of one aggregate are published in the order they
happened. Product and customer events carry the whole state a consumer needs (event-carried state
transfer), so no consumer ever has to call back, let alone read another service's database.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from mercato.contracts.money import Money


class Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: ClassVar[str]
    aggregate: ClassVar[str]
    version: ClassVar[int] = 1

    def envelope(
        self, *, traceparent: str | None = None, occurred_at: datetime | None = None
    ) -> dict[str, Any]:
        return {
            "event_id": str(uuid.uuid4()),
            "type": self.type,
            "version": self.version,
            "occurred_at": (occurred_at or datetime.now(UTC)).isoformat(),
            "traceparent": traceparent,
            "payload": self.model_dump(mode="json"),
        }


class _Snapshot(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- orders ---------------------------------------------------------------------------------------


class OrderLineSnapshot(_Snapshot):
    sku: str
    product_id: str
    name: str
    quantity: int
    unit_price: Money
    tax: Money | None = Field(default=None, description="The line's tax (absent from older events).")
    tax_rate: str | None = Field(default=None, description="A decimal percentage: `19`, `5.5`.")
    list_unit_price: Money | None = Field(
        default=None,
        description="The unit price before a catalogue promotion (a sale), when one applied; else absent.",
    )
    discount: Money | None = Field(
        default=None, description="The line's share of the cart promotions' discount (docs/promotions.md)."
    )
    kind: str = Field(default="physical", description="`physical`, or `gift_card` (a digital gift card).")


class AppliedPromotion(_Snapshot):
    """A promotion an order was sold with, as it applied: what it took off (lines and shipping)."""

    promotion_id: str
    name: str
    code: str | None = Field(default=None, description="The code it was applied by; null: automatic.")
    amount: Money = Field(description="Everything it took off, its shipping discount included.")


class Tender(_Snapshot):
    """How (part of) an order was paid: a gift card (its code's last four characters) or a card."""

    kind: Literal["gift_card", "card"]
    amount: Money
    last4: str | None = None


class OrderTotals(_Snapshot):
    """As the order stores them (docs/money.md): total = subtotal - discount + shipping (+ tax where
    prices exclude it)."""

    subtotal: Money
    discount: Money
    shipping: Money
    tax: Money
    total: Money


class TaxLine(_Snapshot):
    rate: str = Field(description="A decimal percentage: `19`, `5.5`, `8.875`.")
    label: str
    amount: Money


class OrderPlaced(Event):
    """An order was paid for and written; the customer should get a confirmation."""

    type: ClassVar[str] = "OrderPlaced"
    aggregate: ClassVar[str] = "order"

    order_id: str
    customer_id: str = Field(
        description="The customer, or for a guest's order the guest cart's id (`cart_…`): the id the "
        "order's later events name its buyer by."
    )
    total: Money
    lines: tuple[OrderLineSnapshot, ...]
    placed_at: datetime
    number: str | None = Field(
        default=None, description="The order's short human number, e.g. `M-10042` (absent from older events)."
    )
    email: str | None = Field(
        default=None, description="A guest's order only: the address to confirm to (there is no account)."
    )
    order_url: str | None = Field(
        default=None, description="A guest's order only: the signed link of its page in the shop."
    )
    totals: OrderTotals | None = Field(default=None, description="Absent from older events.")
    tax_lines: tuple[TaxLine, ...] = ()
    prices_include_tax: bool | None = Field(
        default=None, description="Whether the tax lines are included in the total or added to it."
    )
    shipping_method: str | None = Field(default=None, description="The shipping method's name, as sold.")
    market_id: str | None = Field(default=None, description="`eu`, `uk`, `us`; absent from older events.")
    invoice_number: str | None = Field(
        default=None,
        description="Its invoice's number, e.g. `EU-2026-00001` (absent from older events); the PDF is "
        "orders' `GET /internal/orders/{order_id}/invoice`.",
    )
    promotions: tuple[AppliedPromotion, ...] = Field(
        default=(), description="The cart promotions it was sold with (absent from older events)."
    )
    tenders: tuple[Tender, ...] = Field(
        default=(), description="Gift cards first, then the card; absent from older events (a card)."
    )


class OrderStatusChanged(Event):
    """An order moved from one state to another (confirmed, processing, shipped, delivered,
    cancelled, returned, refunded)."""

    type: ClassVar[str] = "OrderStatusChanged"
    aggregate: ClassVar[str] = "order"

    order_id: str
    customer_id: str = Field(description="As OrderPlaced's: the customer, or a guest's cart (`cart_…`).")
    from_state: str
    to_state: str
    reason: str | None = None
    changed_at: datetime
    carrier: str | None = Field(default=None, description="Set when the order was shipped.")
    tracking_number: str | None = Field(default=None, description="Set when the order was shipped.")


class GuestOrdersFound(Event):
    """A new account's e-mail address is the address of earlier guest orders: the address's owner gets a
    link that adds them to the account once opened signed in as it (docs/guest-checkout.md). The link
    runs out at `expires_at`."""

    type: ClassVar[str] = "GuestOrdersFound"
    aggregate: ClassVar[str] = "customer"

    customer_id: str
    email: str
    order_count: int
    claim_url: str
    expires_at: datetime


class GuestErased(Event):
    """Support erased a guest's personal data on request (GDPR; the guest found by e-mail): every consumer
    forgets what it kept under the guest's buyer ids (the carts the guest bought from, `cart_…`)."""

    type: ClassVar[str] = "GuestErased"
    aggregate: ClassVar[str] = "order"

    buyer_ids: tuple[str, ...]
    erased_at: datetime


# --- promotions (orders) --------------------------------------------------------------------------


class PromotionApplied(Event):
    """An order was placed with a promotion: one event per promotion it applied (published in the placing
    transaction; the admin report and anyone analysing promotions count these)."""

    type: ClassVar[str] = "PromotionApplied"
    aggregate: ClassVar[str] = "order"

    order_id: str
    promotion_id: str
    name: str
    code: str | None = Field(default=None, description="The code it was applied by; null: automatic.")
    customer_id: str = Field(description="The buyer id, as OrderPlaced names it.")
    discount: Money = Field(description="What it took off the order (its lines and shipping).")
    placed_at: datetime


class CataloguePromotion(_Snapshot):
    """A sale: an automatic promotion taking an amount or a percentage off each unit of the products it
    names, with no condition on the cart; catalog and search show its price with the list price struck
    through, and the quote charges exactly that (mercato.contracts.promotions.sale_price)."""

    id: str
    name: str
    priority: int = 0
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    markets: tuple[str, ...] = Field(default=(), description="Market ids; empty: every market.")
    product_ids: tuple[str, ...] = ()
    category_ids: tuple[str, ...] = Field(default=(), description="A category covers those below it.")
    skus: tuple[str, ...] = ()
    percent: str | None = Field(default=None, description="A decimal percentage off each unit: `20`, `12.5`.")
    amounts: dict[str, int] = Field(
        default_factory=dict, description="Or a fixed amount off each unit, in minor units per currency."
    )


class CataloguePromotionsChanged(Event):
    """The set of catalogue promotions (sales) changed: the payload is all of them, current and scheduled,
    as of `changed_at` (a consumer keeps the newest set it has seen)."""

    type: ClassVar[str] = "CataloguePromotionsChanged"
    aggregate: ClassVar[str] = "promotion"

    promotions: tuple[CataloguePromotion, ...]
    changed_at: datetime


# --- catalog --------------------------------------------------------------------------------------


class VariantSnapshot(_Snapshot):
    variant_id: str
    sku: str
    attributes: dict[str, str]
    price: Money | None = Field(
        description="The price in the default market's currency (EUR); null when it has none there."
    )
    prices: tuple[Money, ...] = Field(
        default=(), description="The price list: one price per currency the variant is sold in."
    )
    sale_prices: tuple[Money, ...] = Field(
        default=(),
        description="While a sale lowers it: what the variant costs now, per currency (absent: its list "
        "price). A ProductUpdated follows whenever a sale starts or ends.",
    )
    weight_grams: int = 0
    available: int = Field(description="Units on hand minus units reserved.")


class _ProductState(Event):
    product_id: str
    slug: str
    name: str
    brand: str
    description: str
    category_id: str
    category_path: tuple[str, ...] = Field(description="Category slugs from the root down to the product's.")
    status: str = Field(description="active | draft | archived: only active products are for sale")
    tax_class: str = Field(default="standard", description="standard | reduced | zero (orders has the rates)")
    variants: tuple[VariantSnapshot, ...]
    image_url: str | None
    created_at: datetime
    updated_at: datetime


class ProductCreated(_ProductState):
    """A product was added to the catalog; the payload is the whole product."""

    type: ClassVar[str] = "ProductCreated"
    aggregate: ClassVar[str] = "product"


class ProductUpdated(_ProductState):
    """A product (or one of its variants, prices or images) changed; the payload is the whole product."""

    type: ClassVar[str] = "ProductUpdated"
    aggregate: ClassVar[str] = "product"


class ProductDeleted(Event):
    """A product was removed from the catalog."""

    type: ClassVar[str] = "ProductDeleted"
    aggregate: ClassVar[str] = "product"

    product_id: str
    deleted_at: datetime


class InventoryChanged(Event):
    """The stock of one SKU changed (adjustment, sale, restock after a cancellation)."""

    type: ClassVar[str] = "InventoryChanged"
    aggregate: ClassVar[str] = "product"

    product_id: str
    sku: str
    on_hand: int
    reserved: int
    available: int
    reason: str
    changed_at: datetime


# --- customers ------------------------------------------------------------------------------------


class OptIns(_Snapshot):
    email: bool
    sms: bool
    push: bool


class _CustomerContact(Event):
    customer_id: str
    email: str
    name: str
    phone: str | None
    language: str
    opt_ins: OptIns


class CustomerRegistered(_CustomerContact):
    """A shopper created an account. Carries the contact details and opt-ins notifications need."""

    type: ClassVar[str] = "CustomerRegistered"
    aggregate: ClassVar[str] = "customer"

    registered_at: datetime


class CustomerUpdated(_CustomerContact):
    """A shopper changed their contact details, language or communication opt-ins."""

    type: ClassVar[str] = "CustomerUpdated"
    aggregate: ClassVar[str] = "customer"

    updated_at: datetime


class CustomerErased(Event):
    """A shopper's personal data was erased (GDPR): every consumer must forget what it kept of them."""

    type: ClassVar[str] = "CustomerErased"
    aggregate: ClassVar[str] = "customer"

    customer_id: str
    erased_at: datetime


class CustomerSessionsRevoked(Event):
    """Every session a shopper had until `revoked_at` ended: their refresh tokens are revoked, and each
    service that accepts shopper tokens must refuse an access token issued before `valid_after`."""

    type: ClassVar[str] = "CustomerSessionsRevoked"
    aggregate: ClassVar[str] = "customer"

    customer_id: str
    reason: Literal["erased", "password_changed", "password_reset", "signed_out_everywhere"]
    revoked_at: datetime
    valid_after: int = Field(description="Unix seconds: refuse a token whose `iat` is earlier.")


class PasswordResetRequested(Event):
    """A shopper asked to reset a forgotten password: e-mail them the link (whatever their opt-ins).

    It carries the raw single-use token, for notifications to put in the link, and nothing else would
    ever need it; customers stores only its hash. The token dies at `expires_at` (or when used), so the
    copies the event leaves behind (customers' encrypted outbox, the broker's stream, notifications'
    encrypted message) are worthless soon after (docs/security.md)."""

    type: ClassVar[str] = "PasswordResetRequested"
    aggregate: ClassVar[str] = "customer"

    customer_id: str
    email: str
    name: str
    language: str
    token: str
    expires_at: datetime


# --- payments -------------------------------------------------------------------------------------


class PaymentCaptured(Event):
    """Money for an order was captured by the payment provider."""

    type: ClassVar[str] = "PaymentCaptured"
    aggregate: ClassVar[str] = "payment"

    payment_id: str
    order_id: str
    customer_id: str
    amount: Money
    captured_at: datetime


class PaymentRefunded(Event):
    """Money for an order was refunded (in full or in part)."""

    type: ClassVar[str] = "PaymentRefunded"
    aggregate: ClassVar[str] = "payment"

    payment_id: str
    order_id: str
    customer_id: str
    amount: Money = Field(description="This refund.")
    total_refunded: Money = Field(description="Everything refunded for the order so far.")
    reason: str | None = None
    refunded_at: datetime


class GiftCardIssued(Event):
    """A gift card was issued: bought in an order (one per unit of a gift-card line) or by staff. The code
    is not in the event: the one who sends it asks payments (`GET /internal/gift-cards/{id}/code`)."""

    type: ClassVar[str] = "GiftCardIssued"
    aggregate: ClassVar[str] = "gift_card"

    gift_card_id: str
    last4: str
    balance: Money
    order_id: str | None = Field(default=None, description="The order it was bought in; null: staff issued.")
    customer_id: str | None = Field(default=None, description="The buyer id of that order.")
    email: str | None = Field(
        default=None, description="Where the code goes: the recipient staff named, or a guest buyer's e-mail."
    )
    expires_at: datetime | None = None
    issued_at: datetime


class GiftCardRedeemed(Event):
    """Part of a gift card's balance paid for an order (published once the order's payment succeeded)."""

    type: ClassVar[str] = "GiftCardRedeemed"
    aggregate: ClassVar[str] = "gift_card"

    gift_card_id: str
    order_id: str
    amount: Money
    balance: Money = Field(description="What is left on the card.")
    redeemed_at: datetime


# --- staff ----------------------------------------------------------------------------------------


class StaffActionRecorded(Event):
    """A staff member did something through the admin API: the audit trail's unit, written in the same
    transaction as the action itself, wherever it happened; customers keeps the audit log."""

    type: ClassVar[str] = "StaffActionRecorded"
    aggregate: ClassVar[str] = "staff"

    staff_id: str
    action: str = Field(description="What was done, e.g. `product.update`, `order.ship`, `refund.create`.")
    target_type: str | None = Field(default=None, description="The kind of thing acted on, e.g. `product`.")
    target_id: str | None = None
    source_ip: str | None = Field(default=None, description="The client address the gateway saw.")
    service: str = Field(description="The service that performed the action.")
    details: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    occurred_at: datetime


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        OrderPlaced,
        OrderStatusChanged,
        GuestOrdersFound,
        GuestErased,
        PromotionApplied,
        CataloguePromotionsChanged,
        ProductCreated,
        ProductUpdated,
        ProductDeleted,
        InventoryChanged,
        CustomerRegistered,
        CustomerUpdated,
        CustomerErased,
        CustomerSessionsRevoked,
        PasswordResetRequested,
        PaymentCaptured,
        PaymentRefunded,
        GiftCardIssued,
        GiftCardRedeemed,
        StaffActionRecorded,
    )
}
"""Every event type by name: what consumers parse and the AsyncAPI document lists."""
