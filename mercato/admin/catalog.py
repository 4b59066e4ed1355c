"""Merchandising: products and their variants (list, search, create, edit, archive), prices, images,
categories, stock adjustments with reasons, and CSV import (all or nothing, with a row-by-row report)
and export."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from mercato.admin.auth import checked, csrf, field, redirect
from mercato.admin.operations import parse_amount
from mercato.admin.web import caller, field_errors, problem, render, settings
from mercato.webkit.gateway import NotFound, Unavailable

router = APIRouter()
posts = APIRouter(dependencies=[Depends(csrf)])

PRODUCT_ID = re.compile(r"^prod_[A-Z0-9]{26}$")
SKU = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,63}$")
STATUSES = ("active", "draft", "archived")
NEW_STATUSES = ("draft", "active")
TAX_CLASSES = ("standard", "reduced", "zero")
CURRENCIES = ("EUR", "GBP", "USD")  # the markets' (GET /api/v1/markets), when catalog does not answer
MAX_WEIGHT = 1_000_000
REASONS = ("received", "damaged", "lost", "correction", "returned", "count")
MAX_CSV_BYTES = 10 * 1024 * 1024
DONE = {
    "created": "The product is created.",
    "saved": "Your changes are saved.",
    "archived": "The product is archived: it's no longer in the shop.",
    "unarchived": "The product is back in the shop.",
    "variant": "The variant is saved.",
    "image": "The image is uploaded and added to the product.",
    "adjusted": "The stock is adjusted.",
    "category": "The category is saved.",
    "category-deleted": "The category is deleted.",
}


def done(request: Request) -> str | None:
    return DONE.get(request.query_params.get("done", ""))


async def category_options(request: Request) -> list[tuple[str, str]]:
    response = await caller(request).send("catalog", "GET", "/api/v1/categories")
    options: list[tuple[str, str]] = []

    def walk(nodes: list[dict[str, Any]], trail: str) -> None:
        for node in nodes:
            label = f"{trail}{node['name']}"
            options.append((node["slug"], label))
            walk(node.get("children") or [], f"{label} \u203a ")

    if response.status_code == 200:
        walk(response.json()["data"], "")
    return options


async def currencies(request: Request) -> list[str]:
    """The currencies prices are entered in: one per market."""
    response = await caller(request).send("catalog", "GET", "/api/v1/markets")
    if response.status_code != 200:
        return list(CURRENCIES)
    return list(dict.fromkeys(market["currency"] for market in response.json()["data"]))


def price_fields(form: Any, currencies: list[str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The form's `price_<CUR>` fields as a price list (an empty one: not sold in that currency's
    market), and what is wrong with them."""
    prices, errors = [], {}
    for currency in currencies:
        text = field(form, f"price_{currency}", 20)
        if not text:
            continue
        if (amount := parse_amount(text)) is None:
            errors[f"price_{currency}"] = "Enter a price like 29.90, or leave it empty."
        else:
            prices.append({"amount": amount, "currency": currency})
    if not prices and not errors:
        errors[f"price_{currencies[0]}"] = "Enter a price in at least one currency."
    return prices, errors


def kind_field(form: Any) -> str:
    """A variant's kind: physical, or gift_card (a digital gift card; catalog never puts it on sale)."""
    return "gift_card" if field(form, "kind", 20) == "gift_card" else "physical"


def weight_field(form: Any) -> tuple[int, dict[str, str]]:
    text = field(form, "weight_grams", 9) or "0"
    if not text.isdigit() or int(text) > MAX_WEIGHT:
        return 0, {"weight_grams": f"Enter the weight in whole grams (up to {MAX_WEIGHT})."}
    return int(text), {}


# --- products ------------------------------------------------------------------------------------
@router.get("/products")
async def products(request: Request, cursor: str | None = None) -> Response:
    query = request.query_params
    filters = {
        "q": query.get("q", "")[:200],
        "status": query.get("status", "") if query.get("status") in STATUSES else "",
        "category": query.get("category", "")[:200],
    }
    params = {"limit": str(settings.page_size), **{k: v for k, v in filters.items() if v}}
    if cursor:
        params["cursor"] = cursor[:500]
    listing = checked(
        await caller(request).send("catalog", "GET", "/admin/v1/products", params=params)
    ).json()
    nxt = listing.get("next_cursor")
    keep = {k: v for k, v in filters.items() if v}
    return render(
        request,
        "products.jinja",
        products=listing["data"],
        filters=filters,
        statuses=STATUSES,
        categories=await category_options(request),
        next_url=f"/products?{urlencode({**keep, 'cursor': nxt})}" if nxt else None,
        export_url=f"/products/export.csv?{urlencode(keep)}",
        done=done(request),
    )


