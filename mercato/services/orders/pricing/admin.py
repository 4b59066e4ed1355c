"""The back office's shipping configuration (merchandising): zones and methods, listed, created, edited
and deactivated; tax rates, read-only. Every write is audited and reloads this process's pricing cache
at once (other replicas within `pricing_refresh_seconds`)."""

from __future__ import annotations

from typing import Any

from mercato.contracts.money import Money
from mercato.platform.errors import NotFound, UnprocessableEntity
from mercato.platform.ids import new_id
from mercato.platform.staff import Staff, record_staff_action
from mercato.services.orders.deps import Deps, now
from mercato.services.orders.pricing import repository as repo
from mercato.services.orders.pricing.models import ShippingMethodRow, ShippingZoneRow
from mercato.services.orders.pricing.schemas import (
    BandIn,
    BandOut,
    MethodIn,
    MethodOut,
    MethodPatch,
    TaxRateOut,
    ZoneIn,
    ZoneOut,
    ZonePatch,
    check_bands,
)


def zone_out(row: ShippingZoneRow) -> ZoneOut:
    return ZoneOut.model_validate(row, from_attributes=True)


def method_out(row: ShippingMethodRow) -> MethodOut:
    return MethodOut(
        id=row.id,
        zone_id=row.zone_id,
        name=row.name,
        kind=row.kind,
        currency=row.currency,
        rate_type=row.rate_type,
        amount=Money(amount=row.amount, currency=row.currency),
        bands=[BandOut(up_to=b.get("up_to"), amount=b["amount"]) for b in row.bands],
        free_from=Money(amount=row.free_from, currency=row.currency) if row.free_from is not None else None,
        min_days=row.min_days,
        max_days=row.max_days,
        position=row.position,
        active=row.active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def tax_rates(deps: Deps) -> list[TaxRateOut]:
    async with deps.db.read() as session:
        return [TaxRateOut.model_validate(r, from_attributes=True) for r in await repo.tax_rates(session)]


async def zones(deps: Deps) -> list[ZoneOut]:
    async with deps.db.read() as session:
        return [zone_out(z) for z in await repo.zones(session)]


async def methods(deps: Deps, zone_id: str | None) -> list[MethodOut]:
    async with deps.db.read() as session:
        return [method_out(m) for m in await repo.methods(session, zone_id=zone_id)]


async def _audit(session: Any, staff: Staff, action: str, target_type: str, target_id: str) -> None:
    await record_staff_action(
        session, staff, action, service="orders", target_type=target_type, target_id=target_id
    )


async def create_zone(deps: Deps, staff: Staff, body: ZoneIn) -> ZoneOut:
    at = now()
    row = ShippingZoneRow(
        id=new_id("shz"),
        name=body.name,
        countries=sorted(set(body.countries)),
        postal_patterns=list(dict.fromkeys(body.postal_patterns)),
        active=body.active,
        created_at=at,
        updated_at=at,
    )
    async with deps.db.unit_of_work() as session:
        session.add(row)
        await _audit(session, staff, "shipping_zone.created", "shipping_zone", row.id)
    await deps.pricing.refresh(deps.db)
    return zone_out(row)


async def edit_zone(deps: Deps, staff: Staff, zone_id: str, body: ZonePatch) -> ZoneOut:
    async with deps.db.unit_of_work() as session:
        row = await repo.zone(session, zone_id)
        if row is None:
            raise NotFound("There is no such shipping zone.")
        changes = body.model_dump(exclude_unset=True)
        if "countries" in changes:
            changes["countries"] = sorted(set(changes["countries"]))
        for field, value in changes.items():
            setattr(row, field, value)
        row.updated_at = now()
        await _audit(session, staff, "shipping_zone.updated", "shipping_zone", row.id)
    await deps.pricing.refresh(deps.db)
    return zone_out(row)


async def create_method(deps: Deps, staff: Staff, body: MethodIn) -> MethodOut:
    at = now()
    async with deps.db.unit_of_work() as session:
        if await repo.zone(session, body.zone_id) is None:
            raise UnprocessableEntity("There is no such shipping zone.", errors={"zone_id": "is not a zone"})
        row = ShippingMethodRow(
            id=new_id("shm"),
            **body.model_dump(mode="json", exclude={"bands"}),
            bands=[b.model_dump() for b in body.bands],
            created_at=at,
            updated_at=at,
        )
        session.add(row)
        await _audit(session, staff, "shipping_method.created", "shipping_method", row.id)
    await deps.pricing.refresh(deps.db)
    return method_out(row)


async def edit_method(deps: Deps, staff: Staff, method_id: str, body: MethodPatch) -> MethodOut:
    async with deps.db.unit_of_work() as session:
        row = await repo.method(session, method_id)
        if row is None:
            raise NotFound("There is no such shipping method.")
        changes = body.model_dump(exclude_unset=True)
        rate_type = changes.get("rate_type", row.rate_type)
        bands = body.bands
        try:
            if bands is not None or "rate_type" in changes:
                check_bands(rate_type, bands if bands is not None else _stored_bands(row))
            if changes.get("min_days", row.min_days) > changes.get("max_days", row.max_days):
                raise ValueError("min_days may not be more than max_days")
        except ValueError as problem:
            raise UnprocessableEntity(str(problem)) from None
        for field, value in changes.items():
            setattr(row, field, value)  # bands are dumped to plain dicts by model_dump
        row.updated_at = now()
        await _audit(session, staff, "shipping_method.updated", "shipping_method", row.id)
    await deps.pricing.refresh(deps.db)
    return method_out(row)


def _stored_bands(row: ShippingMethodRow) -> list[BandIn]:
    return [BandIn.model_validate(b, strict=False) for b in row.bands]
