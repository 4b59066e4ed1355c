"""The quote: a cart's lines as catalog prices them in a market, delivered to a destination by a
shipping method, its cart promotions applied (promotions/engine.py), priced to the cent — pure, no I/O
(docs/money.md).

Discounts come before tax: each line is taxed on `line_total - discount`, the shipping charge on
`shipping - shipping discount`.

Tax is worked out per tax group (the lines and the shipping charge taxed at one rate): rounded half up
once per group, then spread over its members by largest remainder, so the lines' tax and the shipping's
sum exactly to each tax line, and those to the total tax. In a market whose prices include tax the tax
is the part of the gross price that is tax (gross x r / (100 + r)); where they exclude it, it is added
(net x r / 100).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from mercato.services.orders.pricing import shipping as shipping_methods
from mercato.services.orders.pricing import tax as taxes
from mercato.services.orders.pricing.config import PricingConfig
from mercato.services.orders.pricing.money import round_half_up, spread
from mercato.services.orders.pricing.shipping import ShippingOption
from mercato.services.orders.pricing.tax import AppliedRate, Destination
from mercato.services.orders.promotions import engine
from mercato.services.orders.promotions.rules import AppliedDiscount, CodeOutcome, Offers

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Market:
    id: str
    currency: str
    prices_include_tax: bool


@dataclass(frozen=True)
class QuoteLine:
    """A line as catalog prices it in the market: its unit price in the market's currency (gross or net
    as the market says; a sale applied), its tax class and weight, and what promotions weigh: its product,
    the product's categories (and every one above them), its kind (a `gift_card` is digital: never
    shipped, never discounted) and the unit price before a sale (None: no sale)."""

    sku: str
    unit_price: int
    quantity: int
    tax_class: str = "standard"
    weight_grams: int = 0
    product_id: str = ""
    category_ids: tuple[str, ...] = ()
    kind: str = "physical"
    list_unit_price: int | None = None

    @property
    def shipped(self) -> bool:
        return self.kind != engine.GIFT_CARD


@dataclass(frozen=True)
class PricedLine:
    sku: str
    unit_price: int
    quantity: int
    line_total: int
    tax: int
    tax_rate: Decimal
    tax_class: str
    list_unit_price: int | None = None
    discount: int = 0  # the cart promotions' share of this line (their shares sum to totals.discount)
    kind: str = "physical"


@dataclass(frozen=True)
class TaxLine:
    rate: Decimal
    label: str
    amount: int


@dataclass(frozen=True)
class Totals:
    subtotal: int
    discount: int
    shipping: int
    tax: int
    total: int


@dataclass(frozen=True)
class Quote:
    market: Market
    destination: Destination
    lines: tuple[PricedLine, ...]
    shipping: ShippingOption | None  # the method it is quoted with
    shipping_tax: int
    shipping_tax_rate: Decimal
    options: tuple[ShippingOption, ...]  # every method that applies
    tax_lines: tuple[TaxLine, ...]
    totals: Totals
    discounts: tuple[AppliedDiscount, ...] = ()  # the cart promotions applied, in the order applied
    codes: tuple[CodeOutcome, ...] = ()  # each code on the cart: applied, or rejected and why
    shipping_discount: int = 0  # free shipping's part of totals.discount
    needs_shipping: bool = True  # False: every line is digital (a gift card), no method needed

    @property
    def deliverable(self) -> bool:
        """A method delivers it, or nothing in it is delivered."""
        return self.shipping is not None or not self.needs_shipping


def quote(
    lines: Sequence[QuoteLine],
    *,
    market: Market,
    destination: Destination,
    config: PricingConfig,
    shipping_method: str | None = None,
    offers: Offers | None = None,
) -> Quote:
    """Price `lines` for `destination` in `market`, shipped by `shipping_method` if it applies, else by
    the cheapest method that does (none for an empty cart, a cart of digital lines only, or where no
    method applies), with the cart promotions of `offers` applied before tax.

    Shipping methods are offered by the value (before cart promotions) and weight of the lines shipped."""
    subtotal = sum(line.unit_price * line.quantity for line in lines)
    shipped = [line for line in lines if line.shipped]
    found = (
        shipping_methods.options(
            config,
            destination,
            currency=market.currency,
            value=sum(line.unit_price * line.quantity for line in shipped),
            weight_grams=sum(line.weight_grams * line.quantity for line in shipped),
        )
        if shipped
        else []
    )
    chosen = shipping_methods.choose(found, shipping_method)
    shipping = chosen.price if chosen else 0
    promoted = _discounts(lines, market, shipping, offers)
    shipping_discount = promoted.shipping_discount if promoted else 0
    line_discounts = promoted.line_discounts if promoted else (0,) * len(lines)
    rates = taxes.rates(config, destination, [line.tax_class for line in lines])

    # Members of each tax group: (index, taxed amount); the shipping charge is the member after the lines.
    groups: dict[AppliedRate, list[tuple[int, int]]] = defaultdict(list)
    for i, line in enumerate(lines):
        groups[rates.by_class[line.tax_class]].append(
            (i, line.unit_price * line.quantity - line_discounts[i])
        )
    if shipping - shipping_discount:
        groups[rates.shipping].append((len(lines), shipping - shipping_discount))

    tax_of = [0] * (len(lines) + 1)
    rate_of: dict[int, Decimal] = {}
    tax_lines = []
    for applied, members in groups.items():
        factor = applied.rate / (HUNDRED + applied.rate if market.prices_include_tax else HUNDRED)
        shares = [amount * factor for _, amount in members]
        group_tax = round_half_up(sum(shares, Decimal(0)))
        for (i, _), amount in zip(members, spread(group_tax, shares), strict=True):
            tax_of[i], rate_of[i] = amount, applied.rate
        if applied.rate:
            tax_lines.append(TaxLine(rate=applied.rate, label=applied.label, amount=group_tax))
    tax_lines.sort(key=lambda t: (-t.rate, t.label))

    tax = sum(t.amount for t in tax_lines)
    discount = sum(line_discounts) + shipping_discount
    return Quote(
        market=market,
        destination=destination,
        lines=tuple(
            PricedLine(
                sku=line.sku,
                unit_price=line.unit_price,
                quantity=line.quantity,
                line_total=line.unit_price * line.quantity,
                tax=tax_of[i],
                tax_rate=rate_of[i],
                tax_class=line.tax_class,
                list_unit_price=line.list_unit_price,
                discount=line_discounts[i],
                kind=line.kind,
            )
            for i, line in enumerate(lines)
        ),
        shipping=chosen,
        shipping_tax=tax_of[len(lines)],
        shipping_tax_rate=rate_of.get(len(lines), Decimal(0)),
        options=tuple(found),
        tax_lines=tuple(tax_lines),
        totals=Totals(
            subtotal=subtotal,
            discount=discount,
            shipping=shipping,
            tax=tax,
            total=subtotal - discount + shipping + (0 if market.prices_include_tax else tax),
        ),
        discounts=promoted.discounts if promoted else (),
        codes=promoted.codes if promoted else (),
        shipping_discount=shipping_discount,
        needs_shipping=bool(shipped) or not lines,
    )


def _discounts(
    lines: Sequence[QuoteLine], market: Market, shipping: int, offers: Offers | None
) -> engine.Outcome | None:
    if offers is None:
        return None
    items = [
        engine.Item(
            sku=line.sku,
            product_id=line.product_id,
            category_ids=line.category_ids,
            kind=line.kind,
            unit_price=line.unit_price,
            quantity=line.quantity,
        )
        for line in lines
    ]
    return engine.apply(
        items, shipping=shipping, market_id=market.id, currency=market.currency, offers=offers
    )
