"""The shopper's server-side cart: its lines priced and checked against catalog's current answer."""

from __future__ import annotations

from mercato.contracts.money import Money
from mercato.platform.errors import Conflict, NotFound, UnprocessableEntity
from mercato.services.orders import repository as repo
from mercato.services.orders.clients import Variant
from mercato.services.orders.deps import Deps, now
from mercato.services.orders.identity import Buyer, cart_to_write, merge_guest_cart, read_cart
from mercato.services.orders.models import CartLine
from mercato.services.orders.schemas import CartItemIn, CartLineOut, CartOut
from mercato.services.orders.settings import OrdersSettings


def shipping(subtotal: int, settings: OrdersSettings) -> int:
    return 0 if subtotal == 0 or subtotal >= settings.free_shipping_from else settings.shipping_flat_amount


def _cart_view(
    cart_id: str | None, lines: list[CartLine], variants: dict[str, Variant], settings: OrdersSettings
) -> CartOut:
    out, subtotal, currency = [], 0, "EUR"
    for line in lines:
        variant = variants.get(line.sku)
        price = variant.price if variant else None
        if price:
            currency = price.currency
            subtotal += price.amount * line.quantity
        available = variant.available if variant else 0
        out.append(
            CartLineOut(
                sku=line.sku,
                product_id=variant.product_id if variant else None,
                name=variant.product_name if variant else None,
                attributes=variant.attributes if variant else {},
                image_url=variant.image_url if variant else None,
                quantity=line.quantity,
                unit_price=price,
                line_total=Money(amount=price.amount * line.quantity, currency=price.currency)
                if price
                else None,
                available=available,
                purchasable=variant is not None and available >= line.quantity,
            )
        )
    shipping_amount = shipping(subtotal, settings)
    return CartOut(
        id=cart_id,
        lines=out,
        subtotal=Money(amount=subtotal, currency=currency),
        shipping=Money(amount=shipping_amount, currency=currency),
        total=Money(amount=subtotal + shipping_amount, currency=currency),
        item_count=sum(line.quantity for line in lines),
        purchasable=bool(out) and all(line.purchasable for line in out),
    )


async def cart(deps: Deps, buyer: Buyer) -> CartOut:
    await merge_guest_cart(deps, buyer)
    async with deps.db.read() as session:
        found, lines = await read_cart(session, buyer)
    variants = await deps.catalog.variants([line.sku for line in lines])
    return _cart_view(found.id if found else None, lines, variants, deps.settings)


async def _variant(deps: Deps, sku: str) -> Variant:
    variant = (await deps.catalog.variants([sku])).get(sku)
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
        skus = {line.sku for line in (await read_cart(session, buyer))[1]} | {item.sku}
    variants = await deps.catalog.variants(sorted(skus))
    if (variant := variants.get(item.sku)) is None:
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
    if missing := [line.sku for line in lines if line.sku not in variants]:  # added meanwhile elsewhere
        variants |= await deps.catalog.variants(missing)
    return _cart_view(found.id, lines, variants, deps.settings)


async def set_quantity(deps: Deps, buyer: Buyer, sku: str, quantity: int) -> CartOut:
    variant = await _variant(deps, sku)
    _check_quantity(deps, quantity, variant)
    await merge_guest_cart(deps, buyer)
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
