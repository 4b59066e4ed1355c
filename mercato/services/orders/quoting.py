"""The cart's and checkout's one quote: catalog's answer for the cart's lines in the cart's market, the
cart's destination and shipping method, priced by `pricing.quote` — and the quote shown (cart) or kept
(the order's snapshot: every figure stored at checkout, never derived again)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from mercato.contracts.money import Money
from mercato.services.orders.clients import Market, Variant
from mercato.services.orders.pricing.config import PricingConfig
from mercato.services.orders.pricing.quote import Market as QuoteMarket
from mercato.services.orders.pricing.quote import PricedLine, Quote, QuoteLine, quote
from mercato.services.orders.pricing.shipping import ShippingOption
from mercato.services.orders.pricing.tax import Destination
from mercato.services.orders.promotions.rules import Offers
from mercato.services.orders.schemas import (
    Estimate,
    MarketOut,
    OrderShippingMethod,
    ShippingMethodOut,
    TaxLineOut,
    Totals,
)


def rate_text(rate: Decimal) -> str:
    """19 → "19", 5.50 → "5.5": a percentage as the API writes it."""
    text = f"{rate.normalize():f}"
    return text


def destination(country: str, address: Mapping[str, Any] | None) -> Destination:
    """Where the cart goes: its shipping address, or only the country the shopper chose so far."""
    if not address or str(address.get("country", "")).upper() != country.upper():
        return Destination(country=country.upper())
    return Destination(
        country=country.upper(),
        region=str(address.get("region") or ""),
        postal_code=str(address.get("postal_code") or ""),
    )


def price(
    config: PricingConfig,
    market: Market,
    variants: Mapping[str, Variant],
    quantities: Sequence[tuple[str, int]],
    where: Destination,
    shipping_method: str | None,
    offers: Offers | None = None,
) -> Quote:
    """The quote of the lines catalog prices in `market` (a line it does not is left out: not
    purchasable, shown without a price), with the cart promotions of `offers` applied."""
    lines = [
        QuoteLine(
            sku=sku,
            unit_price=variant.price.amount,
            quantity=quantity,
            tax_class=variant.tax_class,
            weight_grams=variant.weight_grams,
            product_id=variant.product_id,
            category_ids=variant.category_ids,
            kind=variant.kind,
            list_unit_price=variant.list_price.amount if variant.list_price else None,
        )
        for sku, quantity in quantities
        if (variant := variants.get(sku)) is not None and variant.price is not None
    ]
    return quote(
        lines,
        market=QuoteMarket(market.id, market.currency, market.prices_include_tax),
        destination=where,
        config=config,
        shipping_method=shipping_method,
        offers=offers,
    )


def market_out(market: Market | QuoteMarket) -> MarketOut:
    return MarketOut(id=market.id, currency=market.currency, prices_include_tax=market.prices_include_tax)


def method_out(option: ShippingOption, currency: str) -> ShippingMethodOut:
    return ShippingMethodOut(
        id=option.id,
        name=option.name,
        kind=option.kind,
        price=Money(amount=option.price, currency=currency),
        estimate=Estimate(min_days=option.min_days, max_days=option.max_days),
    )


def totals_out(priced: Quote) -> Totals:
    currency = priced.market.currency
    t = priced.totals
    return Totals(
        subtotal=Money(amount=t.subtotal, currency=currency),
        discount=Money(amount=t.discount, currency=currency),
        shipping=Money(amount=t.shipping, currency=currency),
        tax=Money(amount=t.tax, currency=currency),
        total=Money(amount=t.total, currency=currency),
    )


def tax_lines_out(priced: Quote) -> list[TaxLineOut]:
    return [
        TaxLineOut(
            rate=rate_text(t.rate),
            label=t.label,
            amount=Money(amount=t.amount, currency=priced.market.currency),
        )
        for t in priced.tax_lines
    ]


# --- the order's snapshot: stored as JSON on the order, shown as it was ----------------------------


def shipping_snapshot(priced: Quote) -> dict[str, Any] | None:
    if priced.shipping is None:
        return None
    option = priced.shipping
    return {
        "id": option.id,
        "name": option.name,
        "kind": option.kind,
        "price": option.price,
        "tax": priced.shipping_tax,
        "tax_rate": rate_text(priced.shipping_tax_rate),
        "discount": priced.shipping_discount,
        "estimate": {"min_days": option.min_days, "max_days": option.max_days},
    }


def promotions_snapshot(priced: Quote) -> list[dict[str, Any]]:
    """The cart promotions applied, as `orders.promotions` keeps them: `amount` includes
    `shipping_amount`; `lines` are the (sku, amount) shares of the lines."""
    return [
        {
            "promotion_id": d.promotion_id,
            "name": d.name,
            "code": d.code,
            "kind": d.type,
            "amount": d.amount,
            "shipping_amount": d.shipping_amount,
            "lines": [[sku, amount] for sku, amount in d.lines],
        }
        for d in priced.discounts
    ]


def line_figures(line: PricedLine, currency: str) -> dict[str, Money | str | None]:
    """A priced line's promotion figures as the cart and the order show them: the unit price before a
    sale (null: none), the cart promotions' share (null: none took anything off it), its kind."""
    return {
        "list_unit_price": money(line.list_unit_price, currency),
        "discount": money(line.discount or None, currency),
        "kind": line.kind,
    }


def money(amount: int | None, currency: str) -> Money | None:
    return Money(amount=amount, currency=currency) if amount is not None else None


def tax_lines_snapshot(priced: Quote) -> list[dict[str, Any]]:
    return [{"rate": rate_text(t.rate), "label": t.label, "amount": t.amount} for t in priced.tax_lines]


def stored_method_out(stored: Mapping[str, Any] | None, currency: str) -> OrderShippingMethod | None:
    if not stored:
        return None
    return OrderShippingMethod(
        id=stored["id"],
        name=stored["name"],
        kind=stored["kind"],
        price=Money(amount=stored["price"], currency=currency),
        estimate=Estimate(**stored["estimate"]),
        tax=Money(amount=stored["tax"], currency=currency),
        tax_rate=stored["tax_rate"],
    )


def stored_tax_lines_out(stored: Sequence[Mapping[str, Any]], currency: str) -> list[TaxLineOut]:
    return [
        TaxLineOut(rate=t["rate"], label=t["label"], amount=Money(amount=t["amount"], currency=currency))
        for t in stored
    ]
