"""What an invoice or credit note number looks like, and the tax a refund gives back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from mercato.services.orders.pricing.money import refunded_tax


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


def document_number(kind: DocumentKind, market_id: str, year: int, n: int) -> str:
    """`EU-2026-00001` for an invoice, `EU-CN-2026-00001` for a credit note: per market and year, five
    digits at least (more once a year has more than 99,999)."""
    infix = "-CN" if kind == DocumentKind.CREDIT_NOTE else ""
    return f"{market_id.upper()}{infix}-{year}-{n:05d}"


def credited_tax_lines(
    tax_lines: Sequence[Mapping[str, Any]], *, total: int, refunded_before: int, refunded_to: int
) -> list[dict[str, Any]]:
    """The tax a refund from `refunded_before` to `refunded_to` (of the order's `total`) gives back, per
    tax line of the order: the one refund rule (docs/money.md, `pricing.money.refunded_tax`) after it,
    less the same before it — so an order's credit notes give back exactly the tax it carried. Tax lines
    the refund gives nothing of are left out."""
    carried = [int(line["amount"]) for line in tax_lines]
    before = refunded_tax(carried, total, refunded_before)
    after = refunded_tax(carried, total, refunded_to)
    return [
        {"rate": str(line["rate"]), "label": line["label"], "amount": now - then}
        for line, then, now in zip(tax_lines, before, after, strict=True)
        if now != then
    ]
