"""Which shipping methods apply to a cart, and what each costs (docs/shipping.md)."""

from __future__ import annotations

from dataclasses import dataclass

from mercato.services.orders.pricing.config import PricingConfig
from mercato.services.orders.pricing.tax import Destination


@dataclass(frozen=True)
class ShippingOption:
    id: str
    name: str
    kind: str
    price: int  # in the market's currency; gross in a tax-inclusive market, net in an exclusive one
    min_days: int
    max_days: int


def options(
    config: PricingConfig, destination: Destination, *, currency: str, value: int, weight_grams: int
) -> list[ShippingOption]:
    """The active methods, in the market's currency, of every zone that covers the destination (its
    country, and its postal code where the zone is limited to some), that can carry the cart; in their
    display order."""
    zones = {
        z.id for z in config.zones if z.covers(destination.country.upper(), destination.postal_code or None)
    }
    found = []
    for method in config.methods:
        if method.zone_id not in zones or method.currency != currency:
            continue
        price = method.charge(value=value, weight_grams=weight_grams)
        if price is not None:
            found.append(
                ShippingOption(method.id, method.name, method.kind, price, method.min_days, method.max_days)
            )
    return found


def choose(found: list[ShippingOption], wanted: str | None) -> ShippingOption | None:
    """The method asked for if it applies, else the cheapest delivery (the first listed of equals) — a
    pick-up only when the shopper chooses it, or when nothing else applies; None if nothing does."""
    chosen = next((o for o in found if o.id == wanted), None) if wanted else None
    delivered = [o for o in found if o.kind != "click_and_collect"] or found
    return chosen or min(delivered, key=lambda o: o.price, default=None)
