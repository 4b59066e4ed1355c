"""The quote as every shopper screen shows it — the cart, checkout, the confirmation, an order: its totals
and tax exactly as orders answered them (the app never adds anything up). Where prices include tax the
tax lines read "incl. VAT 19 %" under the total; where they do not, a Tax line comes before the total."""

from __future__ import annotations

import toga

from shop import theme
from shop.screens.base import money


def rate_label(tax_line: dict) -> str:
    """Orders' label, with the rate when the label does not say it: "VAT 19 %"."""
    label, rate = tax_line.get("label") or "Tax", str(tax_line.get("rate") or "")
    return label if not rate or rate in label else f"{label} {rate} %"


def days(method: dict) -> str:
    """The delivery estimate in working days: "2–4 days", "1 day", "today", "within 1 day"."""
    estimate = method.get("estimate") or {}
    low, high = estimate.get("min_days"), estimate.get("max_days")
    if high is None:
        return ""
    if high == 0:
        return "today"
    plural = "day" if high == 1 else "days"
    if not low:
        return f"within {high} {plural}"
    return f"{high} {plural}" if low == high else f"{low}–{high} days"


def cost(method: dict) -> str:
    price = method.get("price") or {}
    return "Free" if price and price.get("amount") == 0 else money(price)


def method_text(method: dict) -> str:
    """ "Standard delivery · €4.95 · 2–4 days"; free is said as Free."""
    return " · ".join(part for part in (method.get("name", ""), cost(method), days(method)) if part)


def _row(text: str, amount: str, widget_id: str, bold: bool = False, small: bool = False) -> toga.Box:
    """Words on the left (up to 24 characters), the amount on the right: within 390 px."""
    weight = "bold" if bold else "normal"
    size = theme.SMALL if small else theme.BODY
    colour = theme.MUTED if small else theme.INK
    return toga.Box(
        id=widget_id,
        children=[
            toga.Label(theme.shorten(text, 24), style=theme.text(size, colour, weight, flex=1)),
            toga.Label(amount, style=theme.text(size, colour, weight, text_align="right", width=88)),
        ],
        style=theme.row(margin=(2, 0)),
    )


def totals(quote: dict, shipping_method: dict | None = None, *, pending_shipping: bool = False) -> toga.Box:
    """Subtotal, each promotion's discount, shipping, (tax,) total, (incl. tax) from a cart's or an
    order's `totals`, `discounts` (an order's `promotions`), `tax_lines` and `market`; then how an order
    was paid (`tenders`: a gift card's part, the card's). `pending_shipping`: no method chosen and
    nothing charged for shipping yet (the cart before checkout), so shipping is "at checkout"."""
    figures = quote.get("totals") or {}
    includes = (quote.get("market") or {}).get("prices_include_tax", True)
    box = toga.Box(id="totals", style=theme.column(margin=(8, 0)))
    box.add(_row("Subtotal", money(figures.get("subtotal")), "total-subtotal"))
    applied = quote.get("discounts") or quote.get("promotions") or []  # a cart's, an order's
    for i, discount in enumerate(applied):  # each promotion by name; they sum to totals.discount
        box.add(_row(discount["name"], "−" + money(discount["amount"]), f"total-discount-{i}"))
    if not applied and (figures.get("discount") or {}).get("amount"):
        box.add(_row("Discount", "−" + money(figures["discount"]), "total-discount"))
    method = shipping_method or quote.get("shipping_method")
    shipping = figures.get("shipping") or {}
    if method is None and pending_shipping and not shipping.get("amount"):
        box.add(_row("Shipping", "at checkout", "total-shipping"))
    else:
        name = f"Shipping ({method['name']})" if method else "Shipping"
        box.add(_row(name, "Free" if shipping.get("amount") == 0 else money(shipping), "total-shipping"))
    tax_lines = quote.get("tax_lines") or []
    if not includes:
        for line in tax_lines or [{"label": "Tax", "amount": figures.get("tax")}]:
            box.add(_row(rate_label(line), money(line.get("amount")), f"total-tax-{line.get('rate', '')}"))
    box.add(_row("Total", money(figures.get("total")), "total-total", bold=True))
    if includes:
        for line in tax_lines:
            text = f"incl. {rate_label(line)}"
            box.add(_row(text, money(line.get("amount")), f"total-tax-{line.get('rate')}", small=True))
    for i, tender in enumerate(quote.get("tenders") or []):
        paid = "Gift card" if tender["kind"] == "gift_card" else "Card"
        words = f"Paid by {paid.lower()}" + (f" …{tender['last4']}" if tender.get("last4") else "")
        box.add(_row(words, money(tender["amount"]), f"tender-{i}", small=True))
    return box
