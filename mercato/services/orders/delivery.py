"""Where and how the cart goes: its shipping (and billing) address, the country it is quoted for before
an address is known, and the shipping method — each answered with the cart quoted again
(docs/shipping.md). One call to catalog each: the cart's lines priced in the new country's market,
which also says whether the shop sells there at all."""

from __future__ import annotations

from typing import Any

from mercato.platform.clients import RemoteProblem
from mercato.platform.errors import UnprocessableEntity
from mercato.services.orders import quoting
from mercato.services.orders import repository as repo
from mercato.services.orders.cart import cart, cart_view, country_of
from mercato.services.orders.clients import Priced
from mercato.services.orders.deps import Deps, now
from mercato.services.orders.identity import Buyer, cart_to_write, merge_guest_cart, read_cart
from mercato.services.orders.pricing.tax import US_STATES
from mercato.services.orders.schemas import AddressesIn, CartOut, ShippingMethodOut

US_STATE = "shipping_address.region"


def check_region(address: dict[str, Any], field: str = US_STATE) -> None:
    """A US address names its state (two letters), which its sales tax depends on (docs/tax.md)."""
    if address.get("country") != "US":
        return
    region = str(address.get("region") or "").strip().upper()
    if region not in US_STATES:
        raise UnprocessableEntity(
            "A US address needs its state, as its two-letter code (NY, CA…).",
            errors={field: "must be a US state's two-letter code"},
        )
    address["region"] = region


async def priced_in(deps: Deps, skus: list[str], country: str, field: str) -> Priced:
    """The SKUs in `country`'s market; 422 when the shop sells to no market there."""
    try:
        return await deps.catalog.variants(skus, country=country)
    except RemoteProblem as problem:
        if problem.status != 422:
            raise
        raise UnprocessableEntity(
            f"The shop does not sell to {country}.", errors={field: "is not a country the shop sells to"}
        ) from None


async def set_addresses(deps: Deps, buyer: Buyer, body: AddressesIn) -> CartOut:
    shipping = body.shipping_address.model_dump(mode="json", exclude_none=True)
    billing = (
        body.billing_address.model_dump(mode="json", exclude_none=True) if body.billing_address else None
    )
    check_region(shipping)
    await merge_guest_cart(deps, buyer)
    async with deps.db.read() as session:
        _, lines = await read_cart(session, buyer)
    country = shipping["country"]
    priced = await priced_in(deps, [line.sku for line in lines], country, "shipping_address.country")
    async with deps.db.unit_of_work() as session:
        found = await cart_to_write(session, buyer)
        found.country, found.shipping_address, found.billing_address = country, shipping, billing
        found.updated_at = now()
        lines = await repo.cart_lines(session, found.id)
    return await cart_view(deps, found, lines, priced)


async def set_country(deps: Deps, buyer: Buyer, country: str) -> CartOut:
    """The shop's market picker: quote for `country` before an address is known. A shipping address in
    another country no longer applies and is forgotten."""
    await merge_guest_cart(deps, buyer)
    async with deps.db.read() as session:
        _, lines = await read_cart(session, buyer)
    priced = await priced_in(deps, [line.sku for line in lines], country, "country")
    async with deps.db.unit_of_work() as session:
        found = await cart_to_write(session, buyer)
        if found.country != country:
            found.country, found.shipping_address, found.billing_address = country, None, None
            found.updated_at = now()
        lines = await repo.cart_lines(session, found.id)
    return await cart_view(deps, found, lines, priced)


async def shipping_methods(deps: Deps, buyer: Buyer) -> list[ShippingMethodOut]:
    """The methods that apply to the cart's address (or country) and contents, in display order."""
    await merge_guest_cart(deps, buyer)
    async with deps.db.read() as session:
        found, lines = await read_cart(session, buyer)
    country = country_of(deps, found)
    priced = await deps.catalog.variants([line.sku for line in lines], country=country)
    quote = quoting.price(
        deps.pricing.config,
        priced.market,
        priced.variants,
        [(line.sku, line.quantity) for line in lines],
        quoting.destination(country, found.shipping_address if found else None),
        None,
    )
    return [quoting.method_out(option, priced.market.currency) for option in quote.options]


async def choose_shipping_method(deps: Deps, buyer: Buyer, method_id: str) -> CartOut:
    offered = {method.id for method in await shipping_methods(deps, buyer)}
    if method_id not in offered:
        raise UnprocessableEntity(
            "This shipping method is not offered for this cart and address.",
            errors={"id": f"must be one of: {', '.join(sorted(offered)) or 'none applies'}"},
        )
    async with deps.db.unit_of_work() as session:
        found = await cart_to_write(session, buyer)
        found.shipping_method_id, found.updated_at = method_id, now()
    return await cart(deps, buyer)
