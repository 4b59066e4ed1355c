"""The shopper's server-side cart: its lines priced and checked against catalog's current answer."""

from __future__ import annotations

from mercato.contracts.money import Money
from mercato.platform.errors import Conflict, NotFound, UnprocessableEntity
from mercato.services.orders import quoting
from mercato.services.orders import repository as repo
from mercato.services.orders.clients import Priced, Variant
from mercato.services.orders.deps import Deps, now
from mercato.services.orders.guests.orders import email_index
from mercato.services.orders.identity import Buyer, cart_to_write, merge_guest_cart, read_cart
from mercato.services.orders.models import Cart, CartLine
from mercato.services.orders.pricing.quote import Quote
from mercato.services.orders.promotions import offers
from mercato.services.orders.promotions.cart_schemas import AppliedPromotionOut, CartCodeOut
from mercato.services.orders.promotions.offers import BuyerId, CartOffers
from mercato.services.orders.schemas import CartItemIn, CartLineOut, CartOut


def country_of(deps: Deps, found: Cart | None) -> str:
    """Where the cart is quoted for: its shipping address's country, or the one the shopper picked, or
    the shop's default."""
    return (found.country if found else None) or deps.settings.default_country


async def cart_view(deps: Deps, found: Cart | None, lines: list[CartLine], priced: Priced) -> CartOut:
    """The cart as the quote prices it (docs/money.md): lines, tax, shipping method, promotions (its codes
    applied or rejected, with reasons: docs/promotions.md), totals."""
    country = country_of(deps, found)
    shipping_address = found.shipping_address if found else None
    weighed = await cart_offers(deps, found)
    quote = quoting.price(
        deps.pricing.config,
        priced.market,
        priced.variants,
        [(line.sku, line.quantity) for line in lines],
        quoting.destination(country, shipping_address),
        found.shipping_method_id if found else None,
        weighed.offers,
    )
    currency = priced.market.currency
    quoted = {line.sku: line for line in quote.lines}
    out = []
    for line in lines:
        variant = priced.variants.get(line.sku)
        q = quoted.get(line.sku)
        available = variant.available if variant else 0
        out.append(
            CartLineOut(
                sku=line.sku,
                product_id=variant.product_id if variant else None,
                name=variant.product_name if variant else None,
                attributes=variant.attributes if variant else {},
                image_url=variant.image_url if variant else None,
                quantity=line.quantity,
                unit_price=variant.price if variant else None,
                line_total=Money(amount=q.line_total, currency=currency) if q else None,
                tax=Money(amount=q.tax, currency=currency) if q else None,
                tax_rate=quoting.rate_text(q.tax_rate) if q else None,
                available=available,
                purchasable=q is not None and available >= line.quantity,
                **(quoting.line_figures(q, currency) if q else {}),
            )
        )
    return CartOut(
        id=found.id if found else None,
        lines=out,
        market=quoting.market_out(priced.market),
        country=country,
        shipping_address=shipping_address,
        billing_address=(found.billing_address or shipping_address) if found else None,
        shipping_method=quoting.method_out(quote.shipping, currency) if quote.shipping else None,
        totals=quoting.totals_out(quote),
        tax_lines=quoting.tax_lines_out(quote),
        item_count=sum(line.quantity for line in lines),
        purchasable=bool(out) and all(line.purchasable for line in out) and quote.deliverable,
        codes=codes_out(quote, currency),
        discounts=discounts_out(quote, currency),
    )


async def cart_offers(deps: Deps, found: Cart | None) -> CartOffers:
    """The promotions the cart's quote weighs: the live automatic ones and its codes'. A guest is known
    by e-mail only once a checkout has named it (checkout.checkout_offers): until then per-customer limits
    and first orders are weighed at checkout."""
    return await offers.build(
        deps.db, deps.promotions, (found.codes or []) if found else [], cart_buyer(deps, found), now()
    )


def cart_buyer(deps: Deps, found: Cart | None) -> BuyerId:
    if found is None:
        return BuyerId()
    if found.customer_id is None and found.email:
        return BuyerId(email_index=email_index(deps.settings, found.email))
    return BuyerId(customer_id=found.customer_id)


def codes_out(quote: Quote, currency: str) -> list[CartCodeOut]:
    return [
        CartCodeOut(
            code=c.code,
            status="applied" if c.applied else "rejected",
            applied=c.applied,
            promotion=c.promotion_name,
            reason=c.reason,
            message=c.message,
            discount=Money(amount=c.amount, currency=currency),
        )
        for c in quote.codes
    ]


