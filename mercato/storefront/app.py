"""The storefront's routes: thin; they ask the gateway, shape the answer (pages.py), and render a template."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from mercato.storefront import (
    account,
    checkout,
    codes,
    giftcards,
    guest,
    market,
    pages,
    product,
    recovery,
    shop,
    tenders,
)
from mercato.storefront.gateway import BadInput, Gateway, NotFound, Unavailable
from mercato.storefront.pagecache import PageCacheMiddleware
from mercato.storefront.web import cookies, error_page, gw, kept_pages, render, settings
from mercato.webkit import csrf
from mercato.webkit.answers import Answers
from mercato.webkit.caller import LoginRequired
from mercato.webkit.cookies import SecurityHeadersMiddleware, SessionMiddleware
from mercato.webkit.images import IMAGE_PATH, image_response
from mercato.webkit.redirects import RelativeRedirectsMiddleware

log = logging.getLogger("mercato.storefront")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,199}$")
PARTS = {
    "catalog": "our product catalogue",
    "search": "search",
    "account": "your account",
    "orders": "your cart and orders",
}
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; "
        f"connect-src 'self' {settings.payment_sandbox_url.rstrip('/')}; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
    ),
}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    kept = Answers(settings.fresh_seconds, settings.kept_answers) if settings.fresh_seconds else None
    app.state.gateway = Gateway(settings.gateway_url, settings.gateway_timeout_seconds, kept)
    try:
        yield
    finally:
        await app.state.gateway.aclose()


# Every page is shown for the shopper's market (`request.state.shown`).
app = FastAPI(
    lifespan=lifespan,
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
    dependencies=[Depends(market.resolve)],
)
app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
app.include_router(shop.router)
app.include_router(product.router)
app.include_router(checkout.router)
app.include_router(codes.router)
app.include_router(giftcards.router)
app.include_router(account.router)
app.include_router(recovery.router)
app.include_router(market.router)


# Outermost last: redirects, security headers, session cookies, then the kept pages (which need the
# visitor's CSRF token from the session middleware).
if settings.fresh_seconds:
    app.add_middleware(PageCacheMiddleware, pages=kept_pages, cookies=cookies)
app.add_middleware(SessionMiddleware, cookies=cookies, secret=settings.session_secret.get_secret_value())
app.add_middleware(SecurityHeadersMiddleware, headers=SECURITY_HEADERS)
app.add_middleware(RelativeRedirectsMiddleware)  # no redirect to a client-chosen Host


@app.middleware("http")
async def guest_cart_cookie(request: Request, call_next: Any) -> Response:
    """The guest cart's cookie, as the request left it (`mercato.storefront.guest`), and the gift cards'
    (`mercato.storefront.tenders`)."""
    response = await call_next(request)
    guest.write_cart_cookie(request, response)
    tenders.write_cookie(request, response)  # the gift cards held at checkout, as the request left them
    return response


# --- errors: friendly pages, never a traceback ----------------------------------------------------
@app.exception_handler(NotFound)
@app.exception_handler(404)
async def not_found(request: Request, exc: Exception) -> Response:
    return error_page(request, 404, "Page not found", "We couldn't find what you were looking for.")


@app.exception_handler(HTTPException)
async def http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 404:
        return await not_found(request, exc)
    return error_page(request, exc.status_code, "Something's not right", "That request didn't work.")


@app.exception_handler(csrf.CsrfFailed)
async def csrf_failed(request: Request, exc: Exception) -> Response:
    return error_page(
        request,
        403,
        "Please try that again",
        "Your form expired or came from elsewhere. Go back, reload and retry.",
    )


@app.exception_handler(LoginRequired)
async def login_required(request: Request, exc: Exception) -> Response:
    page = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target = page if request.method == "GET" else request.headers.get("referer", "")
    return RedirectResponse(f"/login?{urlencode({'next': shop.local_path(target)})}", status_code=303)


@app.exception_handler(BadInput)
async def bad_input(request: Request, exc: BadInput) -> Response:
    return error_page(request, 400, "That link doesn't look right", "Try starting again from the home page.")


@app.exception_handler(Unavailable)
async def unavailable(request: Request, exc: Unavailable) -> Response:
    log.warning("gateway unavailable: %s", exc)
    part = PARTS.get(exc.part, "this part of the shop")
    return error_page(
        request, 503, "Back in a moment", f"Sorry, {part} is unavailable right now. Please try again shortly."
    )


@app.exception_handler(Exception)
async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path)
    return error_page(request, 500, "Something went wrong", "Sorry, that's our fault. Please try again.")


# --- pages -------------------------------------------------------------------------------------
@app.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/")
async def home(request: Request) -> Response:
    country = market.shown_of(request).country
    tree, featured = await asyncio.gather(
        gw(request).categories(), gw(request).products(country=country, limit=settings.featured_count)
    )
    products = [pages.card(item) for item in featured["data"]]
    return render(request, "home.jinja", shared=True, categories=tree, products=products)


def find_category(tree: list[dict[str, Any]], slug: str) -> dict[str, Any]:
    for entry in pages.flatten(tree):
        if entry["slug"] == slug:
            return entry
    raise NotFound("catalog", slug)


@app.get("/c/{slug}")
async def category(request: Request, slug: str) -> Response:
    if not SLUG.match(slug):
        raise NotFound("catalog", slug)
    filters = pages.Filters(request.query_params)
    filters.category = slug
    country = market.shown_of(request).country
    # Both at once: the search is for this slug whatever the tree says (an unknown one is a 404 below).
    tree, result = await asyncio.gather(
        gw(request).categories(),
        gw(request).search(filters.api_params(settings.page_size), country=country),
        return_exceptions=True,
    )
    if isinstance(tree, BaseException):
        raise tree
    entry = find_category(tree, slug)
    node = entry["trail"][-1]
    context: dict[str, Any] = {"category": entry, "children": node.get("children") or [], "filters": filters}
    if isinstance(result, Unavailable):
        # Search is down: the catalog still lists the category, without filters, sorted its own way.
        listing = await gw(request).products(
            country=country, category=slug, limit=settings.page_size, cursor=request.query_params.get("after")
        )
        nxt = listing.get("next_cursor")
        return render(
            request,
            "listing.jinja",
            shared=True,
            **context,
            degraded=True,
            products=[pages.card(item) for item in listing["data"]],
            next_url=f"/c/{slug}?after={nxt}" if nxt else None,
        )
    if isinstance(result, BaseException):
        raise result
    return render(
        request,
        "listing.jinja",
        shared=True,
        **context,
        **listing_context(filters, result, tree, f"/c/{slug}"),
    )


def listing_context(
    filters: pages.Filters, result: dict[str, Any], tree: list[dict[str, Any]], path: str
) -> dict[str, Any]:
    facets = result.get("facets") or {}
    names = {entry["slug"]: entry["name"] for entry in pages.flatten(tree)}
    hits = result.get("data") or []
    currency = result["currency"]
    nxt = result.get("next_cursor")
    return {
        "products": [pages.card(hit) for hit in hits],
        "total": result.get("total"),
        "attribute_facets": {
            name: (facets.get("attributes") or {}).get(name) or [] for name in pages.FILTER_ATTRIBUTES
        },
        "price_facets": pages.price_buckets(facets, currency),
        "category_facets": [
            {"slug": f["path"][-1], "label": pages.category_label(f["path"], names), "count": f["count"]}
            for f in facets.get("categories") or []
            if f.get("path")
        ],
        "sorts": pages.SORTS,
        "next_url": f"{path}?{filters.page_params(cursor=nxt, with_category=path == '/search')}"
        if nxt
        else None,
        "degraded": False,
    }


@app.get("/search")
async def search(request: Request) -> Response:
    filters = pages.Filters(request.query_params)
    result_task = gw(request).search(
        filters.api_params(settings.page_size), country=market.shown_of(request).country
    )
    tree_task = gw(request).categories()
    result, tree = await asyncio.gather(result_task, tree_task, return_exceptions=True)
    if isinstance(result, BaseException):
        raise result
    if isinstance(tree, BaseException):
        tree = []  # category names are a nicety here; slugs will do
    context = listing_context(filters, result, tree, "/search")
    return render(request, "search.jinja", shared=True, filters=filters, q=filters.q, **context)


@app.get("/suggest")
async def suggest(request: Request, q: str = "") -> Response:
    q = q.strip()[:200]
    if not q:
        return JSONResponse({"data": []})
    try:
        data = await gw(request).suggest(q, country=market.shown_of(request).country)
    except (Unavailable, BadInput):
        return JSONResponse({"data": []}, status_code=503)
    items = [{"text": item["text"], "url": f"/p/{item['slug']}"} for item in data if item.get("slug")]
    return JSONResponse({"data": items}, headers={"cache-control": "public, max-age=60"})


@app.get(IMAGE_PATH)
async def image(request: Request, name: str) -> Response:
    """Product images live behind the gateway; the browser fetches them from us, same origin."""
    return await image_response(gw(request), name)


@app.get("/robots.txt")
async def robots() -> Response:
    base = settings.public_url.rstrip("/")
    disallowed = "".join(f"Disallow: {path}\n" for path in ("/search", "/suggest", "/market"))
    body = f"User-agent: *\nAllow: /\n{disallowed}\nSitemap: {base}/sitemap.xml\n"
    return PlainTextResponse(body)


@app.get("/sitemap.xml")
async def sitemap(request: Request) -> Response:
    base = settings.public_url.rstrip("/")
    urls = [f"{base}/"]
    urls += [f"{base}/c/{entry['slug']}" for entry in pages.flatten(await gw(request).categories())]
    cursor: str | None = None
    for _ in range(1000):  # at most 100k products in one sitemap (the protocol's limit is 50k URLs)
        listing = await gw(request).products(country=None, limit=100, cursor=cursor)
        urls += [f"{base}/p/{item['slug']}" for item in listing["data"]]
        cursor = listing.get("next_cursor")
        if not cursor:
            break
    body = "".join(f"<url><loc>{escape(url)}</loc></url>" for url in urls[:50_000])
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>\n'
    )
    return Response(xml, media_type="application/xml")
