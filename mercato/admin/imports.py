"""Merchandising: CSV import — every row checked first, all or nothing, with a row-by-row report."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response

from mercato.admin.auth import checked, csrf, field
from mercato.admin.catalog import MAX_CSV_BYTES
from mercato.admin.web import caller, problem, render

router = APIRouter()
posts = APIRouter(dependencies=[Depends(csrf)])


# --- CSV import ------------------------------------------------------------------------------------
@router.get("/imports")
async def imports(request: Request) -> Response:
    history = await caller(request).send(
        "catalog", "GET", "/admin/v1/product-imports", params={"limit": "20"}
    )
    checked(history)
    return render(
        request,
        "imports.jinja",
        history=history.json()["data"] if history.status_code == 200 else [],
        idempotency_key=uuid.uuid4().hex,
        report=None,
    )


@posts.post("/imports")
async def upload_import(request: Request) -> Response:
    form = await request.form()
    upload = form.get("file")
    staff = caller(request)
    if upload is None or isinstance(upload, str) or not upload.filename:
        return render(
            request,
            "imports.jinja",
            422,
            history=[],
            report=None,
            idempotency_key=uuid.uuid4().hex,
            error="Choose a CSV file.",
        )
    content = await upload.read(MAX_CSV_BYTES + 1)
    if len(content) > MAX_CSV_BYTES:
        return render(
            request,
            "imports.jinja",
            413,
            history=[],
            report=None,
            idempotency_key=uuid.uuid4().hex,
            error="That file is over 10 MB. Split it into smaller files.",
        )
    response = checked(
        await staff.send(
            "catalog",
            "POST",
            "/admin/v1/product-imports",
            files={"file": (upload.filename, content, "text/csv")},
            headers={"Idempotency-Key": field(form, "idempotency_key", 100) or uuid.uuid4().hex},
        ),
        "catalog",
    )
    history = await staff.send("catalog", "GET", "/admin/v1/product-imports", params={"limit": "20"})
    body = problem(response)
    status = response.status_code
    return render(
        request,
        "imports.jinja",
        status if status >= 400 else 200,
        history=history.json()["data"] if history.status_code == 200 else [],
        idempotency_key=uuid.uuid4().hex,
        report=body,
        accepted=status < 400,
        error=None if status < 400 else str(body.get("detail") or "The file was not imported."),
    )


router.include_router(posts)
