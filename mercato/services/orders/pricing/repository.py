"""Every query of the quote's configuration."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.services.orders.pricing.models import ShippingMethodRow, ShippingZoneRow, TaxRateRow


async def tax_rates(session: AsyncSession) -> list[TaxRateRow]:
    return list(
        await session.scalars(
            select(TaxRateRow).order_by(TaxRateRow.country, TaxRateRow.region, TaxRateRow.tax_class)
        )
    )


async def zones(session: AsyncSession) -> list[ShippingZoneRow]:
    return list(await session.scalars(select(ShippingZoneRow).order_by(ShippingZoneRow.name)))


async def methods(session: AsyncSession, *, zone_id: str | None = None) -> list[ShippingMethodRow]:
    query = select(ShippingMethodRow).order_by(
        ShippingMethodRow.position, ShippingMethodRow.name, ShippingMethodRow.id
    )
    if zone_id:
        query = query.where(ShippingMethodRow.zone_id == zone_id)
    return list(await session.scalars(query))


async def zone(session: AsyncSession, zone_id: str) -> ShippingZoneRow | None:
    return await session.get(ShippingZoneRow, zone_id)


async def method(session: AsyncSession, method_id: str) -> ShippingMethodRow | None:
    return await session.get(ShippingMethodRow, method_id)
