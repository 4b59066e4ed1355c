"""Merchandising: the category tree (add, rename, re-slug, move, delete when empty)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from mercato.admin.auth import checked, csrf, field, redirect
from mercato.admin.catalog import category_options, done
from mercato.admin.web import caller, field_errors, problem, render
from mercato.webkit.gateway import NotFound

router = APIRouter()
posts = APIRouter(dependencies=[Depends(csrf)])


# --- categories ----------------------------------------------------------------------------------
CATEGORY_ID = re.compile(r"^cat_[A-Z0-9]{26}$")


async def categories_page(request: Request, status_code: int = 200, **context: Any) -> Response:
    listing = checked(await caller(request).send("catalog", "GET", "/admin/v1/categories")).json()["data"]
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return render(
        request,
        "categories.jinja",
        status_code,
        categories=listing,
        slugs={category["id"]: category["slug"] for category in listing},
        options=await category_options(request),
        done=done(request),
        **context,
    )


@router.get("/categories")
async def categories(request: Request) -> Response:
    return await categories_page(request)


@posts.post("/categories")
async def create_category(request: Request) -> Response:
    form = await request.form()
    values = {name: field(form, name, 200) for name in ("name", "slug", "parent")}
    body = {k: v for k, v in values.items() if v}
    response = checked(await caller(request).send("catalog", "POST", "/admin/v1/categories", json=body))
    if response.status_code >= 400:
        return await categories_page(
            request,
            response.status_code,
            values=values,
            errors=field_errors(response),
            error=str(problem(response).get("detail") or "Please check the form."),
        )
    return redirect("/categories?done=category")


@posts.post("/categories/{category_id}")
async def change_category(request: Request, category_id: str) -> Response:
    """Rename, re-slug or move a category — or, with `action=delete`, delete an empty one."""
    if not CATEGORY_ID.match(category_id):
        raise NotFound("catalog", category_id)
    form = await request.form()
    staff = caller(request)
    if field(form, "action", 10) == "delete":
        response = await staff.send("catalog", "DELETE", f"/admin/v1/categories/{category_id}")
    else:
        body: dict[str, Any] = {name: field(form, name, 200) for name in ("name", "slug")}
        body = {name: value for name, value in body.items() if value}
        body["parent"] = field(form, "parent", 200) or None
        response = await staff.send("catalog", "PATCH", f"/admin/v1/categories/{category_id}", json=body)
    checked(response, "catalog")
    if response.status_code >= 400:
        detail = str(problem(response).get("detail") or "That change isn't possible.")
        return await categories_page(request, response.status_code, error=detail)
    return redirect("/categories?done=" + ("category-deleted" if response.status_code == 204 else "category"))


router.include_router(posts)
