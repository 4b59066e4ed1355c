"""The admin app: middleware (address allowlist, CSRF, session cookies, security headers), error pages,
and the routers of each part of the back office."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from mercato.admin import (
    auth,
    catalog,
    categories,
    giftcards,
    guests,
    imports,
    inventory,
    operations,
    people,
    promotion_report,
    promotions,
    reports,
    shipping,
)
from mercato.admin.web import cookies, error_page, gw, settings
from mercato.webkit import csrf
from mercato.webkit.caller import LoginRequired
from mercato.webkit.cookies import SecurityHeadersMiddleware, SessionMiddleware
from mercato.webkit.gateway import BadInput, GatewayClient, NotFound, Unavailable
from mercato.webkit.images import IMAGE_PATH, image_response
from mercato.webkit.redirects import RelativeRedirectsMiddleware

log = logging.getLogger("mercato.admin")
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
    ),
}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.gateway = GatewayClient(
        settings.gateway_url, settings.gateway_timeout_seconds, user_agent="mercato-admin"
    )
    try:
        yield
    finally:
        await app.state.gateway.aclose()


app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
for part in (auth, catalog, categories, inventory, imports, operations, people, guests, reports, shipping):
    app.include_router(part.router)
for part in (promotion_report, promotions, giftcards):  # the report's path before /promotions/{id}
    app.include_router(part.router)


app.add_middleware(SessionMiddleware, cookies=cookies, secret=settings.session_secret.get_secret_value())


@app.middleware("http")
async def allowlist(request: Request, call_next: Any) -> Response:
    """Only browsers on the allowed networks see the back office at all (the gateway checks its own
    allowlist too, against the admin app's address)."""
    try:
        address = ip_address(request.client.host if request.client else "")
    except ValueError:
        address = None
    if address is None or not any(address in network for network in settings.allowed_networks):
        log.warning("refused a browser outside the admin allowlist: %s", address)
        return Response(
            "Forbidden: this network may not use the back office.\n", 403, media_type="text/plain"
        )
    return await call_next(request)


app.add_middleware(SecurityHeadersMiddleware, headers=SECURITY_HEADERS)
app.add_middleware(RelativeRedirectsMiddleware)  # no redirect to a client-chosen Host


# --- errors: clear pages, never a traceback -------------------------------------------------------
@app.exception_handler(NotFound)
@app.exception_handler(404)
async def not_found(request: Request, exc: Exception) -> Response:
    return error_page(request, 404, "Not found", "There is nothing here, or it was removed.")


@app.exception_handler(HTTPException)
async def http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 404:
        return await not_found(request, exc)
    return error_page(request, exc.status_code, "That didn't work", "Please go back and try again.")


@app.exception_handler(csrf.CsrfFailed)
async def csrf_failed(request: Request, exc: Exception) -> Response:
    return error_page(request, 403, "Please try that again", "The form expired. Go back, reload and retry.")


@app.exception_handler(LoginRequired)
async def login_required(request: Request, exc: Exception) -> Response:
    target = request.url.path if request.method == "GET" else "/"
    return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)


@app.exception_handler(auth.Forbidden)
async def forbidden(request: Request, exc: Exception) -> Response:
    return error_page(
        request, 403, "Not for your role", "Your role doesn't include this part of the back office."
    )


@app.exception_handler(BadInput)
async def bad_input(request: Request, exc: BadInput) -> Response:
    return error_page(request, 400, "That link doesn't look right", "Try again from the menu.")


@app.exception_handler(Unavailable)
async def unavailable(request: Request, exc: Unavailable) -> Response:
    log.warning("gateway unavailable: %s", exc)
    return error_page(
        request,
        503,
        "Back in a moment",
        f"The {exc.part} service is unavailable right now. Please retry shortly.",
    )


@app.exception_handler(Exception)
async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path)
    return error_page(request, 500, "Something went wrong", "Sorry, that's our fault. Please try again.")


@app.get(IMAGE_PATH, include_in_schema=False)
async def image(request: Request, name: str) -> Response:
    """Product images, relayed same origin as the shop does: the catalog's image URLs are site paths."""
    return await image_response(gw(request), name)


@app.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
