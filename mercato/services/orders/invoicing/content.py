"""What an invoice and a credit note say, taken from the order's snapshot as it was sold: nothing is
re-derived (docs/money.md) — lines, tax, shipping and totals are the order's own figures."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from mercato.services.orders.domain import order_number
from mercato.services.orders.invoicing.models import CreditNote
from mercato.services.orders.invoicing.render import Document, Party, Row, TaxLine, amount_text
from mercato.services.orders.models import Order, OrderLine
from mercato.services.orders.settings import OrdersSettings


def _seller(settings: OrdersSettings) -> Party:
    return Party(
        name=settings.seller_name,
        address=tuple(settings.seller_address),
        vat_id=settings.seller_vat_id,
        email=settings.seller_email,
    )


def _buyer(order: Order) -> Party:
    """The billing address (the shipping address for orders from before billing addresses) and, for a
    guest, the e-mail they bought with (an account's address is the customers service's, not on the
    order); an erased customer's order keeps the country only."""
    address: Mapping[str, Any] = order.billing_address or order.shipping_address or {}
    place = " ".join(part for part in (address.get("postal_code"), address.get("city")) if part)
    lines = (address.get("line1"), address.get("line2"), place, address.get("region"), address.get("country"))
    return Party(
        name=address.get("name") or "",
        address=tuple(line for line in lines if line),
        email=order.email,
    )


def _rate(rate: object) -> str:
    return f"{Decimal(str(rate)).normalize():f} %"


def _description(line: OrderLine) -> str:
    attributes = ", ".join(f"{name}: {value}" for name, value in sorted(line.attributes.items()))
    return (
        f"{line.product_name} ({attributes}) — {line.sku}"
        if attributes
        else f"{line.product_name} — {line.sku}"
    )


def _rows(order: Order, lines: Iterable[OrderLine]) -> list[Row]:
    """A row per line and one for shipping; a row's amount is what was taxed: its price less its share
    of the cart promotions' discount (docs/promotions.md), which the row shows."""
    rows = [
        Row(
            description=_description(line),
            quantity=line.quantity,
            unit_price=line.unit_price,
            tax_rate=_rate(line.tax_rate),
            tax=line.tax,
            amount=line.line_total - line.discount,
            discount=line.discount,
        )
        for line in lines
    ]
    method = order.shipping_method
    if method is not None or order.shipping:
        price = method["price"] if method else order.shipping
        off = sum(_minor(p.get("shipping_amount")) for p in order.promotions or ())  # free shipping
        rows.append(
            Row(
                description=f"Shipping: {method['name']}" if method else "Shipping",
                quantity=1,
                unit_price=price,
                tax_rate=_rate(method.get("tax_rate") or 0) if method else _rate(0),
                tax=method.get("tax", 0) if method else 0,
                amount=price - off,
                discount=off,
            )
        )
    return rows


def _tax_lines(order: Order, rows: list[Row]) -> list[TaxLine]:
    """Each rate's tax as the order carries it, with the net amount it was levied on."""
    taxed = []
    for line in order.tax_lines:
        rate = _rate(line["rate"])
        members = [row for row in rows if row.tax_rate == rate]
        priced = sum(row.amount for row in members)
        base = priced - line["amount"] if order.prices_include_tax else priced
        taxed.append(TaxLine(label=line["label"], rate=rate, base=base, tax=line["amount"]))
    return taxed


def _card(order: Order) -> str:
    brand = (order.card_brand or "card").title()
    return f"{brand} ending {order.card_last4}" if order.card_last4 else "card"


def _paid(order: Order) -> str:
    return f"Paid by {_card(order)}."


def _minor(value: Any) -> int:
    """An amount as the order's JSON keeps it: minor units (or a Money object)."""
    return int(value["amount"]) if isinstance(value, Mapping) else int(value or 0)


def _tenders(order: Order) -> tuple[str, ...]:
    """How it was paid: each gift card (its code's last four characters) and the card, with amounts;
    an order from before gift cards was paid by card alone."""
    if not order.tenders:
        return (_paid(order),)
    notes = []
    for tender in order.tenders:
        paid = f"{amount_text(_minor(tender['amount']), order.currency)} {order.currency}"
        if tender.get("kind") == "gift_card":
            notes.append(f"Paid by gift card ••••{tender.get('last4') or ''}: {paid}.")
        else:
            notes.append(f"Paid by card ({_card(order)}): {paid}.")
    return tuple(notes)


def _promotions(order: Order) -> list[tuple[str, int]]:
    """The promotions the discount is made of, each under the Discount row."""
    return [
        (f"{p['name']} (code {p['code']})" if p.get("code") else p["name"], -_minor(p["amount"]))
        for p in order.promotions or ()
    ]


def invoice_document(order: Order, lines: Iterable[OrderLine], settings: OrdersSettings) -> Document:
    assert order.invoice_number is not None and order.placed_at is not None
    rows = _rows(order, lines)
    totals = [("Subtotal", order.subtotal)]
    if order.discount:
        totals.append(("Discount", -order.discount))
        totals += _promotions(order)
    totals.append(("Shipping", order.shipping))
    totals.append(("Tax included" if order.prices_include_tax else "Tax", order.tax))
    totals.append(("Total", order.total))
    return Document(
        title="Invoice",
        number=order.invoice_number,
        issued_on=order.placed_at.date(),
        references=(("Order", order_number(order.number) or order.id),),
        seller=_seller(settings),
        buyer=_buyer(order),
        currency=order.currency,
        prices_include_tax=order.prices_include_tax,
        rows=tuple(rows),
        tax_lines=tuple(_tax_lines(order, rows)),
        totals=tuple(totals),
        notes=_tenders(order),
    )


def credit_note_document(order: Order, note: CreditNote, settings: OrdersSettings) -> Document:
    assert order.invoice_number is not None and order.placed_at is not None
    rates = [_rate(line["rate"]) for line in note.tax_lines]
    return Document(
        title="Credit note",
        number=note.number,
        issued_on=note.issued_at.date(),
        references=(
            ("Corrects invoice", f"{order.invoice_number} of {order.placed_at.date().isoformat()}"),
            ("Order", order_number(order.number) or order.id),
        ),
        seller=_seller(settings),
        buyer=_buyer(order),
        currency=order.currency,
        prices_include_tax=True,  # a refund is money paid back: tax included
        rows=(
            Row(
                description=f"Refund: {note.reason}",
                quantity=1,
                unit_price=note.amount,
                tax_rate=rates[0] if len(rates) == 1 else "see below" if rates else _rate(0),
                tax=note.tax,
                amount=note.amount,
            ),
        ),
        tax_lines=tuple(
            TaxLine(label=line["label"], rate=_rate(line["rate"]), base=None, tax=line["amount"])
            for line in note.tax_lines
        ),
        totals=(
            ("Net refunded", note.amount - note.tax),
            ("Tax refunded", note.tax),
            ("Total refunded", note.amount),
        ),
        notes=(
            f"Refunded to the {_paid(order).removeprefix('Paid by ').removesuffix('.')} it was paid with.",
        ),
    )
