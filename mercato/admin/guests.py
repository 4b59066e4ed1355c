"""Support for guests (docs/guest-checkout.md): a guest has no account to look up, so support finds
their orders by the e-mail address they bought with, exports them for a data-portability request and
erases them on request. The address travels in POST bodies only (never in a URL or a log)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request, Response

from mercato.admin.auth import checked, csrf, field
from mercato.admin.web import caller, problem, render

router = APIRouter()
posts = APIRouter(dependencies=[Depends(csrf)])


async def _guest_page(request: Request, email: str, status_code: int = 200, **context: object) -> Response:
    found = checked(
        await caller(request).send("orders", "POST", "/admin/v1/guests/export", json={"email": email})
    )
    if found.status_code != 200:
        return render(
            request, "guest.jinja", 422, email=email, orders=[], error=str(problem(found).get("detail"))
        )
    guest = found.json()  # the address in its normal form
    return render(
        request, "guest.jinja", status_code, email=guest["email"], orders=guest["orders"], **context
    )


@posts.post("/guests")
async def guest(request: Request) -> Response:
    """A guest's orders, by the e-mail address they bought with."""
    return await _guest_page(request, field(await request.form(), "email", 320))


@posts.post("/guests/export")
async def export(request: Request) -> Response:
    """The guest's data as one JSON file, for answering a data-portability request."""
    email = field(await request.form(), "email", 320)
    found = checked(
        await caller(request).send("orders", "POST", "/admin/v1/guests/export", json={"email": email})
    )
    if found.status_code != 200:
        return await _guest_page(request, email)
    document = {"exported_at": datetime.now(UTC).isoformat(), "guest": found.json()}
    return Response(
        json.dumps(document, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={
            "content-disposition": 'attachment; filename="guest-data.json"',
            "cache-control": "no-store",
        },
    )


@posts.post("/guests/erasure")
async def erase(request: Request) -> Response:
    form = await request.form()
    email = field(form, "email", 320)
    if field(form, "confirm", 10) != "ERASE":
        return await _guest_page(request, email, 422, erase_error="Type ERASE to confirm.")
    response = checked(
        await caller(request).send("orders", "POST", "/admin/v1/guests/erasure", json={"email": email})
    )
    if response.status_code != 200:
        return await _guest_page(
            request, email, response.status_code, erase_error=str(problem(response).get("detail"))
        )
    return await _guest_page(request, email, erased=response.json()["erased"])


router.include_router(posts)
