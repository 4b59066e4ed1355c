"""The promotion form of the back office, both ways: the fields a merchandiser fills in → the JSON body of
`/admin/v1/promotions` (docs/promotions.md), a stored promotion → the fields shown for editing, and the
API's per-field errors → the field they belong next to."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from mercato.admin.auth import field
from mercato.admin.operations import parse_amount

CURRENCIES = ("EUR", "GBP", "USD")
TRIGGERS = [
    ("code", "By code — applied when the shopper enters one of its codes"),
    ("automatic", "Automatic — applied to every cart that meets the conditions"),
    ("sale", "Sale — a lower price on the products themselves (shown struck through)"),
]
ACTIONS = [
    ("percentage", "Percentage off"),
    ("fixed", "Fixed amount off"),
    ("buy_x_get_y", "Buy X, get Y"),
    ("free_shipping", "Free shipping"),
    ("tiered", "Tiered percentage"),
]
TARGETS = [("lines", "Each eligible item"), ("order", "The order (eligible items together)")]
# The form's own fields: an API error whose path names one of these is shown next to it.
FIELDS = {
    "name", "description", "trigger", "starts_at", "ends_at", "priority", "markets", "product_ids",
    "category_ids", "skus", "min_quantity", "type", "target", "percent", "buy", "get", "tiers",
    "usage_limit", "per_customer_limit", "codes",
    *(f"min_subtotal_{c}" for c in CURRENCIES), *(f"amounts_{c}" for c in CURRENCIES),
}  # fmt: skip


def listed(text: str) -> list[str]:
    """ "a, b c" → ["a", "b", "c"]: ids, SKUs and codes are typed separated by commas or spaces."""
    return [item for item in re.split(r"[\s,]+", text) if item]


def money_text(cents: int | None) -> str:
    return "" if cents is None else f"{cents // 100}.{cents % 100:02d}"


def _when(text: str, name: str, errors: dict[str, str]) -> str | None:
    """A `datetime-local` value, read as UTC → ISO 8601 with its offset."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC).isoformat()
    except ValueError:
        errors[name] = "Enter a date and time like 2026-12-24 18:00."
        return None


def _count(form: Any, name: str, errors: dict[str, str], *, minimum: int = 0) -> int | None:
    text = field(form, name, 9)
    if not text:
        return None
    if not text.isdigit() or int(text) < minimum:
        errors[name] = f"Enter a whole number{' from ' + str(minimum) if minimum else ''}, or leave it empty."
        return None
    return int(text)


def _percent(text: str, name: str, errors: dict[str, str]) -> str | None:
    try:
        value = Decimal(text.strip().rstrip("%").replace(",", "."))
    except InvalidOperation:
        errors[name] = "Enter a percentage like 10 or 12.5."
        return None
    if not 0 < value <= 100:
        errors[name] = "Enter a percentage above 0, up to 100."
        return None
    return format(value.normalize(), "f")


def _per_currency(form: Any, prefix: str, errors: dict[str, str]) -> dict[str, int]:
    amounts = {}
    for currency in CURRENCIES:
        name = f"{prefix}_{currency}"
        if not (text := field(form, name, 20)):
            continue
        if (cents := parse_amount(text)) is None:
            errors[name] = "Enter an amount like 25.00, or leave it empty."
        else:
            amounts[currency] = cents
    return amounts


def parse_tiers(text: str, errors: dict[str, str]) -> list[dict[str, Any]]:
    """One tier a line: the percentage, then from how many items (`10 3`) or from which subtotal
    (`15 EUR 100.00`)."""
    tiers = []
    for row in (r.strip() for r in text.splitlines()):
        if not row:
            continue
        parts = row.replace("%", " ").split()
        problems: dict[str, str] = {}
        percent = _percent(parts[0], "tiers", problems) if parts else None
        tier: dict[str, Any] = {"percent": percent}
        if len(parts) == 2 and parts[1].isdigit():
            tier["min_quantity"] = int(parts[1])
        elif len(parts) == 3 and parts[1].upper() in CURRENCIES and (cents := parse_amount(parts[2])):
            tier["min_subtotal"] = {parts[1].upper(): cents}
        else:
            problems["tiers"] = "One tier a line: percent, then items (10 3) or a subtotal (15 EUR 100.00)."
        if problems:
            errors["tiers"] = f"“{row}”: {next(iter(problems.values()))}"
            continue
        tiers.append(tier)
    return tiers


def _action(form: Any, errors: dict[str, str]) -> dict[str, Any]:
    kind = field(form, "type", 20) or "percentage"
    action: dict[str, Any] = {"type": kind}
    if kind in ("percentage", "fixed"):
        action["target"] = field(form, "target", 10) or "lines"
    if kind == "percentage":
        action["percent"] = _percent(field(form, "percent", 10), "percent", errors)
    elif kind == "fixed":
        action["amounts"] = _per_currency(form, "amounts", errors)
        if not action["amounts"] and "amounts_EUR" not in errors:
            errors["amounts_EUR"] = "Enter the amount off in at least one currency."
    elif kind == "buy_x_get_y":
        action["buy"] = _count(form, "buy", errors, minimum=1) or 0
        action["get"] = _count(form, "get", errors, minimum=1) or 0
        for name in ("buy", "get"):
            if not action[name]:
                errors.setdefault(name, "Enter how many items (1 or more).")
        action["percent"] = _percent(field(form, "percent", 10) or "100", "percent", errors)
    elif kind == "tiered":
        action["tiers"] = parse_tiers(field(form, "tiers", 2000), errors)
        if not action["tiers"]:
            errors.setdefault("tiers", "Enter at least one tier.")
    return action


