"""The shopper's market: which country the shop is shown for, so which currency its prices are in and
whether they include tax (catalog's markets, `GET /api/v1/markets`).

The country comes from the `mercato_country` cookie (the header's picker sets it); without one, from
the signed-in shopper's cart when it has a country, else the default market's usual country (DE) —
either kept in the cookie then, so the cart is asked once. Every catalog and search read of a page
passes it, and the pages kept for visitors without a session are kept per country
(`PageCache.key_of`). Choosing another country also moves a signed-in shopper's cart to it (orders'
`PUT /cart/country`), so the cart is priced as the pages are.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from mercato.storefront.gateway import GatewayError, Unavailable
from mercato.storefront.guest import send_cart
from mercato.storefront.session import Shopper
from mercato.storefront.shop import local_path
from mercato.storefront.web import COUNTRY_COOKIE, cookies, remember_country, shopper_of
from mercato.webkit.caller import LoginRequired
from mercato.webkit.countries import country_name
from mercato.webkit.money import SYMBOLS

COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class Market:
    id: str
    name: str
    currency: str
    countries: tuple[str, ...]  # the first is the market's usual one
    prices_include_tax: bool
    default: bool

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Market:
        return cls(
            id=body["id"],
            name=body["name"],
            currency=body["currency"],
            countries=tuple(body["countries"]),
            prices_include_tax=bool(body["prices_include_tax"]),
            default=bool(body.get("default")),
        )

    @property
    def tax_note(self) -> str:
        """What a price shown in this market means."""
        return "incl. VAT" if self.prices_include_tax else "excl. tax"

    @property
    def label(self) -> str:
        symbol = SYMBOLS.get(self.currency, "").strip()
        return f"{self.name} ({self.currency}{f' {symbol}' if symbol and symbol != self.currency else ''})"


@dataclass(frozen=True)
class Shown:
    """The market a page is shown in, and every market (for the picker)."""

    country: str | None  # None: catalog's markets are unknown right now (catalog down): its defaults
    market: Market | None
    markets: tuple[Market, ...] = ()
    learned: bool = False  # the cart was asked: remember its answer (or the default) in the cookie

    @property
    def choices(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """The picker's options: per market, its countries (code, name) by name."""
        return [
            (m.label, sorted(((c, country_name(c)) for c in m.countries), key=lambda pair: pair[1]))
            for m in self.markets
        ]


def cookie_country(request: Request) -> str | None:
    value = (request.cookies.get(COUNTRY_COOKIE) or "").strip().upper()
    return value if COUNTRY.match(value) else None


async def _markets(request: Request) -> tuple[Market, ...]:
    try:
        body = await request.app.state.gateway.markets()
    except GatewayError:  # catalog down: its default market, no picker
        return ()
    return tuple(Market.parse(item) for item in body)


async def _cart_country(shopper: Shopper) -> str | None:
    try:
        response = await shopper.send("orders", "GET", "/api/v1/cart")
    except (LoginRequired, Unavailable):
        return None
    country = response.json().get("country") if response.status_code == 200 else None
    return country if isinstance(country, str) and COUNTRY.match(country) else None


async def resolve(request: Request) -> Shown:
    """The market of this request (every route's dependency: `request.state.shown`, which `render`
    shows in the header's picker and the footer)."""
    markets = await _markets(request)
    by_country = {country: m for m in markets for country in m.countries}
    country, learned = cookie_country(request), False
    if country is None and by_country and cookies.signed_in(request):  # asked once, then kept
        country, learned = await _cart_country(shopper_of(request)), True
    if country not in by_country:
        default = next((m for m in markets if m.default), markets[0] if markets else None)
        country = default.countries[0] if default and default.countries else None
    shown = Shown(
        country=country,
        market=by_country.get(country) if country else None,
        markets=markets,
        learned=learned,
    )
    request.state.shown = shown
    return shown


def shown_of(request: Request) -> Shown:
    """The request's market (resolved by the `resolve` dependency; a page made before it ran — a 404 of
    an unknown path — has none: catalog's default market)."""
    return getattr(request.state, "shown", None) or Shown(country=None, market=None)


router = APIRouter()


def from_our_pages(request: Request) -> bool:
    """The request was made by one of our own pages (the picker), not by a link or form elsewhere: the
    browser says so (Sec-Fetch-Site), or, from an older browser, its Referer is ours."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    referer = urlsplit(request.headers.get("referer", ""))
    return (referer.scheme, referer.netloc) == (request.url.scheme, request.url.netloc)


@router.get("/market")
async def choose(request: Request, country: str = "", next: str = "/") -> Response:
    """The header's picker: show the shop for this country from now on (a display preference, like a
    language: a GET form, so the pages holding the picker need no CSRF token and stay the same for every
    visitor), and price the shopper's cart there (an account's or a guest's) — only when asked from our
    own pages."""
    country, target = country.strip().upper()[:2], local_path(next[:2000])
    response = RedirectResponse(target, status_code=303)
    if not any(country in m.countries for m in shown_of(request).markets):
        return response
    remember_country(request, response, country)
    if from_our_pages(request):
        with contextlib.suppress(LoginRequired, Unavailable):  # the cart follows the shop (a guest's too)
            await send_cart(request, "PUT", "/api/v1/cart/country", json={"country": country})
    return response
