"""Merchandising: shipping zones (countries, optionally postal codes) and their methods (flat, by order
value or by weight, a free-shipping threshold, a delivery estimate), listed, added, edited and
deactivated; and the tax rates the quote charges, to read (docs/shipping.md, docs/tax.md)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from mercato.admin.auth import checked, csrf, field, redirect
from mercato.admin.operations import parse_amount
from mercato.admin.web import caller, field_errors, problem, render
from mercato.webkit.gateway import NotFound

router = APIRouter()
posts = APIRouter(dependencies=[Depends(csrf)])

ID = re.compile(r"^sh[zm]_[A-Za-z0-9_]{1,36}$")
KINDS = [("standard", "Standard"), ("express", "Express"), ("click_and_collect", "Click & collect")]
RATE_TYPES = [("flat", "Flat rate"), ("value", "By order value"), ("weight", "By weight")]
CURRENCIES = [("EUR", "EUR"), ("GBP", "GBP"), ("USD", "USD")]
DONE = {
    "zone": "The zone is saved.",
    "method": "The shipping method is saved.",
}


def money_input(text: str) -> int | None:
    """ "4.95" → 495, "0" → 0 (free); anything else → None."""
    return 0 if re.fullmatch(r"0+(?:[.,]0{1,2})?", text.strip()) else parse_amount(text)


def parse_bands(text: str, rate_type: str) -> list[dict[str, Any]] | None:
    """One band a line, "up-to price": "49.99 7.99" (value) or "1000 14.99" (grams); "* 39.99" for
    everything above. None if a line is not like that."""
    bands = []
    for row in (r.strip() for r in text.splitlines()):
        if not row:
            continue
        parts = row.split()
        if len(parts) != 2:
            return None
        limit, price = parts
        amount = money_input(price)
        if limit == "*":
            up_to = None
        elif rate_type == "weight" and limit.isdigit():
            up_to = int(limit)
        else:
            up_to = money_input(limit) if rate_type == "value" else None
            if up_to is None:
                return None
        if amount is None:
            return None
        bands.append({"up_to": up_to, "amount": amount})
    return bands


def bands_text(method: dict[str, Any]) -> str:
    def amount(cents: int) -> str:
        return f"{cents // 100}.{cents % 100:02d}"

    rows = []
    for band in method.get("bands") or []:
        limit = band["up_to"]
        shown = "*" if limit is None else (str(limit) if method["rate_type"] == "weight" else amount(limit))
        rows.append(f"{shown} {amount(band['amount'])}")
    return "\n".join(rows)


async def shipping_page(request: Request, status_code: int = 200, **context: Any) -> Response:
    staff = caller(request)
    zones = checked(await staff.send("orders", "GET", "/admin/v1/shipping-zones"), "orders").json()["data"]
    methods = checked(await staff.send("orders", "GET", "/admin/v1/shipping-methods"), "orders").json()[
        "data"
    ]
    rates = checked(await staff.send("orders", "GET", "/admin/v1/tax-rates"), "orders").json()["data"]
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return render(
        request,
        "shipping.jinja",
        status_code,
        zones=zones,
        methods=methods,
        zone_names={z["id"]: z["name"] for z in zones},
        zone_options=[(z["id"], z["name"]) for z in zones],
        rates=rates,
        kinds=KINDS,
        rate_types=RATE_TYPES,
        currencies=CURRENCIES,
        bands_text=bands_text,
        done=DONE.get(request.query_params.get("done", "")),
        **context,
    )


@router.get("/shipping")
async def shipping(request: Request) -> Response:
    return await shipping_page(request)


def _zone_body(form: Any) -> dict[str, Any]:
    def listed(name: str) -> list[str]:
        return [item for item in re.split(r"[\s,]+", field(form, name, 2000)) if item]

    return {
        "name": field(form, "name", 100),
        "countries": [c.upper() for c in listed("countries")],
        "postal_patterns": listed("postal_patterns"),
        "active": bool(field(form, "active", 5)),
    }


def _method_body(form: Any, errors: dict[str, str]) -> dict[str, Any]:
    rate_type = field(form, "rate_type", 10) or "flat"
    body: dict[str, Any] = {
        "name": field(form, "name", 100),
        "kind": field(form, "kind", 20),
        "rate_type": rate_type,
        "active": bool(field(form, "active", 5)),
    }
    amount = money_input(field(form, "amount", 20) or "0")
    if amount is None:
        errors["amount"] = "Enter a price like 4.95 (0 for free)."
    body["amount"] = amount or 0
    free_from = field(form, "free_from", 20)
    body["free_from"] = money_input(free_from) if free_from else None
    if free_from and body["free_from"] is None:
        errors["free_from"] = "Enter an order value like 50.00, or leave it empty."
    bands = parse_bands(field(form, "bands", 2000), rate_type)
    if bands is None:
        errors["bands"] = "One band a line: up to, then the price (e.g. 49.99 7.99, or * 0.00 for the rest)."
    body["bands"] = bands or []
    for name in ("min_days", "max_days"):
        text = field(form, name, 3)
        if not text.isdigit():
            errors[name] = "Enter a number of days."
        body[name] = int(text) if text.isdigit() else 0
    return body


async def _answer(request: Request, response: Any, done: str, values: dict[str, Any]) -> Response:
    checked(response, "orders")
    if response.status_code >= 400:
        return await shipping_page(
            request,
            response.status_code,
            values=values,
            errors=field_errors(response),
            error=str(problem(response).get("detail") or "Please check the form."),
        )
    return redirect(f"/shipping?done={done}")


@posts.post("/shipping/zones")
async def create_zone(request: Request) -> Response:
    form = await request.form()
    body = _zone_body(form)
    response = await caller(request).send("orders", "POST", "/admin/v1/shipping-zones", json=body)
    return await _answer(request, response, "zone", {"zone": dict(form)})


@posts.post("/shipping/zones/{zone_id}")
async def edit_zone(request: Request, zone_id: str) -> Response:
    if not ID.match(zone_id):
        raise NotFound("orders", zone_id)
    body = _zone_body(await request.form())
    response = await caller(request).send("orders", "PATCH", f"/admin/v1/shipping-zones/{zone_id}", json=body)
    return await _answer(request, response, "zone", {})


@posts.post("/shipping/methods")
async def create_method(request: Request) -> Response:
    form = await request.form()
    errors: dict[str, str] = {}
    body = _method_body(form, errors) | {
        "zone_id": field(form, "zone_id", 40),
        "currency": field(form, "currency", 3),
    }
    if errors:
        return await shipping_page(
            request, 422, values={"method": dict(form)}, errors=errors, error="Please check the method."
        )
    response = await caller(request).send("orders", "POST", "/admin/v1/shipping-methods", json=body)
    return await _answer(request, response, "method", {"method": dict(form)})


@posts.post("/shipping/methods/{method_id}")
async def edit_method(request: Request, method_id: str) -> Response:
    if not ID.match(method_id):
        raise NotFound("orders", method_id)
    errors: dict[str, str] = {}
    body = _method_body(await request.form(), errors)
    if errors:
        return await shipping_page(
            request, 422, errors=errors, error="Please check the method: " + ", ".join(errors.values())
        )
    response = await caller(request).send(
        "orders", "PATCH", f"/admin/v1/shipping-methods/{method_id}", json=body
    )
    return await _answer(request, response, "method", {})


router.include_router(posts)
