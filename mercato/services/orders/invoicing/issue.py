"""Numbering, in the caller's transaction: the invoice's when the order is placed, a credit note's when a
refund is settled. Nothing here commits; a rolled-back caller gives its number back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.services.orders.invoicing import repository as repo
from mercato.services.orders.invoicing.domain import DocumentKind, credited_tax_lines, document_number
from mercato.services.orders.invoicing.models import CreditNote


async def number_invoice(session: AsyncSession, *, market_id: str, placed_at: datetime) -> str:
    """The invoice number of an order being placed in `market_id` at `placed_at` (its year, UTC)."""
    n = await repo.next_number(session, DocumentKind.INVOICE, market_id, placed_at.year)
    return document_number(DocumentKind.INVOICE, market_id, placed_at.year, n)


async def credit_refund(
    session: AsyncSession, order_id: str, *, refunded_to: int, reason: str, at: datetime
) -> CreditNote | None:
    """The credit note for what a refund adds, called in the refund's transaction before the order's
    `refunded` figure is updated to `refunded_to` (payments' total). None when the refund adds nothing
    (a retry, a replay) or the order has no invoice (placed before invoices existed)."""
    order = await repo.locked_order(session, order_id)
    if order is None or order.invoice_number is None or refunded_to <= order.refunded:
        return None
    tax_lines = credited_tax_lines(
        order.tax_lines, total=order.total, refunded_before=order.refunded, refunded_to=refunded_to
    )
    n = await repo.next_number(session, DocumentKind.CREDIT_NOTE, order.market_id, at.year)
    note = CreditNote(
        number=document_number(DocumentKind.CREDIT_NOTE, order.market_id, at.year, n),
        order_id=order_id,
        amount=refunded_to - order.refunded,
        tax=sum(line["amount"] for line in tax_lines),
        tax_lines=tax_lines,
        refunded_to=refunded_to,
        reason=reason[:200],
        issued_at=at,
    )
    await repo.add_credit_note(session, note)
    return note
