"""The cart screen: orders' cart trimmed — its lines and the quote (totals, tax lines, the shipping
method) exactly as orders answered them — and the quote's parts as every shopper screen shows them."""

from __future__ import annotations

from typing import Any

from mercato.services.mobile_api.clients import Buyer, Cart, Services, ShippingMethod, TaxLine, Totals
from mercato.services.mobile_api.clients.promotions import Discount
from mercato.services.mobile_api.schemas import (
    CartLineOut,
    CartOut,
    CodeOut,
    DiscountOut,
    EstimateOut,
    PostalAddressOut,
    ShippingMethodOut,
    TaxLineOut,
    TotalsOut,
)
from mercato.services.mobile_api.screens.browse import market_out


def totals_out(totals: Totals) -> TotalsOut:
    return TotalsOut(
        subtotal=totals.subtotal,
        discount=totals.discount,
        shipping=totals.shipping,
        tax=totals.tax,
        total=totals.total,
    )


def tax_lines_out(lines: tuple[TaxLine, ...]) -> list[TaxLineOut]:
    return [TaxLineOut(rate=line.rate, label=line.label, amount=line.amount) for line in lines]


def method_out(method: ShippingMethod) -> ShippingMethodOut:
    return ShippingMethodOut(
        id=method.id,
        name=method.name,
        kind=method.kind,
        price=method.price,
        estimate=EstimateOut(min_days=method.min_days, max_days=method.max_days),
    )


def address_out(address: dict[str, Any] | None) -> PostalAddressOut | None:
    return PostalAddressOut.model_validate(address) if address else None


def discounts_out(discounts: tuple[Discount, ...]) -> list[DiscountOut]:
    return [
        DiscountOut(promotion_id=d.promotion_id, name=d.name, code=d.code, amount=d.amount) for d in discounts
    ]


def cart_screen(cart: Cart) -> CartOut:
    return CartOut(
        lines=[
            CartLineOut(
                sku=line.sku,
                product_id=line.product_id,
                name=line.name,
                attributes=line.attributes,
                image=line.image_url,
                quantity=line.quantity,
                unit_price=line.unit_price,
                line_total=line.line_total,
                tax=line.tax,
                tax_rate=line.tax_rate,
                available=line.available,
                purchasable=line.purchasable,
                list_unit_price=line.list_unit_price,
                discount=line.discount,
            )
            for line in cart.lines
        ],
        market=market_out(cart.market),
        totals=totals_out(cart.totals),
        tax_lines=tax_lines_out(cart.tax_lines),
        shipping_method=method_out(cart.shipping_method) if cart.shipping_method else None,
        item_count=cart.item_count,
        purchasable=cart.purchasable,
        codes=[
            CodeOut(
                code=c.code,
                applied=c.applied,
                promotion=c.promotion,
                reason=c.reason,
                message=c.message,
                discount=c.discount,
            )
            for c in cart.codes
        ],
        discounts=discounts_out(cart.discounts),
    )


async def cart(services: Services, buyer: Buyer) -> CartOut:
    return cart_screen(await services.orders.cart(buyer))
