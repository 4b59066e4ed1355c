"""Operations: find orders, read one with its timeline and payment records, move it along (processing →
shipped with carrier and tracking → delivered; cancel; return) and refund it, fully or in part."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response

from mercato.admin.auth import checked, csrf, field, redirect
from mercato.admin.web import caller, field_errors, problem, render, settings
from mercato.contracts.carriers import CARRIERS as CARRIER_TABLE
from mercato.webkit.gateway import NotFound, Unavailable

router = APIRouter()
posts = APIRouter(dependencies=[Depends(csrf)])

ORDER_ID = re.compile(r"^ord_[A-Za-z0-9_]{1,100}$")
STATES = (
    "placed",
    "confirmed",
    "processing",
    "shipped",
    "delivered",
    "cancelled",
    "returned",
    "refunded",
    "failed",
)
# The next steps staff may take from each state, as (target state, button label).
NEXT_STEPS = {
    "placed": (("processing", "Start processing"), ("cancelled", "Cancel")),
    "confirmed": (("processing", "Start processing"), ("cancelled", "Cancel")),
    "processing": (("shipped", "Mark shipped"), ("cancelled", "Cancel")),
    "shipped": (("delivered", "Mark delivered"),),
    "delivered": (("returned", "Record a return"),),
}
# (value sent to orders, text shown): the carriers' own names, from the one table orders links them with
CARRIERS = tuple((carrier.name, carrier.name) for carrier in CARRIER_TABLE)
DONE = {
    "processing": "The order is being processed.",
    "shipped": "The order is marked shipped; the customer is being e-mailed the tracking details.",
    "delivered": "The order is marked delivered.",
    "cancelled": "The order is cancelled and refunded.",
    "returned": "The return is recorded.",
    "refunded": "The refund is on its way back to the customer's card.",
}


def order_filters(request: Request) -> dict[str, Any]:
    query = request.query_params
    states = [s for s in query.getlist("state") if s in STATES]
    return {
        "state": states,
        "from": query.get("from", "")[:10],
        "to": query.get("to", "")[:10],
        "customer_id": query.get("customer_id", "")[:100],
        "q": query.get("q", "")[:200],
    }


# Without a state filter, every order but the checkouts that failed (declined cards, sold-out stock):
# they were never placed; ticking "Failed" shows them.
DEFAULT_STATES = tuple(state for state in ("pending_payment", *STATES) if state != "failed")


async def customers_of(request: Request, orders: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The customers of a page of orders, by id, in one call to customers' batch look-up; empty if it
    cannot answer now (or the staff member's role may not see customers): the page shows ids then."""
    ids = sorted({order["customer_id"] for order in orders if order["customer_id"]})  # a guest's: none
    if not ids:
        return {}
    try:
        response = await caller(request).send(
            "customers", "GET", "/admin/v1/customers/lookup", params=[("id", i) for i in ids]
        )
    except Unavailable:
        return {}
    if response.status_code != 200:
        return {}
    return {customer["id"]: customer for customer in response.json()["data"]}


@router.get("/orders")
async def orders(request: Request, cursor: str | None = None) -> Response:
    filters = order_filters(request)
    params: list[tuple[str, str]] = [("limit", str(settings.page_size))]
    params += [(name, value) for name, value in filters.items() if isinstance(value, str) and value]
    params += [("state", state) for state in filters["state"] or DEFAULT_STATES]
    if cursor:
        params.append(("cursor", cursor[:500]))
    response = checked(await caller(request).send("orders", "GET", "/admin/v1/orders", params=params))
    if response.status_code != 200:
        return render(
            request,
            "orders.jinja",
            422,
            orders=[],
            filters=filters,
            states=STATES,
            error="Please check the filters: " + "; ".join(field_errors(response).values()),
        )
    listing = response.json()
    nxt = listing.get("next_cursor")
    keep = [(k, v) for k, v in params if k not in ("limit", "cursor")]
    if not filters["state"]:  # the next page keeps the default, not an explicit list of states
        keep = [(k, v) for k, v in keep if k != "state"]
    return render(
        request,
        "orders.jinja",
        orders=listing["data"],
        customers=await customers_of(request, listing["data"]),
        filters=filters,
        states=STATES,
        next_url=f"/orders?{urlencode([*keep, ('cursor', nxt)])}" if nxt else None,
    )


