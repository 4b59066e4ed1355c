"""Merchandising: stock levels of a SKU, their history, and adjustments with reasons."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response

from mercato.admin.auth import checked, csrf, field, redirect
from mercato.admin.catalog import REASONS, SKU, done
from mercato.admin.web import caller, problem, render
from mercato.webkit.gateway import NotFound

router = APIRouter()
posts = APIRouter(dependencies=[Depends(csrf)])


# --- inventory -----------------------------------------------------------------------------------
@router.get("/inventory")
async def inventory(request: Request, sku: str = "", cursor: str | None = None) -> Response:
    sku = sku.strip().upper()[:64]
    found = None
    if sku:
        if not SKU.match(sku):
            return render(
                request,
                "inventory.jinja",
                422,
                sku=sku,
                item=None,
                reasons=REASONS,
                error="That isn't a SKU.",
            )
        params = {"cursor": cursor[:500]} if cursor else {}
        response = await caller(request).send("catalog", "GET", f"/admin/v1/inventory/{sku}", params=params)
        if response.status_code == 404:
            return render(
                request, "inventory.jinja", 404, sku=sku, item=None, reasons=REASONS, error="No such SKU."
            )
        found = checked(response).json()
    return render(
        request,
        "inventory.jinja",
        sku=sku,
        item=found,
        reasons=REASONS,
        idempotency_key=uuid.uuid4().hex,
        done=done(request),
    )


@posts.post("/inventory/{sku}/adjustments")
async def adjust(request: Request, sku: str) -> Response:
    form = await request.form()
    if not SKU.match(sku):
        raise NotFound("catalog", sku)
    try:
        delta = int(field(form, "delta", 9))
    except ValueError:
        delta = 0
    reason = field(form, "reason", 20)
    if not delta or reason not in REASONS:
        return render(
            request,
            "inventory.jinja",
            422,
            sku=sku,
            item=None,
            reasons=REASONS,
            error="Enter a change other than 0 (e.g. 12 or -3) and pick a reason.",
        )
    body = {"delta": delta, "reason": reason} | ({"note": note} if (note := field(form, "note", 500)) else {})
    response = checked(
        await caller(request).send(
            "catalog",
            "POST",
            f"/admin/v1/inventory/{sku}/adjustments",
            json=body,
            headers={"Idempotency-Key": field(form, "idempotency_key", 100) or uuid.uuid4().hex},
        ),
        "catalog",
    )
    if response.status_code >= 400:
        item = (await caller(request).send("catalog", "GET", f"/admin/v1/inventory/{sku}")).json()
        return render(
            request,
            "inventory.jinja",
            response.status_code,
            sku=sku,
            item=item,
            reasons=REASONS,
            idempotency_key=uuid.uuid4().hex,
            error=str(problem(response).get("detail") or "Not possible."),
        )
    return redirect(f"/inventory?{urlencode({'sku': sku, 'done': 'adjusted'})}")


router.include_router(posts)