def body_of(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The promotion the form describes, and what is wrong with the fields the API cannot see (a price
    that is not a price, a date that is not a date)."""
    errors: dict[str, str] = {}
    trigger = field(form, "trigger", 10) or "code"
    conditions: dict[str, Any] = {
        "markets": [m.lower() for m in form.getlist("markets") if isinstance(m, str)][:10],
        "product_ids": listed(field(form, "product_ids", 2000)),
        "category_ids": [c for c in form.getlist("category_ids") if isinstance(c, str)][:50],
        "skus": [sku.upper() for sku in listed(field(form, "skus", 4000))],
    }
    if trigger != "sale":  # a sale has no cart conditions nor limits
        conditions["min_subtotal"] = _per_currency(form, "min_subtotal", errors)
        conditions["min_quantity"] = _count(form, "min_quantity", errors) or 0
        conditions["first_order"] = bool(field(form, "first_order", 5))
    body: dict[str, Any] = {
        "name": field(form, "name", 120),
        "description": field(form, "description", 2000),
        "trigger": trigger,
        "active": bool(field(form, "active", 5)),
        "starts_at": _when(field(form, "starts_at", 30), "starts_at", errors),
        "ends_at": _when(field(form, "ends_at", 30), "ends_at", errors),
        "priority": int(p) if (p := field(form, "priority", 6)).lstrip("-").isdigit() else 0,
        "combines": bool(field(form, "combines", 5)),
        "conditions": conditions,
        "action": _action(form, errors),
    }
    if trigger != "sale":
        body["usage_limit"] = _count(form, "usage_limit", errors, minimum=1)
        body["per_customer_limit"] = _count(form, "per_customer_limit", errors, minimum=1)
    if trigger == "code":
        body["codes"] = [code.upper() for code in listed(field(form, "codes", 2000))]
    return body, errors


def values_of(promotion: dict[str, Any]) -> dict[str, Any]:
    """A stored promotion as the form's fields."""
    conditions = promotion.get("conditions") or {}
    action = promotion.get("action") or {}
    values: dict[str, Any] = {
        "name": promotion.get("name", ""),
        "description": promotion.get("description") or "",
        "trigger": promotion.get("trigger", "code"),
        "active": promotion.get("active", True),
        "starts_at": (promotion.get("starts_at") or "")[:16],
        "ends_at": (promotion.get("ends_at") or "")[:16],
        "priority": promotion.get("priority", 0),
        "combines": promotion.get("combines", True),
        "markets": conditions.get("markets") or [],
        "product_ids": ", ".join(conditions.get("product_ids") or []),
        "category_ids": conditions.get("category_ids") or [],
        "skus": ", ".join(conditions.get("skus") or []),
        "min_quantity": conditions.get("min_quantity") or "",
        "first_order": conditions.get("first_order", False),
        "type": action.get("type", "percentage"),
        "target": action.get("target") or "lines",
        "percent": action.get("percent") or "",
        "buy": action.get("buy") or "",
        "get": action.get("get") or "",
        "tiers": "\n".join(_tier_text(t) for t in action.get("tiers") or []),
        "usage_limit": promotion.get("usage_limit") or "",
        "per_customer_limit": promotion.get("per_customer_limit") or "",
        "codes": ", ".join(promotion.get("codes") or []),
    }
    for currency in CURRENCIES:
        values[f"min_subtotal_{currency}"] = money_text((conditions.get("min_subtotal") or {}).get(currency))
        values[f"amounts_{currency}"] = money_text((action.get("amounts") or {}).get(currency))
    return values


def _tier_text(tier: dict[str, Any]) -> str:
    if tier.get("min_subtotal"):
        currency, cents = next(iter(tier["min_subtotal"].items()))
        return f"{tier['percent']} {currency} {money_text(cents)}"
    return f"{tier['percent']} {tier.get('min_quantity') or 0}"


def form_values(form: Any) -> dict[str, Any]:
    """What was typed, to show again with the errors."""
    values: dict[str, Any] = {name: form.get(name, "") for name in FIELDS}
    values |= {name: bool(form.get(name)) for name in ("active", "combines", "first_order")}
    values["markets"] = form.getlist("markets")
    values["category_ids"] = form.getlist("category_ids")
    return values


def errors_by_field(errors: dict[str, str]) -> dict[str, str]:
    """The API's `errors` (paths like `action.amounts.EUR`, `conditions.skus.2`) keyed by the form's
    field; whatever names no field is kept under `form` (shown at the top)."""
    shown: dict[str, str] = {}
    for path, message in errors.items():
        parts = [p for p in str(path).split(".") if p not in ("body", "conditions", "action")]
        name = next(
            (
                candidate
                for candidate in ("_".join(parts[:2]), parts[0] if parts else "")
                if candidate in FIELDS
            ),
            "form",
        )
        text = f"{message[:1].upper()}{message[1:]}" if message else "Is not valid."
        shown.setdefault(name, f"{path}: {message}" if name == "form" else text)
    return shown


def summary(promotion: dict[str, Any]) -> str:
    """What a promotion does, in a few words, for the list."""
    action = promotion.get("action") or {}
    kind = action.get("type")
    if kind == "percentage":
        text = f"{action.get('percent')}% off"
    elif kind == "fixed":
        text = " / ".join(f"{money_text(v)} {c}" for c, v in (action.get("amounts") or {}).items()) + " off"
    elif kind == "buy_x_get_y":
        free = str(action.get("percent") or "100") in ("100", "100.0")
        off = "free" if free else f"{action.get('percent')}% off"
        text = f"buy {action.get('buy')} get {action.get('get')} {off}"
    elif kind == "free_shipping":
        text = "free shipping"
    else:
        text = "tiered: " + ", ".join(f"{t.get('percent')}%" for t in action.get("tiers") or [])
    if kind in ("percentage", "fixed") and action.get("target") == "order":
        text += " the order"
    return text