def discounts_out(quote: Quote, currency: str) -> list[AppliedPromotionOut]:
    return [
        AppliedPromotionOut(
            promotion_id=d.promotion_id,
            name=d.name,
            code=d.code,
            amount=Money(amount=d.amount, currency=currency),
        )
        for d in quote.discounts
    ]


async def cart(deps: Deps, buyer: Buyer) -> CartOut:
    await merge_guest_cart(deps, buyer)
    async with deps.db.read() as session:
        found, lines = await read_cart(session, buyer)
    priced = await deps.catalog.variants([line.sku for line in lines], country=country_of(deps, found))
    return await cart_view(deps, found, lines, priced)


async def _variant(deps: Deps, sku: str, country: str) -> Variant:
    variant = (await deps.catalog.variants([sku], country=country)).variants.get(sku)
    if variant is None:
        raise UnprocessableEntity(
            f"There is no product with SKU {sku}.", errors={"sku": "is not a known SKU"}
        )
    return variant


def _check_quantity(deps: Deps, quantity: int, variant: Variant) -> None:
    if quantity > deps.settings.max_line_quantity:
        raise UnprocessableEntity(
            f"At most {deps.settings.max_line_quantity} of one item per order.",
            errors={"quantity": f"must be at most {deps.settings.max_line_quantity}"},
        )
    if quantity > variant.available:
        raise Conflict(
            f"Only {variant.available} of {variant.sku} can be bought right now.",
            slug="out-of-stock",
            unavailable=[{"sku": variant.sku, "requested": quantity, "available": variant.available}],
        )


async def add_item(deps: Deps, buyer: Buyer, item: CartItemIn) -> CartOut:
    """Add to the cart and answer it priced, with one call to catalog for the whole cart."""
    await merge_guest_cart(deps, buyer)
    async with deps.db.read() as session:
        found, lines = await read_cart(session, buyer)
    skus = {line.sku for line in lines} | {item.sku}
    priced = await deps.catalog.variants(sorted(skus), country=country_of(deps, found))
    if (variant := priced.variants.get(item.sku)) is None:
        raise UnprocessableEntity(
            f"There is no product with SKU {item.sku}.", errors={"sku": "is not a known SKU"}
        )
    async with deps.db.unit_of_work() as session:
        found = await cart_to_write(session, buyer)
        if await repo.cart_line(session, found.id, item.sku) is None and (
            await repo.count_cart_lines(session, found.id) >= deps.settings.max_cart_lines
        ):
            raise UnprocessableEntity(f"A cart holds at most {deps.settings.max_cart_lines} different items.")
        quantity = await repo.add_to_cart_line(session, found.id, item.sku, item.quantity, now())
        _check_quantity(deps, quantity, variant)  # raising rolls the addition back
        lines = await repo.cart_lines(session, found.id)
    # Lines added meanwhile elsewhere (another tab) are priced too.
    if missing := [line.sku for line in lines if line.sku not in priced.variants]:
        more = await deps.catalog.variants(missing, country=country_of(deps, found))
        priced = Priced(priced.market, priced.variants | more.variants)
    return await cart_view(deps, found, lines, priced)


async def set_quantity(deps: Deps, buyer: Buyer, sku: str, quantity: int) -> CartOut:
    await merge_guest_cart(deps, buyer)
    async with deps.db.read() as session:
        found = await repo.cart(session, **buyer.owner())
    variant = await _variant(deps, sku, country_of(deps, found))
    _check_quantity(deps, quantity, variant)
    async with deps.db.unit_of_work() as session:
        found = await repo.cart(session, **buyer.owner())
        line = await repo.cart_line(session, found.id, sku) if found else None
        if line is None:
            raise NotFound(f"{sku} is not in your cart.")
        line.quantity = quantity
    return await cart(deps, buyer)


async def remove_item(deps: Deps, buyer: Buyer, sku: str) -> None:
    await merge_guest_cart(deps, buyer)
    async with deps.db.unit_of_work() as session:
        found = await repo.cart(session, **buyer.owner())
        if found is None or not await repo.remove_cart_lines(session, found.id, [sku]):
            raise NotFound(f"{sku} is not in your cart.")
