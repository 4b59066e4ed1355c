"""The PDFs: made on the first request for one, then kept in the object store and served from there.

The first request is usually the confirmation e-mail's (notifications fetches the invoice when it sends),
so an invoice exists moments after its order was placed, and never on the checkout's path. Rendering is
deterministic, so two first requests at once store the same bytes. Who may ask is the caller's business
(api.py: the shopper for their own orders, staff, notifications over the private network)."""

from __future__ import annotations

import anyio

from mercato.platform.errors import NotFound
from mercato.services.orders import repository as orders_repo
from mercato.services.orders.deps import Deps
from mercato.services.orders.invoicing import repository as repo
from mercato.services.orders.invoicing.content import credit_note_document, invoice_document
from mercato.services.orders.invoicing.render import Document, Fonts, render
from mercato.services.orders.models import Order

PDF = "application/pdf"
CACHE_CONTROL = "private, no-store"  # personal data: no shared cache keeps one, in S3's metadata or HTTP


async def _kept(deps: Deps, key: str) -> bytes | None:
    found = await deps.documents.get(key)
    return found[0] if found else None


async def _rendered(deps: Deps, key: str, document: Document) -> bytes:
    fonts = Fonts(regular=deps.settings.invoice_font, bold=deps.settings.invoice_font_bold)
    data = await anyio.to_thread.run_sync(render, document, fonts)  # CPU: off the event loop
    await deps.documents.put(key, data, PDF)
    return data


async def _invoiced(deps: Deps, order_id: str, customer_id: str | None) -> Order:
    """The order, if the caller may see it — its customer (`customer_id`), or staff and notifications
    (None) — and it has an invoice. Someone else's order looks exactly like a missing one."""
    async with deps.db.read() as session:
        if customer_id is None:
            order = await orders_repo.order(session, order_id)
        else:
            order = await orders_repo.customer_order(session, customer_id, order_id)
    if order is None:
        raise NotFound("There is no such order.")
    if order.invoice_number is None:
        raise NotFound("This order has no invoice.")
    return order


async def invoice_pdf(deps: Deps, order_id: str, *, customer_id: str | None) -> tuple[str, bytes]:
    """The order's invoice: its file name and bytes."""
    order = await _invoiced(deps, order_id, customer_id)
    key = f"invoices/{order.market_id}/{order.invoice_number}.pdf"
    if (data := await _kept(deps, key)) is None:
        async with deps.db.read() as session:
            lines = await orders_repo.lines_of(session, order.id)
        data = await _rendered(deps, key, invoice_document(order, lines, deps.settings))
    return f"{order.invoice_number}.pdf", data


async def credit_note_pdf(
    deps: Deps, order_id: str, number: str, *, customer_id: str | None
) -> tuple[str, bytes]:
    """One credit note of the order, by its number: its file name and bytes."""
    order = await _invoiced(deps, order_id, customer_id)
    async with deps.db.read() as session:
        note = await repo.credit_note(session, order.id, number)
    if note is None:
        raise NotFound("This order has no such credit note.")
    key = f"credit-notes/{order.market_id}/{note.number}.pdf"
    if (data := await _kept(deps, key)) is None:
        data = await _rendered(deps, key, credit_note_document(order, note, deps.settings))
    return f"{note.number}.pdf", data