def product_body(form: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        name: field(form, name, 5000 if name == "description" else 200)
        for name in ("name", "brand", "description", "category", "status", "tax_class")
    }
    return {name: value for name, value in body.items() if value}


@router.get("/products/new")
async def new_product(request: Request) -> Response:
    return render(
        request,
        "product_new.jinja",
        values={"status": "draft", "tax_class": "standard"},
        errors={},
        statuses=NEW_STATUSES,
        tax_classes=TAX_CLASSES,
        currencies=await currencies(request),
        categories=await category_options(request),
        idempotency_key=uuid.uuid4().hex,
    )


@posts.post("/products/new")
async def create_product(request: Request) -> Response:
    form = await request.form()
    values = {name: field(form, name, 5000) for name in form if name != "csrf_token"}
    body = product_body(form) | {"slug": field(form, "slug", 200)}
    listed = await currencies(request)
    prices, errors = price_fields(form, listed)
    weight, weight_errors = weight_field(form)
    errors |= weight_errors
    try:
        stock = int(field(form, "stock", 9) or 0)
    except ValueError:
        stock, errors["stock"] = 0, "Enter a whole number."
    attributes = {k: v for k in ("size", "colour") if (v := field(form, k, 100))}
    body["variants"] = [
        {
            "sku": field(form, "sku", 64).upper(),
            "prices": prices,
            "weight_grams": weight,
            "kind": kind_field(form),
            "stock": stock,
            "attributes": attributes,
        }
    ]
    if not errors:
        response = checked(
            await caller(request).send(
                "catalog",
                "POST",
                "/admin/v1/products",
                json=body,
                headers={"Idempotency-Key": field(form, "idempotency_key", 100) or uuid.uuid4().hex},
            )
        )
        if response.status_code in (200, 201):
            return redirect(f"/products/{response.json()['id']}?done=created")
        errors = field_errors(response)
        error = str(problem(response).get("detail") or "Please check the form.")
    else:
        error = "Please check the form."
    return render(
        request,
        "product_new.jinja",
        422,
        values=values,
        errors=errors,
        error=error,
        statuses=NEW_STATUSES,
        tax_classes=TAX_CLASSES,
        currencies=listed,
        categories=await category_options(request),
        idempotency_key=field(form, "idempotency_key", 100),
    )


async def product_page(request: Request, product_id: str, status_code: int = 200, **context: Any) -> Response:
    if not PRODUCT_ID.match(product_id):
        raise NotFound("catalog", product_id)
    response = checked(
        await caller(request).send("catalog", "GET", f"/admin/v1/products/{product_id}"), "catalog"
    )
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return render(
        request,
        "product.jinja",
        status_code,
        product=response.json(),
        etag=response.headers.get("etag", ""),
        statuses=STATUSES,
        tax_classes=TAX_CLASSES,
        currencies=await currencies(request),
        categories=await category_options(request),
        done=done(request),
        **context,
    )


@router.get("/products/export.csv")
async def export(request: Request) -> Response:
    """The catalogue as CSV, streamed through from the catalog service (same columns as the import)."""
    staff = caller(request)
    await staff.ensure_signed_in()
    params = {k: v[:200] for k, v in request.query_params.items() if k in ("q", "status", "category")}
    upstream_request = staff.gateway.client.build_request(
        "GET",
        "/admin/v1/products/export.csv",
        params=params,
        headers={**staff.headers, "authorization": f"Bearer {staff.access}"},
    )
    try:
        upstream = await staff.gateway.client.send(upstream_request, stream=True)
    except Exception as exc:
        raise Unavailable("catalog", type(exc).__name__) from exc
    if upstream.status_code != 200:
        await upstream.aclose()
        checked(upstream)
        raise Unavailable("catalog", f"HTTP {upstream.status_code}")
    return StreamingResponse(
        upstream.aiter_raw(),
        media_type="text/csv",
        headers={
            "content-disposition": upstream.headers.get(
                "content-disposition", 'attachment; filename="products.csv"'
            ),
            "cache-control": "no-store",
        },
        background=BackgroundTask(upstream.aclose),
    )


@router.get("/products/{product_id}")
async def product(request: Request, product_id: str) -> Response:
    return await product_page(request, product_id)


