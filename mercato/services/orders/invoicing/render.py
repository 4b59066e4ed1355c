"""An invoice or a credit note as a PDF, drawn with ReportLab (docs/invoices.md says why ReportLab).

Pure: a `Document` in, bytes out, no I/O but the font files. Rendered with ReportLab's `invariant` flag,
so the same document always gives the same bytes (no creation time or random id in the file): two
renderings racing for the first request store identical files.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from mercato.contracts.currencies import MINOR_UNITS


@dataclass(frozen=True)
class Party:
    name: str
    address: tuple[str, ...]
    vat_id: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Row:
    """A line of the document: quantity times unit price at a tax rate. `amount` is as priced (gross where
    prices include tax, net where they don't)."""

    description: str
    quantity: int
    unit_price: int
    tax_rate: str  # as printed: "19 %"
    tax: int
    amount: int  # after `discount`
    discount: int = 0  # the row's share of the cart promotions (shown in its own column when any has one)


@dataclass(frozen=True)
class TaxLine:
    label: str
    rate: str  # as printed: "19 %"
    base: int | None  # the net amount taxed at this rate (None: not shown, as on a credit note)
    tax: int


@dataclass(frozen=True)
class Document:
    title: str  # Invoice | Credit note
    number: str
    issued_on: date
    references: tuple[tuple[str, str], ...]  # (label, value): the order, the invoice a credit note corrects
    seller: Party
    buyer: Party
    currency: str
    prices_include_tax: bool
    rows: tuple[Row, ...]
    tax_lines: tuple[TaxLine, ...]
    totals: tuple[tuple[str, int], ...]  # (label, amount); the last one is the total, in bold
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Fonts:
    regular: Path
    bold: Path


def amount_text(amount: int, currency: str) -> str:
    """Integer minor units as a decimal with thousands separators ("1,234.50"), by integer arithmetic."""
    digits = MINOR_UNITS.get(currency, 2)
    sign, amount = ("-" if amount < 0 else ""), abs(amount)
    if digits == 0:
        return f"{sign}{amount:,}"
    major, minor = divmod(amount, 10**digits)
    return f"{sign}{major:,}.{minor:0{digits}d}"


@cache
def _registered(fonts: Fonts) -> tuple[str, str]:
    names = ("InvoiceSans", "InvoiceSans-Bold")
    for name, path in zip(names, (fonts.regular, fonts.bold), strict=True):
        pdfmetrics.registerFont(TTFont(name, str(path)))
    return names


def render(document: Document, fonts: Fonts) -> bytes:
    regular, bold = _registered(fonts)
    styles = _Styles(regular, bold)
    buffer = io.BytesIO()
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{document.title} {document.number}",
        author=document.seller.name,
        subject=f"{document.title} {document.number}",
        creator="Mercato",
        invariant=1,
        lang="en",
    )
    pdf.build(_story(document, styles), onFirstPage=_page_number(regular), onLaterPages=_page_number(regular))
    return buffer.getvalue()


class _Styles:
    def __init__(self, regular: str, bold: str) -> None:
        self.regular, self.bold = regular, bold
        self.text = ParagraphStyle("text", fontName=regular, fontSize=9, leading=12)
        self.small = ParagraphStyle("small", parent=self.text, fontSize=8, leading=10, textColor=colors.grey)
        self.seller = ParagraphStyle("seller", parent=self.text, fontName=bold, fontSize=14, leading=18)
        self.title = ParagraphStyle("title", parent=self.text, fontName=bold, fontSize=18, leading=24)
        self.heading = ParagraphStyle("heading", parent=self.text, fontName=bold, fontSize=10, leading=14)
        self.right = ParagraphStyle("right", parent=self.text, alignment=TA_RIGHT)


def _lines(*lines: str | None) -> str:
    return "<br/>".join(escape(line) for line in lines if line)


