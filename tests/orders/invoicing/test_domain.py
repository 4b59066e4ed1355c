"""Document numbers, and the tax a credit note gives back: the refund rule of docs/money.md per refund."""

from __future__ import annotations

import itertools

from mercato.services.orders.invoicing.domain import DocumentKind, credited_tax_lines, document_number

DE_TAX = [{"rate": "19", "label": "VAT", "amount": 717}, {"rate": "7", "label": "VAT", "amount": 65}]


def test_numbers_name_the_market_the_kind_and_the_year():
    assert document_number(DocumentKind.INVOICE, "eu", 2026, 1) == "EU-2026-00001"
    assert document_number(DocumentKind.CREDIT_NOTE, "uk", 2027, 42) == "UK-CN-2027-00042"
    assert document_number(DocumentKind.INVOICE, "us", 2026, 123456) == "US-2026-123456"


def test_credit_notes_give_back_each_rates_share_and_in_all_exactly_the_tax_carried():
    # Total 5493 with 717 VAT at 19 % and 65 at 7 %: refunded 2000, then 1000, then the rest.
    steps = [0, 2000, 3000, 5493]
    notes = [
        credited_tax_lines(DE_TAX, total=5493, refunded_before=before, refunded_to=after)
        for before, after in itertools.pairwise(steps)
    ]
    assert notes[0] == [
        {"rate": "19", "label": "VAT", "amount": 261},
        {"rate": "7", "label": "VAT", "amount": 24},
    ]
    assert [sum(line["amount"] for line in note) for note in notes] == [285, 142, 355]
    for i, carried in enumerate((717, 65)):
        assert sum(note[i]["amount"] for note in notes) == carried


def test_an_order_without_tax_gives_none_back():
    assert credited_tax_lines([], total=4495, refunded_before=0, refunded_to=1000) == []
