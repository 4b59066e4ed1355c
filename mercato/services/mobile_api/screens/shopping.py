"""The cart and checkout screens: the orders service's cart trimmed, and what checkout needs in one answer
(the cart, the address book, how to tokenise a card)."""

from __future__ import annotations

import asyncio

from mercato.platform.auth import Shopper
from mercato.services.mobile_api.clients import Cart, Services
from mercato.services.mobile_api.schemas import (
    AddressOut,
    CartLineOut,
    CartOut,
    CheckoutIn,
    CheckoutOut,
    PaymentOut,
    PlacedOut,
)
from mercato.services.mobile_api.settings import MobileApiSettings


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
                available=line.available,
                purchasable=line.purchasable,
            )
            for line in cart.lines
        ],
        subtotal=cart.subtotal,
        shipping=cart.shipping,
        total=cart.total,
        item_count=cart.item_count,
        purchasable=cart.purchasable,
    )


async def cart(services: Services, shopper: Shopper) -> CartOut:
    return cart_screen(await services.orders.cart(shopper))


async def checkout(services: Services, shopper: Shopper, settings: MobileApiSettings) -> CheckoutOut:
    current, account = await asyncio.gather(
        services.orders.cart(shopper), services.customers.account(shopper)
    )
    default = next((address.id for address in account.addresses if address.is_default), None)
    return CheckoutOut(
        cart=cart_screen(current),
        addresses=[
            AddressOut(
                id=a.id,
                name=a.name,
                line1=a.line1,
                line2=a.line2,
                city=a.city,
                postal_code=a.postal_code,
                region=a.region,
                country=a.country,
                phone=a.phone,
            )
            for a in account.addresses
        ],
        default_address_id=default,
        email=account.email,
        payment=PaymentOut(
            provider="stripe",
            publishable_key=settings.payment_publishable_key,
            api_base=settings.payment_api_base,
            wallets=settings.payment_wallets,
        ),
    )


async def place_order(
    services: Services, shopper: Shopper, body: CheckoutIn, idempotency_key: str
) -> tuple[int, PlacedOut]:
    """Orders' checkout, with the app's Idempotency-Key: 201 placed (202: paid, being finalised)."""
    placed = await services.orders.checkout(shopper, body.model_dump(exclude_none=True), idempotency_key)
    order = placed.order
    summary = PlacedOut(
        id=order.id, number=order.number, status=order.state, total=order.total, placed_at=order.placed_at
    )
    return placed.status, summary