def _party(party: Party, styles: _Styles, *, heading: str) -> list[Flowable]:
    details = [*party.address, f"VAT ID: {party.vat_id}" if party.vat_id else None, party.email]
    return [
        Paragraph(escape(heading), styles.heading),
        Paragraph(_lines(party.name, *details), styles.text),
    ]


def _story(document: Document, styles: _Styles) -> list[Flowable]:
    money = document.currency
    seller = document.seller
    header = Table(
        [
            [
                [
                    Paragraph(escape(seller.name), styles.seller),
                    Paragraph(
                        _lines(*seller.address, f"VAT ID: {seller.vat_id}" if seller.vat_id else None),
                        styles.text,
                    ),
                    Paragraph(escape(seller.email or ""), styles.text),
                ],
                [
                    Paragraph(escape(document.title), styles.title),
                    Paragraph(
                        _lines(
                            f"Number: {document.number}",
                            f"Date: {document.issued_on.isoformat()}",
                            *(f"{label}: {value}" for label, value in document.references),
                        ),
                        styles.text,
                    ),
                ],
            ]
        ],
        colWidths=[100 * mm, 74 * mm],
    )
    header.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))

    buyer = Table([[_party(document.buyer, styles, heading="Bill to")]], colWidths=[174 * mm])
    included = "include" if document.prices_include_tax else "exclude"
    story: list[Flowable] = [header, Spacer(1, 8 * mm), buyer, Spacer(1, 6 * mm)]
    story.append(
        Table(
            [
                [
                    Paragraph(
                        f"All amounts in {escape(money)}; prices and amounts {included} tax.", styles.small
                    )
                ]
            ],
            colWidths=[174 * mm],
        )
    )

    # A Discount column only where a promotion took something off a row.
    discounted = any(row.discount for row in document.rows)
    rows = [
        [
            "Description",
            "Qty",
            "Unit price",
            *(["Discount"] if discounted else []),
            "Tax rate",
            "Tax",
            "Amount",
        ]
    ]
    for row in document.rows:
        off = [amount_text(-row.discount, money) if row.discount else ""] if discounted else []
        rows.append(
            [
                Paragraph(escape(row.description), styles.text),
                str(row.quantity),
                amount_text(row.unit_price, money),
                *off,
                row.tax_rate,
                amount_text(row.tax, money),
                amount_text(row.amount, money),
            ]
        )
    widths = [70, 12, 24, 18, 22, 28] if not discounted else [54, 12, 22, 20, 16, 22, 28]
    story += [Spacer(1, 2 * mm), _table(rows, [width * mm for width in widths], styles)]

    if document.tax_lines:
        taxes = [["Tax", "Rate", "Net amount", "Tax amount"]]
        taxes += [
            [
                tax.label,
                tax.rate,
                "" if tax.base is None else amount_text(tax.base, money),
                amount_text(tax.tax, money),
            ]
            for tax in document.tax_lines
        ]
        story += [
            Spacer(1, 6 * mm),
            Paragraph("Tax breakdown", styles.heading),
            _table(taxes, [70 * mm, 30 * mm, 37 * mm, 37 * mm], styles),
        ]

    totals = Table(
        [[label, f"{amount_text(amount, money)} {money}"] for label, amount in document.totals],
        colWidths=[137 * mm, 37 * mm],
    )
    totals.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), styles.regular, 9),
                ("FONT", (0, -1), (-1, -1), styles.bold, 11),
                ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
            ]
        )
    )
    story += [Spacer(1, 6 * mm), totals, Spacer(1, 8 * mm)]
    story += [Paragraph(escape(note), styles.small) for note in document.notes]
    return story


def _table(rows: list[list[object]], widths: list[float], styles: _Styles) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)  # a long document repeats its heading per page
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), styles.bold, 9),
                ("FONT", (0, 1), (-1, -1), styles.regular, 9),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.lightgrey),
            ]
        )
    )
    return table


def _page_number(font: str):
    def draw(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"Page {document.page}")
        canvas.restoreState()

    return draw
