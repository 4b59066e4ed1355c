"""Merchandising: promotions — listed, created and edited (trigger, conditions, action, window, stacking,
limits, shared codes) — and batches of single-use codes generated with a live progress bar, then
downloaded as CSV (docs/promotions.md)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from mercato.admin import promotion_form as pf
from mercato.admin.auth import checked, csrf, field, redirect
from mercato.admin.web import caller, format_when, problem, render, settings
from mercato.webkit.gateway import NotFound

router = APIRouter()
posts = APIRouter(dependencies=[Depends(csrf)])

ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
PREFIX = re.compile(r"^([A-Z0-9][A-Z0-9_-]{0,11})?$")
MAX_CODES = 100_000
DONE = {
    "created": "The promotion is saved.",
    "saved": "Your changes are saved.",
}


def _id(value: str) -> str:
    if not ID.match(value):
        raise NotFound("orders", value)
    return value


WORDS = {"live": "Live", "scheduled": "Scheduled", "ended": "Ended", "archived": "Inactive"}


def status_of(promotion: dict[str, Any]) -> tuple[str, str]:
    """(badge class, words) for the list: orders' status (archived, scheduled, live, ended) and when its
    window opens or closes."""
    status = promotion.get("status") or "live"
    starts, ends = (format_when(promotion.get(name)) for name in ("starts_at", "ends_at"))
    if status == "scheduled" and starts:
        return status, f"Starts {starts}"
    if status == "live" and ends:
        return "active", f"Live until {ends}"
    if status == "ended" and ends:
        return "archived", f"Ended {ends}"
    return {"live": "active", "ended": "archived"}.get(status, status), WORDS.get(status, status)


@router.get("/promotions")
async def promotions(request: Request) -> Response:
    params = {"limit": str(settings.page_size)}
    if cursor := request.query_params.get("cursor", "")[:500]:
        params["cursor"] = cursor
    listing = checked(
        await caller(request).send("orders", "GET", "/admin/v1/promotions", params=params), "orders"
    ).json()
    nxt = listing.get("next_cursor")
    return render(
        request,
        "promotions.jinja",
        promotions=listing["data"],
        status_of=status_of,
        summary=pf.summary,
        next_url=f"/promotions?{urlencode({'cursor': nxt})}" if nxt else None,
        done=DONE.get(request.query_params.get("done", "")),
    )


async def _options(request: Request) -> dict[str, Any]:
    """The markets and categories the conditions pick from (empty if catalog cannot answer now: SKUs and
    product ids can still be typed)."""
    staff = caller(request)
    markets = await staff.send("catalog", "GET", "/api/v1/markets")
    tree = await staff.send("catalog", "GET", "/api/v1/categories")
    categories: list[tuple[str, str]] = []

    def walk(nodes: list[dict[str, Any]], trail: str) -> None:
        for node in nodes:
            categories.append((node["id"], f"{trail}{node['name']}"))
            walk(node.get("children") or [], f"{trail}{node['name']} \u203a ")

    if tree.status_code == 200:
        walk(tree.json()["data"], "")
    return {
        "markets": [(m["id"], f"{m['name']} ({m['currency']})") for m in markets.json()["data"]]
        if markets.status_code == 200
        else [],
        "categories": categories,
        "currencies": pf.CURRENCIES,
        "triggers": pf.TRIGGERS,
        "actions": pf.ACTIONS,
        "targets": pf.TARGETS,
    }


async def form_page(
    request: Request, promotion: dict[str, Any] | None, status_code: int = 200, **context: Any
) -> Response:
    context.setdefault("values", pf.values_of(promotion) if promotion else {"active": True, "combines": True})
    context.setdefault("errors", {})
    return render(
        request,
        "promotion.jinja",
        status_code,
        promotion=promotion,
        done=DONE.get(request.query_params.get("done", "")),
        max_codes=MAX_CODES,
        **(await _options(request)),
        **context,
    )


@router.get("/promotions/new")
async def new_promotion(request: Request) -> Response:
    return await form_page(request, None)


async def _promotion(request: Request, promotion_id: str) -> dict[str, Any]:
    response = await caller(request).send("orders", "GET", f"/admin/v1/promotions/{_id(promotion_id)}")
    return checked(response, "orders").json()


@router.get("/promotions/{promotion_id}")
async def promotion(request: Request, promotion_id: str) -> Response:
    return await form_page(request, await _promotion(request, promotion_id))


async def _save(request: Request, promotion_id: str | None) -> Response:
    form = await request.form()
    body, errors = pf.body_of(form)
    current = await _promotion(request, promotion_id) if promotion_id else None
    if not errors:
        response = checked(
            await caller(request).send(
                "orders",
                "PATCH" if promotion_id else "POST",
                f"/admin/v1/promotions/{promotion_id}" if promotion_id else "/admin/v1/promotions",
                json=body,
            ),
            "orders",
        )
        if response.status_code < 400:
            saved = response.json()
            return redirect(
                f"/promotions/{saved.get('id', promotion_id)}?done={'saved' if promotion_id else 'created'}"
            )
        errors = pf.errors_by_field(problem(response).get("errors") or {})
        detail = str(problem(response).get("detail") or "Please check the promotion.")
    else:
        detail = "Please check the promotion."
    if "form" in errors:
        detail = f"{detail} {errors.pop('form')}"
    return await form_page(request, current, 422, values=pf.form_values(form), errors=errors, error=detail)


@posts.post("/promotions")
async def create_promotion(request: Request) -> Response:
    return await _save(request, None)


@posts.post("/promotions/{promotion_id}")
async def edit_promotion(request: Request, promotion_id: str) -> Response:
    return await _save(request, _id(promotion_id))


# --- code batches ---------------------------------------------------------------------------------
@posts.post("/promotions/{promotion_id}/code-batches")
async def generate_codes(request: Request, promotion_id: str) -> Response:
    form = await request.form()
    count, prefix = field(form, "count", 7), field(form, "prefix", 12).upper()
    errors = {}
    if not count.isdigit() or not 1 <= int(count) <= MAX_CODES:
        errors["count"] = f"Enter how many codes, from 1 to {MAX_CODES:,}."
    if not PREFIX.match(prefix):
        errors["prefix"] = "Up to 12 letters, digits, - and _, starting with a letter or digit."
    if not errors:
        response = checked(
            await caller(request).send(
                "orders",
                "POST",
                f"/admin/v1/promotions/{_id(promotion_id)}/code-batches",
                json={"count": int(count), "prefix": prefix},
            ),
            "orders",
        )
        if response.status_code < 400:
            return redirect(f"/promotions/{promotion_id}/code-batches/{response.json()['id']}")
        errors = {
            name.rsplit(".", 1)[-1]: message
            for name, message in (problem(response).get("errors") or {}).items()
        } or {"count": str(problem(response).get("detail") or "The codes could not be generated.")}
    current = await _promotion(request, promotion_id)
    return await form_page(
        request,
        current,
        422,
        batch_values={"count": count, "prefix": prefix},
        batch_errors=errors,
        error="Please check the code batch.",
    )


async def _batch(request: Request, promotion_id: str, batch_id: str) -> dict[str, Any]:
    path = f"/admin/v1/promotions/{_id(promotion_id)}/code-batches/{_id(batch_id)}"
    return checked(await caller(request).send("orders", "GET", path), "orders").json()


@router.get("/promotions/{promotion_id}/code-batches/{batch_id}")
async def batch(request: Request, promotion_id: str, batch_id: str) -> Response:
    """The batch's progress: a <progress> element the page's script keeps current (without JavaScript
    the page refreshes itself every two seconds until the batch is done)."""
    return render(
        request,
        "code_batch.jinja",
        promotion=await _promotion(request, promotion_id),
        batch=await _batch(request, promotion_id, batch_id),
        batch_id=batch_id,
    )


@router.get("/promotions/{promotion_id}/code-batches/{batch_id}/progress")
async def batch_progress(request: Request, promotion_id: str, batch_id: str) -> Response:
    found = await _batch(request, promotion_id, batch_id)
    return JSONResponse(
        {key: found.get(key) for key in ("requested", "generated", "state")},
        headers={"cache-control": "no-store"},
    )


@router.get("/promotions/{promotion_id}/code-batches/{batch_id}/codes.csv")
async def batch_csv(request: Request, promotion_id: str, batch_id: str) -> Response:
    path = f"/admin/v1/promotions/{_id(promotion_id)}/code-batches/{_id(batch_id)}/codes.csv"
    answer = checked(await caller(request).send("orders", "GET", path), "orders")
    if answer.status_code != 200:
        return redirect(f"/promotions/{promotion_id}/code-batches/{batch_id}")
    disposition = answer.headers.get("content-disposition") or f'attachment; filename="codes-{batch_id}.csv"'
    return Response(
        answer.content,
        media_type="text/csv",
        headers={"content-disposition": disposition, "cache-control": "private, no-store"},
    )


router.include_router(posts)
