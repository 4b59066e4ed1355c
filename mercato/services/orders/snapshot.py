"""Checkout's quote, kept: where the order goes and how (from the checkout's body, else the cart), and
the quote turned into the figures the order and its lines store — never derived again (docs/money.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mercato.platform.errors import UnprocessableEntity
from mercato.services.orders import quoting
from mercato.services.orders.clients import Priced
from mercato.services.orders.delivery import check_region
from mercato.services.orders.models import Cart, CartLine, OrderLine
from mercato.services.orders.pricing.config import PricingConfig
from mercato.services.orders.pricing.quote import Quote
from mercato.services.orders.promotions.rules import Offers
from mercato.services.orders.schemas import CheckoutIn


@dataclass(frozen=True)
class Delivery:
    shipping_address: dict[str, Any]
    billing_address: dict[str, Any]
    shipping_method: str | None  # asked for; None: the cheapest delivery that applies
    method_required: bool  # asked for in the checkout's body: 422 if it does not apply

    @property
    def country(self) -> str:
        return self.shipping_address["country"]


def delivery(cart: Cart, body: CheckoutIn) -> Delivery:
    """What the body says, else what the cart says; billing defaults to shipping."""

    def dumped(address: Any) -> dict[str, Any] | None:
        return address.model_dump(mode="json", exclude_none=True) if address is not None else None

    shipping = dumped(body.shipping_address) or cart.shipping_address
    if not shipping:
        raise UnprocessableEntity(
            "Where should the order go? Send a shipping address (or set the cart's: PUT /cart/address).",
            errors={"shipping_address": "is required"},
        )
    check_region(shipping)
    billing = dumped(body.billing_address) or cart.billing_address or shipping
    return Delivery(
        shipping_address=shipping,
        billing_address=billing,
        shipping_method=body.shipping_method or cart.shipping_method_id,
        method_required=body.shipping_method is not None,
    )


def quote_for(
    config: PricingConfig,
    priced: Priced,
    lines: list[CartLine],
    where: Delivery,
    offers: Offers | None = None,
) -> Quote:
    """The checkout's quote, the cart promotions of `offers` applied; 422 when the method asked for, or
    any method, does not apply to a cart with something to deliver (gift cards alone need none)."""
    quote = quoting.price(
        config,
        priced.market,
        priced.variants,
        [(line.sku, line.quantity) for line in lines],
        quoting.destination(where.country, where.shipping_address),
        where.shipping_method,
        offers,
    )
    if not quote.needs_shipping:
        return quote
    if quote.shipping is None:
        raise UnprocessableEntity(
            "No shipping method delivers this order to this address.",
            errors={"shipping_address": "is not one the shop delivers to"},
        )
    if where.method_required and quote.shipping.id != where.shipping_method:
        raise UnprocessableEntity(
            "This shipping method is not offered for this cart and address.",
            errors={"shipping_method": f"must be one of: {', '.join(o.id for o in quote.options)}"},
        )
    return quote


def order_figures(quote: Quote, where: Delivery) -> dict[str, Any]:
    """The order's columns that keep its quote."""
    totals = quote.totals
    return {
        "market_id": quote.market.id,
        "country": where.country,
        "currency": quote.market.currency,
        "prices_include_tax": quote.market.prices_include_tax,
        "subtotal": totals.subtotal,
        "discount": totals.discount,
        "shipping": totals.shipping,
        "tax": totals.tax,
        "total": totals.total,
        "shipping_method": quoting.shipping_snapshot(quote),
        "tax_lines": quoting.tax_lines_snapshot(quote),
        "promotions": quoting.promotions_snapshot(quote),
        "shipping_address": where.shipping_address,
        "billing_address": where.billing_address,
    }


def order_lines(order_id: str, quote: Quote, priced: Priced) -> list[OrderLine]:
    out = []
    for line in quote.lines:
        variant = priced.variants[line.sku]
        out.append(
            OrderLine(
                order_id=order_id,
                sku=line.sku,
                product_id=variant.product_id,
                product_name=variant.product_name,
                attributes=variant.attributes,
                image_url=variant.image_url,
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=line.line_total,
                tax=line.tax,
                tax_rate=quoting.rate_text(line.tax_rate),
                tax_class=line.tax_class,
                discount=line.discount,
                list_unit_price=line.list_unit_price,
                sale_promotion_id=variant.sale[0] if variant.sale and line.list_unit_price else None,
                sale_name=variant.sale[1] if variant.sale and line.list_unit_price else None,
                kind=line.kind,
            )
        )
    return out
