"""The checkout screen and its steps, one round trip each: the screen (the cart quoted for its address,
the shipping methods that apply there, the address book, how to tokenise a card); an address chosen; a
shipping method chosen — each step answers the whole screen again, re-quoted by orders; then payment."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from mercato.services.mobile_api.clients import Account, Buyer, Delivery, Services
from mercato.services.mobile_api.schemas import (
    AddressOut,
    CheckoutAddressIn,
    CheckoutIn,
    CheckoutOut,
    PaymentOut,
    PlacedOut,
    ShippingMethodIn,
)
from mercato.services.mobile_api.screens.shopping import (
    address_out,
    cart_screen,
    market_out,
    method_out,
    tax_lines_out,
    totals_out,
)
from mercato.services.mobile_api.settings import MobileApiSettings


def _screen(delivery: Delivery, account: Account, settings: MobileApiSettings) -> CheckoutOut:
    cart = delivery.cart
    default = next((address.id for address in account.addresses if address.is_default), None)
    return CheckoutOut(
        cart=cart_screen(cart),
        shipping_address=address_out(cart.shipping_address),
        billing_address=address_out(cart.billing_address),
        shipping_methods=[method_out(method) for method in delivery.methods],
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


async def _with_account(
    services: Services, buyer: Buyer, step: Awaitable[Delivery], settings: MobileApiSettings
) -> CheckoutOut:
    """A checkout step and, for a signed-in shopper, the account beside it (a guest has no address book;
    the e-mail is the one the cart was given)."""
    if buyer.shopper is None:
        delivery = await step
        return _screen(delivery, Account(email=delivery.cart.email, addresses=()), settings)
    delivery, account = await asyncio.gather(step, services.customers.account(buyer.shopper))
    return _screen(delivery, account, settings)


async def checkout(services: Services, buyer: Buyer, settings: MobileApiSettings) -> CheckoutOut:
    return await _with_account(services, buyer, services.orders.delivery(buyer), settings)


async def set_address(
    services: Services, buyer: Buyer, body: CheckoutAddressIn, settings: MobileApiSettings
) -> CheckoutOut:
    """Deliver (and bill) there: orders re-quotes the cart for that country's market and lists the methods
    that apply."""
    step = services.orders.set_address(buyer, body.model_dump(exclude_none=True))
    return await _with_account(services, buyer, step, settings)


async def set_shipping_method(
    services: Services, buyer: Buyer, body: ShippingMethodIn, settings: MobileApiSettings
) -> CheckoutOut:
    step = services.orders.set_shipping_method(buyer, body.id)
    return await _with_account(services, buyer, step, settings)


async def place_order(
    services: Services, buyer: Buyer, body: CheckoutIn, idempotency_key: str
) -> tuple[int, PlacedOut]:
    """Orders' checkout, with the app's Idempotency-Key: 201 placed (202: paid, being finalised)."""
    placed = await services.orders.checkout(buyer, body.model_dump(exclude_none=True), idempotency_key)
    order = placed.order
    summary = PlacedOut(
        id=order.id,
        number=order.number,
        status=order.state,
        placed_at=order.placed_at,
        market=market_out(order.market) if order.market else None,
        totals=totals_out(order.totals),
        tax_lines=tax_lines_out(order.tax_lines),
        shipping_method=method_out(order.shipping_method) if order.shipping_method else None,
        email=order.email,
        order_url=order.order_url,
    )
    return placed.status, summary
