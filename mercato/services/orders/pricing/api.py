"""The back office's routes for the quote's configuration (`/admin/v1`, merchandising): shipping zones
and methods (list, create, edit, deactivate) and the tax rates (read-only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from mercato.platform.staff import Staff, requires
from mercato.services.orders.deps import Deps
from mercato.services.orders.pricing import admin as use_cases
from mercato.services.orders.pricing.schemas import (
    MethodIn,
    MethodList,
    MethodOut,
    MethodPatch,
    TaxRateList,
    ZoneIn,
    ZoneList,
    ZoneOut,
    ZonePatch,
)

router = APIRouter(prefix="/admin/v1", tags=["back office: shipping and tax"])

Merchandising = Annotated[Staff, requires("merchandising")]
IdPath = Annotated[str, Path(max_length=40)]


def _deps(request: Request) -> Deps:
    return request.app.state.deps


DepsDep = Annotated[Deps, Depends(_deps)]


@router.get("/tax-rates", response_model=TaxRateList)
async def tax_rates(staff: Merchandising, deps: DepsDep) -> TaxRateList:
    """Every tax rate by country (and US state) and tax class: what the quote charges (docs/tax.md)."""
    return TaxRateList(data=await use_cases.tax_rates(deps))


@router.get("/shipping-zones", response_model=ZoneList)
async def zones(staff: Merchandising, deps: DepsDep) -> ZoneList:
    """Every shipping zone, inactive ones too, by name."""
    return ZoneList(data=await use_cases.zones(deps))


@router.post("/shipping-zones", status_code=201, response_model=ZoneOut)
async def create_zone(body: ZoneIn, staff: Merchandising, deps: DepsDep) -> ZoneOut:
    """A zone: countries, optionally limited to postal-code patterns."""
    return await use_cases.create_zone(deps, staff, body)


@router.patch("/shipping-zones/{zone_id}", response_model=ZoneOut)
async def edit_zone(zone_id: IdPath, body: ZonePatch, staff: Merchandising, deps: DepsDep) -> ZoneOut:
    """Change a zone; `{"active": false}` deactivates it (its methods are offered no more)."""
    return await use_cases.edit_zone(deps, staff, zone_id, body)


@router.get("/shipping-methods", response_model=MethodList)
async def methods(
    staff: Merchandising,
    deps: DepsDep,
    zone_id: Annotated[str | None, Query(max_length=40)] = None,
) -> MethodList:
    """Every shipping method (of one zone with `zone_id`), inactive ones too, in display order."""
    return MethodList(data=await use_cases.methods(deps, zone_id))


@router.post(
    "/shipping-methods",
    status_code=201,
    response_model=MethodOut,
    responses={422: {"description": "Unknown zone, bands that do not rise, min_days over max_days"}},
)
async def create_method(body: MethodIn, staff: Merchandising, deps: DepsDep) -> MethodOut:
    """A method of a zone in one currency: flat, by order value bands or by weight bands, with an
    optional free-shipping threshold and a delivery estimate."""
    return await use_cases.create_method(deps, staff, body)


@router.patch("/shipping-methods/{method_id}", response_model=MethodOut)
async def edit_method(method_id: IdPath, body: MethodPatch, staff: Merchandising, deps: DepsDep) -> MethodOut:
    """Change a method; `{"active": false}` deactivates it."""
    return await use_cases.edit_method(deps, staff, method_id, body)
