"""Invoicing's tables: the counters that number invoices and credit notes, and the credit notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mercato.platform.columns import UTCDateTime
from mercato.services.orders.models import Base


class DocumentCounter(Base):
    """The last number given, per kind of document (invoice, credit_note), market and year. Numbering
    increments its row in the transaction that places the order (or settles the refund), so numbers are
    gapless: the row lock orders the writers, and a rolled-back transaction gives its number back."""

    __tablename__ = "document_counters"

    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    market_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger)


class CreditNote(Base):
    """A refund as a document: what was refunded of the order's invoice, and the tax in it."""

    __tablename__ = "credit_notes"
    __table_args__ = (Index("ix_credit_notes_order", "order_id", "issued_at"),)

    number: Mapped[str] = mapped_column(String(24), primary_key=True)  # EU-CN-2026-00001
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    amount: Mapped[int] = mapped_column(Integer)  # refunded, tax included, in the order's currency
    tax: Mapped[int] = mapped_column(Integer)
    tax_lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{rate, label, amount}], as the order's
    refunded_to: Mapped[int] = mapped_column(Integer)  # the order's refunded total with this note
    reason: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
