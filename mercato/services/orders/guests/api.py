"""Guests' routes: an account claiming the guest orders of its address (a signed-in shopper), and the
back office's GDPR export and erasure of a guest by e-mail (support)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from mercato.platform.auth import CurrentCustomer
from mercato.platform.staff import Staff, requires
from mercato.services.orders.deps import Deps
from mercato.services.orders.guests import claims, privacy
from mercato.services.orders.guests.schemas import ClaimIn, ClaimOut, GuestErasure, GuestExport, GuestIn

router = APIRouter(prefix="/api/v1", tags=["orders"])
admin = APIRouter(prefix="/admin/v1/guests", tags=["back office: guests"])


def _deps(request: Request) -> Deps:
    return request.app.state.deps


DepsDep = Annotated[Deps, Depends(_deps)]
Support = Annotated[Staff, requires("support")]


@router.post(
    "/order-claims",
    response_model=ClaimOut,
    responses={403: {"description": "The link was sent for another account"}},
)
async def claim_guest_orders(body: ClaimIn, customer_id: CurrentCustomer, deps: DepsDep) -> ClaimOut:
    """Add the orders bought as a guest with my address to my account, by the link e-mailed to that
    address after I registered (it proves I read that mailbox). Using it again adds nothing."""
    return ClaimOut(claimed=await claims.claim(deps, customer_id, body.token))


@admin.post("/export", response_model=GuestExport)
async def export_guest(body: GuestIn, staff: Support, deps: DepsDep) -> GuestExport:
    """A guest's GDPR export, found by the e-mail address they bought with: their orders and the
    messages written to them. (A POST: the address stays out of URLs and access logs.)"""
    return await privacy.export(deps, staff, body.email)


@admin.post("/erasure", response_model=GuestErasure)
async def erase_guest(body: GuestIn, staff: Support, deps: DepsDep) -> GuestErasure:
    """Erase a guest's personal data on request: their orders keep only the shipping country; their
    carts and what notifications kept of them go. Repeating it erases nothing more."""
    return await privacy.erase(deps, staff, body.email)
