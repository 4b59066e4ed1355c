"""What every route shares: the settings, the templates, rendering a page, the gateway client, the pages
kept for visitors without a session."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from mercato.storefront import pages
from mercato.storefront.gateway import Gateway
from mercato.storefront.pagecache import TOKEN, PageCache
from mercato.storefront.session import Shopper
from mercato.storefront.settings import StorefrontSettings
from mercato.webkit import answers
from mercato.webkit.cookies import SessionCookies, csrf_token

settings = StorefrontSettings()
COUNTRY_COOKIE = "mercato_country"  # the shopper's market (mercato.storefront.market)
COUNTRY_MAX_AGE = 365 * 86400
# SameSite=Lax: a shopper following a link to the shop from elsewhere arrives signed in.
cookies = SessionCookies(
    access="mercato_access",
    refresh="mercato_refresh",
    csrf="mercato_csrf",
    samesite="lax",
    refresh_max_age=settings.refresh_cookie_days * 86400,
    default_access_max_age=900,
)
templates = pages.make_templates()
kept_pages = PageCache(settings.kept_pages, settings.fresh_seconds, COUNTRY_COOKIE)


def gw(request: Request) -> Gateway:
    return request.app.state.gateway


def shopper_of(request: Request) -> Shopper:
    """The request's one caller: a second instance would refresh again with the spent refresh token,
    which ends the session (see `mercato.webkit.caller`)."""
    if not hasattr(request.state, "shopper"):
        request.state.shopper = Shopper(request, gw(request), cookies)
    return request.state.shopper


def render(
    request: Request, template: str, status_code: int = 200, *, shared: bool = False, **context: Any
) -> Response:
    """The page; a `shared` one (the same for everyone without a session: no account data in it) is
    kept for them when it is a plain GET (`mercato.storefront.pagecache`)."""
    context.setdefault("q", "")
    context["base"] = settings.public_url.rstrip("/")
    context["signed_in"] = signed_in = cookies.signed_in(request)
    context["shown"] = shown = getattr(request.state, "shown", None)  # `market.resolve`'s
    freshness = answers.tracked()
    if shared and freshness is not None and not signed_in and request.method == "GET" and status_code == 200:
        context["csrf_token"] = TOKEN
        return kept_pages.keep(request, templates.TemplateResponse(request, template, context), freshness)
    context["csrf_token"] = csrf_token(request)
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    if signed_in:
        response.headers.setdefault("cache-control", "private, no-store")
    if shown is not None and shown.learned and shown.country:  # from the cart: keep it
        remember_country(request, response, shown.country)
    return response


def remember_country(request: Request, response: Response, country: str) -> None:
    """The shop is shown for `country` from now on (`mercato.storefront.market`)."""
    secure = request.url.scheme == "https"
    response.set_cookie(
        COUNTRY_COOKIE,
        country,
        max_age=COUNTRY_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def error_page(request: Request, status_code: int, title: str, message: str) -> Response:
    response = render(request, "error.jinja", status_code, title=title, message=message, status=status_code)
    if status_code == 503:
        response.headers["retry-after"] = "30"
    return response
