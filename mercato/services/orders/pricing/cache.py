"""The quote's configuration kept in memory: no statement on the hot path.

Loaded when the process starts, reloaded every `pricing_refresh_seconds` (default 30) by a periodic
task, and at once in the process that changed it (the back office's writes). Another replica sees a
change within that interval (docs/shipping.md).
"""

from __future__ import annotations

from decimal import Decimal

from mercato.platform.db import Database
from mercato.services.orders.pricing import repository as repo
from mercato.services.orders.pricing.config import (
    Band,
    PricingConfig,
    ShippingMethod,
    ShippingZone,
    TaxRate,
)
from mercato.services.orders.pricing.models import ShippingMethodRow, ShippingZoneRow, TaxRateRow


def _tax_rate(row: TaxRateRow) -> TaxRate:
    return TaxRate(
        country=row.country,
        region=row.region,
        tax_class=row.tax_class,  # type: ignore[arg-type]
        rate=Decimal(row.rate),
        label=row.label,
        shipping_taxable=row.shipping_taxable,
    )


def zone_of(row: ShippingZoneRow) -> ShippingZone:
    return ShippingZone(
        id=row.id,
        name=row.name,
        countries=frozenset(row.countries),
        postal_patterns=tuple(row.postal_patterns or ()),
    )


def method_of(row: ShippingMethodRow) -> ShippingMethod:
    return ShippingMethod(
        id=row.id,
        zone_id=row.zone_id,
        name=row.name,
        kind=row.kind,  # type: ignore[arg-type]
        currency=row.currency,
        rate_type=row.rate_type,  # type: ignore[arg-type]
        amount=row.amount,
        bands=tuple(Band(up_to=b.get("up_to"), amount=b["amount"]) for b in row.bands or ()),
        free_from=row.free_from,
        min_days=row.min_days,
        max_days=row.max_days,
        position=row.position,
    )


class PricingCache:
    def __init__(self, us_nexus: frozenset[str]) -> None:
        self.us_nexus = us_nexus
        self.config = PricingConfig(us_nexus=us_nexus)

    async def refresh(self, db: Database) -> None:
        async with db.read() as session:
            rates = await repo.tax_rates(session)
            zones = [z for z in await repo.zones(session) if z.active]
            methods = await repo.methods(session)
        active = {z.id for z in zones}
        self.config = PricingConfig.of(
            tax_rates=[_tax_rate(r) for r in rates],
            zones=[zone_of(z) for z in zones],
            methods=[method_of(m) for m in methods if m.active and m.zone_id in active],
            us_nexus=self.us_nexus,
        )
