"""How the app reads a quote (screens/quote.py), on the shapes orders answers: the rows of the totals in a
market whose prices include tax and in one whose prices do not, the tax line's wording, the shipping
method's price and delivery estimate. The figures themselves are orders' (tests/mobile checks them
against the real platform); these check the wording and the order of the rows."""

from __future__ import annotations

import os

os.environ.setdefault("TOGA_BACKEND", "toga_dummy")

from shop.screens.quote import days, method_text, rate_label, totals


def _eur(amount: int) -> dict:
    return {"amount": amount, "currency": "EUR"}


def _usd(amount: int) -> dict:
    return {"amount": amount, "currency": "USD"}


def _rows(box) -> list[tuple[str, str]]:
    return [(row.children[0].text, row.children[1].text) for row in box.children]


GERMANY = {
    "market": {"id": "eu", "currency": "EUR", "prices_include_tax": True},
    "totals": {
        "subtotal": _eur(3998), "discount": _eur(0), "shipping": _eur(495), "tax": _eur(714),
        "total": _eur(4493),
    },
    "tax_lines": [
        {"rate": "19", "label": "VAT", "amount": _eur(651)},
        {"rate": "7", "label": "VAT", "amount": _eur(63)},
    ],
    "shipping_method": {
        "id": "shm_eu_standard", "name": "Standard delivery", "kind": "standard", "price": _eur(495),
        "estimate": {"min_days": 2, "max_days": 4},
    },
}  # fmt: skip
NEW_YORK = {
    "market": {"id": "us", "currency": "USD", "prices_include_tax": False},
    "totals": {
        "subtotal": _usd(4000), "discount": _usd(0), "shipping": _usd(0), "tax": _usd(355),
        "total": _usd(4355),
    },
    "tax_lines": [{"rate": "8.875", "label": "Sales tax (NY)", "amount": _usd(355)}],
    "shipping_method": {
        "id": "shm_us_standard", "name": "Standard shipping", "kind": "standard", "price": _usd(0),
        "estimate": {"min_days": 3, "max_days": 5},
    },
}  # fmt: skip


def test_prices_with_tax_say_incl_vat_under_the_total():
    assert _rows(totals(GERMANY)) == [
        ("Subtotal", "€39.98"),
        ("Shipping (Standard deli…", "€4.95"),  # shortened: the row fits 390 px
        ("Total", "€44.93"),
        ("incl. VAT 19 %", "€6.51"),
        ("incl. VAT 7 %", "€0.63"),
    ]


def test_prices_without_tax_add_a_tax_line_before_the_total():
    assert _rows(totals(NEW_YORK)) == [
        ("Subtotal", "$40.00"),
        ("Shipping (Standard ship…", "Free"),
        ("Sales tax (NY) 8.875 %", "$3.55"),
        ("Total", "$43.55"),
    ]


def test_a_cart_before_checkout_says_shipping_comes_at_checkout():
    cart = GERMANY | {"shipping_method": None, "totals": GERMANY["totals"] | {"shipping": _eur(0)}}
    assert ("Shipping", "at checkout") in _rows(totals(cart, pending_shipping=True))
    assert ("Shipping", "Free") in _rows(totals(cart))


def test_the_wording_of_rates_and_estimates():
    assert rate_label({"rate": "5.5", "label": "VAT"}) == "VAT 5.5 %"
    assert rate_label({"rate": "20", "label": "VAT 20 %"}) == "VAT 20 %"  # a label that says it already
    assert days({"estimate": {"min_days": 2, "max_days": 4}}) == "2–4 days"
    assert days({"estimate": {"min_days": 1, "max_days": 1}}) == "1 day"
    assert days({"estimate": {"min_days": 0, "max_days": 1}}) == "within 1 day"
    assert days({"estimate": {"min_days": 0, "max_days": 0}}) == "today"
    collect = {"name": "Click & collect", "price": _eur(0), "estimate": {"min_days": 0, "max_days": 1}}
    assert method_text(collect) == "Click & collect · Free · within 1 day"
