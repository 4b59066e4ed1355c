"""A forgotten password: "Forgot password?" on the sign-in page asks for the e-mail address, the
e-mailed link opens the page that sets a new one, and then the shopper signs in with it. Every answer
to the first form is the same, so the shop says nothing about which addresses have accounts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from mercato.storefront.account import PASSWORD_MESSAGES
from mercato.storefront.shop import csrf, field, private, problem
from mercato.storefront.web import gw, render

router = APIRouter()
posts = APIRouter(dependencies=[Depends(csrf)])

NEW_PASSWORD_MESSAGE = PASSWORD_MESSAGES["new_password"]


def _page(request: Request, status_code: int = 200, **context: object) -> Response:
    response = private(render(request, "reset-password.jinja", status_code, **context))
    response.headers["referrer-policy"] = "no-referrer"  # the token is in this page's address
    return response


@router.get("/forgot-password")
async def forgot_password_page(request: Request) -> Response:
    return _page(request, step="ask", email="")


@posts.post("/forgot-password")
async def forgot_password(request: Request) -> Response:
    form = await request.form()
    email = field(form, "email", 320)
    if not email:
        return _page(
            request, 422, step="ask", email="", errors={"email": "Please enter your e-mail address."}
        )
    response = await gw(request).send("account", "POST", "/api/v1/auth/password-reset", json={"email": email})
    if response.status_code == 429:
        return _page(request, 429, step="ask", email=email, error="Too many attempts; try again in a minute.")
    return _page(request, step="sent", email=email)


@router.get("/reset-password")
async def reset_password_page(request: Request, token: str = "") -> Response:
    return _page(request, step="choose", token=token[:200])


@posts.post("/reset-password")
async def reset_password(request: Request) -> Response:
    form = await request.form()
    token, password = field(form, "token", 200), field(form, "new_password")
    response = await gw(request).send(
        "account",
        "POST",
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": password},
    )
    if response.status_code == 204:
        return _page(request, step="done")
    if response.status_code == 422 and "new_password" in (problem(response).get("errors") or {}):
        return _page(request, 422, step="choose", token=token, errors={"new_password": NEW_PASSWORD_MESSAGE})
    return _page(request, 400, step="expired")


router.include_router(posts)
