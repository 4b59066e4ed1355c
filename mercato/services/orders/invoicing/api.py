"""The invoice and credit notes of an order as PDF: for its shopper (`/api/v1`: their own orders, or a
guest's order by the `X-Order-Token` of its signed link), for staff (`/admin/v1`: operations and
support) and for notifications (`/internal`, the private network: the confirmation e-mail attaches the
invoice)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import Response

from mercato.platform.auth import OptionalShopper
from mercato.platform.errors import Unauthorized
from mercato.platform.staff import Staff, requires
from mercato.services.orders.api import OrderToken, session_alive
from mercato.services.orders.deps import Deps
from mercato.services.orders.invoicing import documents
from mercato.services.orders.links import opens

public = APIRouter(prefix="/api/v1", tags=["orders"])
admin = APIRouter(prefix="/admin/v1", tags=["back office: orders"])
internal = APIRouter(prefix="/internal", tags=["internal"])

OrderIdPath = Annotated[str, Path(max_length=64)]
CreditNoteNumber = Annotated[
    str, Path(pattern=r"^[A-Z]{2,8}-CN-[0-9]{4}-[0-9]{5,9}$", description="e.g. `EU-CN-2026-00001`")
]
OrderReader = Annotated[Staff, requires("operations", "support")]
PDF_RESPONSE = {200: {"content": {documents.PDF: {}}, "description": "The PDF"}}


def _deps(request: Request) -> Deps:
    return request.app.state.deps


DepsDep = Annotated[Deps, Depends(_deps)]


async def _reader(
    order_id: OrderIdPath, shopper: OptionalShopper, token: OrderToken, deps: DepsDep
) -> str | None:
    """Whose orders the caller may read documents of: the signed-in shopper's (their id), or the one
    order a guest's signed link names (None: that order, whoever it belongs to)."""
    if token is not None:
        if not opens(deps.settings, order_id, token):
            raise Unauthorized("This order link is not valid (is it complete?).")
        return None
    if shopper is None:
        raise Unauthorized("Sign in, or open the order by its link (X-Order-Token).")
    await session_alive(deps, shopper)
    return shopper.id


Reader = Annotated[str | None, Depends(_reader)]


def _pdf(named: tuple[str, bytes]) -> Response:
    name, data = named
    return Response(
        data,
        media_type=documents.PDF,
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            "Cache-Control": documents.CACHE_CONTROL,
        },
    )


@public.get("/orders/{order_id}/invoice", response_class=Response, responses=PDF_RESPONSE)
async def invoice(order_id: OrderIdPath, customer_id: Reader, deps: DepsDep) -> Response:
    """My order's invoice (PDF), or a guest order's by its link. 404 for an order that is not mine, or
    has no invoice."""
    return _pdf(await documents.invoice_pdf(deps, order_id, customer_id=customer_id))


@public.get("/orders/{order_id}/credit-notes/{number}", response_class=Response, responses=PDF_RESPONSE)
async def credit_note(
    order_id: OrderIdPath, number: CreditNoteNumber, customer_id: Reader, deps: DepsDep
) -> Response:
    """A credit note of my order (PDF), or of a guest order by its link: one per refund, listed in the
    order's `credit_notes`."""
    return _pdf(await documents.credit_note_pdf(deps, order_id, number, customer_id=customer_id))


@admin.get("/orders/{order_id}/invoice", response_class=Response, responses=PDF_RESPONSE)
async def staff_invoice(order_id: OrderIdPath, staff: OrderReader, deps: DepsDep) -> Response:
    """Any order's invoice (PDF)."""
    return _pdf(await documents.invoice_pdf(deps, order_id, customer_id=None))


@admin.get("/orders/{order_id}/credit-notes/{number}", response_class=Response, responses=PDF_RESPONSE)
async def staff_credit_note(
    order_id: OrderIdPath, number: CreditNoteNumber, staff: OrderReader, deps: DepsDep
) -> Response:
    """Any order's credit note (PDF)."""
    return _pdf(await documents.credit_note_pdf(deps, order_id, number, customer_id=None))


@internal.get("/orders/{order_id}/invoice", response_class=Response, responses=PDF_RESPONSE)
async def internal_invoice(order_id: OrderIdPath, deps: DepsDep) -> Response:
    """The invoice, for the confirmation e-mail (notifications, on the private network)."""
    return _pdf(await documents.invoice_pdf(deps, order_id, customer_id=None))