async def order_page(request: Request, order_id: str, status_code: int = 200, **context: Any) -> Response:
    if not ORDER_ID.match(order_id):
        raise NotFound("orders", order_id)
    staff = caller(request)
    order = checked(await staff.send("orders", "GET", f"/admin/v1/orders/{order_id}"), "orders").json()
    records = await staff.send("payments", "GET", "/admin/v1/payments", params={"order_id": order_id})
    payments = records.json() if records.status_code == 200 else None
    context.setdefault("customers", await customers_of(request, [order]))
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return render(
        request,
        "order.jinja",
        status_code,
        order=order,
        payments=payments,
        next_steps=NEXT_STEPS.get(order["state"], ()),
        carriers=CARRIERS,
        idempotency_key=uuid.uuid4().hex,
        done=DONE.get(request.query_params.get("done", "")),
        **context,
    )


@router.get("/orders/{order_id}")
async def order(request: Request, order_id: str) -> Response:
    return await order_page(request, order_id)


CREDIT_NOTE = re.compile(r"^[A-Z]{2,8}-CN-[0-9]{4}-[0-9]{5,9}$")


@router.get("/orders/{order_id}/invoice")
async def invoice(request: Request, order_id: str) -> Response:
    """The order's invoice (PDF), fetched with the staff member's token."""
    return await _document(request, order_id, "invoice")


@router.get("/orders/{order_id}/credit-notes/{number}")
async def credit_note(request: Request, order_id: str, number: str) -> Response:
    if not CREDIT_NOTE.match(number):
        raise NotFound("orders", number)
    return await _document(request, order_id, f"credit-notes/{number}")


async def _document(request: Request, order_id: str, document: str) -> Response:
    if not ORDER_ID.match(order_id):
        raise NotFound("orders", order_id)
    pdf = checked(
        await caller(request).send("orders", "GET", f"/admin/v1/orders/{order_id}/{document}"), "orders"
    )
    return Response(
        pdf.content,
        media_type="application/pdf",
        headers={
            "content-disposition": pdf.headers["content-disposition"],
            "cache-control": "private, no-store",
        },
    )


@posts.post("/orders/{order_id}/transitions")
async def transition(request: Request, order_id: str) -> Response:
    form = await request.form()
    target = field(form, "to", 20)
    body: dict[str, Any] = {"to": target}
    for name in ("carrier", "tracking_number", "reason"):
        if value := field(form, name, 200):
            body[name] = value
    if not ORDER_ID.match(order_id):
        raise NotFound("orders", order_id)
    response = checked(
        await caller(request).send("orders", "POST", f"/admin/v1/orders/{order_id}/transitions", json=body),
        "orders",
    )
    if response.status_code >= 400:
        detail = str(problem(response).get("detail") or "That change isn't possible.")
        return await order_page(
            request, order_id, response.status_code, error=detail, errors=field_errors(response), values=body
        )
    return redirect(f"/orders/{order_id}?done={target}")


@posts.post("/orders/{order_id}/refunds")
async def refund(request: Request, order_id: str) -> Response:
    form = await request.form()
    if not ORDER_ID.match(order_id):
        raise NotFound("orders", order_id)
    body: dict[str, Any] = {"reason": field(form, "reason", 500)}
    amount = field(form, "amount", 20)
    values = {"amount": amount, "reason": body["reason"]}
    if amount:
        cents = parse_amount(amount)
        if cents is None:
            return await order_page(
                request, order_id, 422, values=values, errors={"amount": "Enter an amount like 12.50."}
            )
        body["amount"] = {"amount": cents, "currency": field(form, "currency", 3) or "EUR"}
    key = field(form, "idempotency_key", 100) or uuid.uuid4().hex
    response = checked(
        await caller(request).send(
            "orders",
            "POST",
            f"/admin/v1/orders/{order_id}/refunds",
            json=body,
            headers={"Idempotency-Key": key},
        ),
        "orders",
    )
    if response.status_code >= 400:
        detail = str(problem(response).get("detail") or "The refund didn't go through.")
        return await order_page(
            request,
            order_id,
            response.status_code,
            error=detail,
            errors=field_errors(response),
            values=values,
        )
    return redirect(f"/orders/{order_id}?done=refunded")


def parse_amount(text: str) -> int | None:
    """ "12.50" or "12,50" → 1250 minor units; anything else (negative, three decimals, words) → None."""
    match = re.fullmatch(r"(\d{1,9})(?:[.,](\d{1,2}))?", text.strip())
    if not match:
        return None
    major, minor = match.group(1), (match.group(2) or "").ljust(2, "0")
    cents = int(major) * 100 + int(minor)
    return cents or None


router.include_router(posts)