@posts.post("/products/{product_id}")
async def update_product(request: Request, product_id: str) -> Response:
    form = await request.form()
    if not PRODUCT_ID.match(product_id):
        raise NotFound("catalog", product_id)
    body = product_body(form)
    response = checked(
        await caller(request).send(
            "catalog",
            "PATCH",
            f"/admin/v1/products/{product_id}",
            json=body,
            headers={"If-Match": field(form, "etag", 200) or "*"},
        ),
        "catalog",
    )
    if response.status_code == 412:
        return await product_page(
            request,
            product_id,
            409,
            error="Someone else changed this product while you were editing. Here is the latest version.",
        )
    if response.status_code >= 400:
        return await product_page(
            request,
            product_id,
            response.status_code,
            values=body,
            errors=field_errors(response),
            error=str(problem(response).get("detail") or "Please check the form."),
        )
    return redirect(f"/products/{product_id}?done=saved")


@posts.post("/products/{product_id}/archive")
@posts.post("/products/{product_id}/unarchive")
async def archive(request: Request, product_id: str) -> Response:
    if not PRODUCT_ID.match(product_id):
        raise NotFound("catalog", product_id)
    action = request.url.path.rsplit("/", 1)[-1]
    response = checked(
        await caller(request).send("catalog", "POST", f"/admin/v1/products/{product_id}/{action}"), "catalog"
    )
    if response.status_code >= 400:
        return await product_page(
            request, product_id, response.status_code, error=str(problem(response).get("detail"))
        )
    return redirect(f"/products/{product_id}?done={action}d")


@posts.post("/products/{product_id}/variants")
async def save_variant(request: Request, product_id: str) -> Response:
    form = await request.form()
    if not PRODUCT_ID.match(product_id):
        raise NotFound("catalog", product_id)
    sku = field(form, "sku", 64).upper()
    existing = field(form, "existing", 5) == "yes"
    prices, errors = price_fields(form, await currencies(request))
    weight, weight_errors = weight_field(form)
    if errors or weight_errors or not SKU.match(sku):
        return await product_page(
            request,
            product_id,
            422,
            error="Enter a SKU (capitals, digits, dashes), a price like 29.90 in at least one currency "
            "(leave a currency empty where the variant is not sold) and a weight in grams.",
        )
    staff = caller(request)
    if existing:
        body: dict[str, Any] = {
            "prices": prices,
            "weight_grams": weight,
            "kind": kind_field(form),
            "active": form.get("active") == "on",
        }
        response = await staff.send(
            "catalog",
            "PATCH",
            f"/admin/v1/products/{product_id}/variants/{sku}",
            json=body,
            headers={"If-Match": field(form, "etag", 200) or "*"},
        )
    else:
        attributes = {k: v for k in ("size", "colour") if (v := field(form, k, 100))}
        try:
            stock = int(field(form, "stock", 9) or 0)
        except ValueError:
            stock = -1
        body = {
            "sku": sku,
            "prices": prices,
            "weight_grams": weight,
            "kind": kind_field(form),
            "attributes": attributes,
            "stock": stock,
        }
        response = await staff.send("catalog", "POST", f"/admin/v1/products/{product_id}/variants", json=body)
    checked(response, "catalog")
    if response.status_code >= 400:
        return await product_page(
            request,
            product_id,
            response.status_code,
            error=str(problem(response).get("detail") or "The variant couldn't be saved."),
            errors=field_errors(response),
        )
    return redirect(f"/products/{product_id}?done=variant")


@posts.post("/products/{product_id}/images")
async def upload_image(request: Request, product_id: str) -> Response:
    form = await request.form()
    if not PRODUCT_ID.match(product_id):
        raise NotFound("catalog", product_id)
    upload = form.get("image")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return await product_page(request, product_id, 422, error="Choose an image file (JPEG, PNG or WebP).")
    content = await upload.read(MAX_CSV_BYTES + 1)
    staff = caller(request)
    stored = checked(
        await staff.send(
            "catalog",
            "POST",
            "/admin/v1/images",
            files={"file": (upload.filename, content, upload.content_type or "application/octet-stream")},
        ),
        "catalog",
    )
    if stored.status_code >= 400:
        return await product_page(
            request,
            product_id,
            stored.status_code,
            error=str(problem(stored).get("detail") or "Not an image."),
        )
    current = checked(await staff.send("catalog", "GET", f"/admin/v1/products/{product_id}"), "catalog")
    images = [{"name": image["name"], "alt": image.get("alt") or ""} for image in current.json()["images"]]
    attached = await staff.send(
        "catalog",
        "PATCH",
        f"/admin/v1/products/{product_id}",
        json={"images": [*images, {"name": stored.json()["name"], "alt": field(form, "alt", 300)}]},
        headers={"If-Match": current.headers.get("etag", "*")},
    )
    if attached.status_code >= 400:
        return await product_page(
            request, product_id, attached.status_code, error=str(problem(attached).get("detail"))
        )
    return redirect(f"/products/{product_id}?done=image")


router.include_router(posts)
