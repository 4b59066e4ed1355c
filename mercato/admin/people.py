"""People: customer support (look a customer up, their orders, GDPR export and erasure on request),
staff management and the audit log (both for admins)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response

from mercato.admin.auth import checked, csrf, field, redirect
from mercato.admin.web import caller, field_errors, problem, render, settings
from mercato.webkit.gateway import NotFound

router = APIRouter()
posts = APIRouter(dependencies=[Depends(csrf)])

CUSTOMER_ID = re.compile(r"^cus_[A-Za-z0-9_]{1,100}$")
STAFF_ID = re.compile(r"^stf_[A-Za-z0-9_]{1,100}$")
ROLES = ("merchandising", "operations", "support", "admin")


def next_link(path: str, params: dict[str, str], cursor: str | None) -> str | None:
    if not cursor:
        return None
    return f"{path}?{urlencode({**{k: v for k, v in params.items() if v}, 'cursor': cursor})}"


# --- customers (support) -------------------------------------------------------------------------
@router.get("/customers")
async def customers(request: Request, q: str = "", cursor: str | None = None) -> Response:
    q = q.strip()[:200]
    params: dict[str, str] = {"limit": str(settings.page_size)} | ({"q": q} if q else {})
    if cursor:
        params["cursor"] = cursor[:500]
    found = checked(
        await caller(request).send("customers", "GET", "/admin/v1/customers", params=params)
    ).json()
    return render(
        request,
        "customers.jinja",
        q=q,
        customers=found["data"],
        next_url=next_link("/customers", {"q": q}, found.get("next_cursor")),
    )


async def customer_page(
    request: Request, customer_id: str, status_code: int = 200, **context: Any
) -> Response:
    if not CUSTOMER_ID.match(customer_id):
        raise NotFound("customers", customer_id)
    staff = caller(request)
    customer = checked(
        await staff.send("customers", "GET", f"/admin/v1/customers/{customer_id}"), "customers"
    )
    orders = await staff.send(
        "orders", "GET", "/admin/v1/orders", params={"customer_id": customer_id, "limit": "50"}
    )
    return render(
        request,
        "customer.jinja",
        status_code,
        customer=customer.json(),
        orders=orders.json()["data"] if orders.status_code == 200 else None,
        done={"erased": "The customer's personal data is being erased everywhere."}.get(
            request.query_params.get("done", "")
        ),
        **context,
    )


@router.get("/customers/{customer_id}")
async def customer(request: Request, customer_id: str) -> Response:
    return await customer_page(request, customer_id)


@router.get("/customers/{customer_id}/export")
async def export(request: Request, customer_id: str) -> Response:
    """The customer's data as one JSON file, for answering a data-portability request."""
    if not CUSTOMER_ID.match(customer_id):
        raise NotFound("customers", customer_id)
    staff = caller(request)
    account = checked(await staff.send("customers", "GET", f"/admin/v1/customers/{customer_id}/export"))
    orders: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(100):
        params = {"customer_id": customer_id, "limit": "100"} | ({"cursor": cursor} if cursor else {})
        page = await staff.send("orders", "GET", "/admin/v1/orders", params=params)
        if page.status_code != 200:
            break
        for summary in page.json()["data"]:
            detail = await staff.send("orders", "GET", f"/admin/v1/orders/{summary['id']}")
            orders.append(detail.json() if detail.status_code == 200 else summary)
        cursor = page.json().get("next_cursor")
        if not cursor:
            break
    document = {"exported_at": datetime.now(UTC).isoformat(), "account": account.json(), "orders": orders}
    return Response(
        json.dumps(document, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={
            "content-disposition": f'attachment; filename="{customer_id}-data.json"',
            "cache-control": "no-store",
        },
    )


@posts.post("/customers/{customer_id}/erasure")
async def erase(request: Request, customer_id: str) -> Response:
    form = await request.form()
    if not CUSTOMER_ID.match(customer_id):
        raise NotFound("customers", customer_id)
    reason = field(form, "reason", 500)
    if field(form, "confirm", 10) != "ERASE" or not reason:
        return await customer_page(
            request, customer_id, 422, erase_error="Type ERASE and give the request's reference or reason."
        )
    response = checked(
        await caller(request).send(
            "customers", "POST", f"/admin/v1/customers/{customer_id}/erasure", json={"reason": reason}
        )
    )
    if response.status_code >= 400:
        return await customer_page(
            request, customer_id, response.status_code, erase_error=str(problem(response).get("detail"))
        )
    return redirect(f"/customers/{customer_id}?done=erased")


# --- staff (admins) ------------------------------------------------------------------------------
@router.get("/staff")
async def staff_list(request: Request, cursor: str | None = None) -> Response:
    params = {"limit": str(settings.page_size)} | ({"cursor": cursor[:500]} if cursor else {})
    listing = checked(await caller(request).send("staff", "GET", "/admin/v1/staff", params=params)).json()
    return render(
        request,
        "staff.jinja",
        staff=listing["data"],
        all_roles=ROLES,
        values={},
        errors={},
        next_url=next_link("/staff", {}, listing.get("next_cursor")),
    )


@posts.post("/staff")
async def create_staff(request: Request) -> Response:
    form = await request.form()
    values = {"email": field(form, "email", 320), "name": field(form, "name", 200)}
    roles = [role for role in form.getlist("roles") if role in ROLES]
    response = checked(
        await caller(request).send("staff", "POST", "/admin/v1/staff", json={**values, "roles": roles})
    )
    listing = checked(await caller(request).send("staff", "GET", "/admin/v1/staff", params={"limit": "100"}))
    if response.status_code != 201:
        return render(
            request,
            "staff.jinja",
            422 if response.status_code < 500 else response.status_code,
            staff=listing.json()["data"],
            all_roles=ROLES,
            values={**values, "roles": roles},
            errors=field_errors(response),
            error=str(problem(response).get("detail") or "Please check the form."),
        )
    created = response.json()
    return render(
        request,
        "staff.jinja",
        201,
        staff=listing.json()["data"],
        all_roles=ROLES,
        values={},
        errors={},
        created=created,
    )


@posts.post("/staff/{staff_id}")
async def update_staff(request: Request, staff_id: str) -> Response:
    if not STAFF_ID.match(staff_id):
        raise NotFound("staff", staff_id)
    form = await request.form()
    action = field(form, "action", 20)
    staff = caller(request)
    if action in ("unlock", "reset-mfa"):
        response = await staff.send("staff", "POST", f"/admin/v1/staff/{staff_id}/{action}")
    else:
        body = {
            "roles": [r for r in form.getlist("roles") if r in ROLES],
            "active": form.get("active") == "on",
        }
        response = await staff.send("staff", "PATCH", f"/admin/v1/staff/{staff_id}", json=body)
    checked(response)
    if response.status_code >= 400:
        listing = checked(await staff.send("staff", "GET", "/admin/v1/staff", params={"limit": "100"}))
        return render(
            request,
            "staff.jinja",
            response.status_code,
            staff=listing.json()["data"],
            all_roles=ROLES,
            values={},
            errors={},
            error=str(problem(response).get("detail") or "That change isn't possible."),
        )
    return redirect("/staff")


@router.get("/audit")
async def audit(request: Request, cursor: str | None = None) -> Response:
    query = request.query_params
    filters = {name: query.get(name, "")[:100] for name in ("staff_id", "action", "target_id", "from", "to")}
    params = {"limit": "50", **{k: v for k, v in filters.items() if v}}
    if cursor:
        params["cursor"] = cursor[:500]
    listing = checked(await caller(request).send("staff", "GET", "/admin/v1/audit", params=params))
    if listing.status_code != 200:
        return render(
            request, "audit.jinja", 422, entries=[], filters=filters, error="Please check the filters."
        )
    body = listing.json()
    return render(
        request,
        "audit.jinja",
        entries=body["data"],
        filters=filters,
        next_url=next_link("/audit", filters, body.get("next_cursor")),
    )


router.include_router(posts)
