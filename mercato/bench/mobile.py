"""`mercato bench mobile`: what each screen of the app costs a phone — bytes and round trips — through the
mobile API, against what the web API (`/api/v1`) needs to show the same data.

For each screen the benchmark makes the calls a client would make, through the gateway, as a phone does
(`Accept-Encoding: br, gzip`), and counts the bytes of the answers as they crossed the wire (status line,
headers and body, compressed where the gateway compressed; chunk framing left out), plus the bodies
uncompressed. The web API's calls are those a client of `/api/v1` would make for the same screen (home:
the category tree and the first products; checkout: the cart, the account and the address book; choosing
the address: the address, then the shipping methods that apply; choosing a method: the method; removing
a cart line: the DELETE, then the cart again). The gateway compresses only the mobile API's routes
(`mercato.gateway.compression`), so the web API's answers arrive plain; what they would weigh compressed
the same way (brotli, quality 5) is shown beside them.

A shopper is registered for the run (with an address), buys once (so that the history has an order), and
then has two items in the cart.
"""

from __future__ import annotations

import asyncio
import uuid
import zlib
from dataclasses import dataclass, field

import brotli
import httpx
from rich.console import Console
from rich.table import Table

from mercato.topology import Topology

PHONE = {"accept-encoding": "br, gzip", "user-agent": "mercato-bench-mobile"}
PASSWORD = "bench-password-1234"  # noqa: S105 - a throwaway account of the benchmark
ADDRESS = {
    "name": "Bench Shopper",
    "line1": "1 Main St",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}
PRODUCT = "classic-cotton-t-shirt"
CATEGORY = "women"
TYPO = "jaket"


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: dict | None = None


@dataclass(frozen=True)
class Screen:
    name: str
    mobile: tuple[Call, ...]
    web: tuple[Call, ...]
    before: Call | None = None  # what sets the screen up again before each side is measured


@dataclass
class Weight:
    calls: int = 0
    wire: int = 0  # bytes as received
    plain: int = 0  # bodies uncompressed
    compressed: int = 0  # as received, had the bodies come as brotli (quality 5): the web API's "if br"


@dataclass
class ScreenResult:
    screen: Screen
    mobile: Weight = field(default_factory=Weight)
    mobile_gzip: Weight = field(default_factory=Weight)
    web: Weight = field(default_factory=Weight)


def _decoded(body: bytes, encoding: str | None) -> bytes:
    if encoding == "br":
        return brotli.decompress(body)
    if encoding == "gzip":
        return zlib.decompress(body, 16 + zlib.MAX_WBITS)
    return body


def _wire_size(response: httpx.Response, body: bytes) -> int:
    status = len(f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n")
    headers = sum(len(name) + len(value) + 4 for name, value in response.headers.raw)
    return status + headers + 2 + len(body)


async def _weigh(client: httpx.AsyncClient, calls: tuple[Call, ...], headers: dict[str, str]) -> Weight:
    weight = Weight()
    for call in calls:
        request = client.build_request(call.method, call.path, json=call.json, headers=headers)
        response = await client.send(request, stream=True)
        try:
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
        finally:
            await response.aclose()
        if response.status_code >= 400:
            raise RuntimeError(f"{call.method} {call.path}: {response.status_code} {raw[:300]!r}")
        plain = _decoded(raw, response.headers.get("content-encoding"))
        weight.calls += 1
        wire = _wire_size(response, raw)
        weight.wire += wire
        weight.plain += len(plain)
        weight.compressed += wire - len(raw) + (len(brotli.compress(plain, quality=5)) if plain else 0)
    return weight


async def _shopper(client: httpx.AsyncClient) -> dict[str, str]:
    email = f"bench-mobile-{uuid.uuid4().hex[:10]}@example.com"
    for path, body in (
        ("/api/v1/customers", {"email": email, "password": PASSWORD, "name": "Bench Shopper"}),
        ("/api/v1/auth/token", {"email": email, "password": PASSWORD}),
    ):
        while (response := await client.post(path, json=body)).status_code in (429, 503):  # noqa: ASYNC110
            await asyncio.sleep(float(response.headers.get("retry-after", "1")))
        response.raise_for_status()
    auth = {"Authorization": f"Bearer {response.json()['access_token']}"}
    (
        await client.post("/api/v1/me/addresses", json=ADDRESS | {"is_default": True}, headers=auth)
    ).raise_for_status()
    return auth


async def _fill_cart(client: httpx.AsyncClient, auth: dict[str, str], skus: list[str]) -> None:
    for sku in skus:
        (
            await client.post("/api/v1/cart/items", json={"sku": sku, "quantity": 1}, headers=auth)
        ).raise_for_status()


async def _prepare(client: httpx.AsyncClient, topology: Topology) -> tuple[dict[str, str], list[str], str]:
    """A shopper with an order in the history and two items in the cart: (auth, the cart's SKUs, order id)."""
    auth = await _shopper(client)
    product = (await client.get(f"/api/v1/products/{PRODUCT}")).raise_for_status().json()
    skus = [v["sku"] for v in product["variants"] if v["available"] >= 5][:2]
    if len(skus) < 2:
        raise RuntimeError(f"{PRODUCT} has too little stock for the benchmark; restock it or reseed")
    await _fill_cart(client, auth, skus)
    async with httpx.AsyncClient(trust_env=False) as provider:  # the card, tokenised as the app does
        token = await provider.post(
            f"{topology.payment_sandbox_url}/v1/payment_methods",
            headers={"Authorization": "Bearer pk_test_mercato_sandbox"},
            data={"type": "card", "card[number]": "4242424242424242", "card[exp_month]": "12",
                  "card[exp_year]": "2030", "card[cvc]": "123"},
        )  # fmt: skip
    placed = await client.post(
        "/api/v1/checkout",
        json={"shipping_address": ADDRESS, "payment_method": token.raise_for_status().json()["id"]},
        headers=auth | {"Idempotency-Key": uuid.uuid4().hex},
    )
    placed.raise_for_status()
    await _fill_cart(client, auth, skus)
    return auth, skus, placed.json()["id"]


async def _express(client: httpx.AsyncClient, auth: dict[str, str]) -> str:
    """The dearest method for the cart delivered to ADDRESS (the one the "ship by" screen chooses)."""
    (
        await client.put("/api/v1/cart/address", json={"shipping_address": ADDRESS}, headers=auth)
    ).raise_for_status()
    methods = (await client.get("/api/v1/cart/shipping-methods", headers=auth)).raise_for_status().json()
    return max(methods["data"], key=lambda m: m["price"]["amount"])["id"]


def _reads(name: str, mobile: str, *web: str) -> Screen:
    return Screen(name, (Call("GET", mobile),), tuple(Call("GET", path) for path in web))


def screens(skus: list[str], order_id: str, method_id: str) -> list[Screen]:
    removed = skus[1]
    address = {"shipping_address": ADDRESS}
    return [
        _reads("home", "/mobile/v1/home", "/api/v1/categories", "/api/v1/products?limit=8"),
        _reads(
            "listing", f"/mobile/v1/products?category={CATEGORY}", f"/api/v1/products?category={CATEGORY}"
        ),
        _reads("search", f"/mobile/v1/products?q={TYPO}", f"/api/v1/search?q={TYPO}"),
        _reads("product", f"/mobile/v1/products/{PRODUCT}", f"/api/v1/products/{PRODUCT}"),
        _reads("cart", "/mobile/v1/cart", "/api/v1/cart"),
        _reads("checkout", "/mobile/v1/checkout", "/api/v1/cart", "/api/v1/me", "/api/v1/me/addresses"),
        Screen(
            "deliver to",
            (Call("PUT", "/mobile/v1/checkout/address", address),),
            (Call("PUT", "/api/v1/cart/address", address), Call("GET", "/api/v1/cart/shipping-methods")),
        ),
        Screen(
            "ship by",
            (Call("PUT", "/mobile/v1/checkout/shipping-method", {"id": method_id}),),
            (Call("PUT", "/api/v1/cart/shipping-method", {"id": method_id}),),
        ),
        _reads("orders", "/mobile/v1/orders", "/api/v1/orders"),
        _reads("order detail", f"/mobile/v1/orders/{order_id}", f"/api/v1/orders/{order_id}"),
        Screen(
            "remove from cart",
            (Call("DELETE", f"/mobile/v1/cart/items/{removed}"),),
            (Call("DELETE", f"/api/v1/cart/items/{removed}"), Call("GET", "/api/v1/cart")),
            before=Call("POST", "/api/v1/cart/items", {"sku": removed, "quantity": 1}),
        ),
    ]


async def run_mobile_bench(*, topology: Topology, console: Console) -> list[ScreenResult]:
    async with httpx.AsyncClient(base_url=topology.gateway_url, timeout=30, trust_env=False) as client:
        with console.status("Registering a shopper, buying once, filling the cart…"):
            auth, skus, order_id = await _prepare(client, topology)
            method_id = await _express(client, auth)
        results = []
        for screen in screens(skus, order_id, method_id):
            result = ScreenResult(screen)
            for attribute, calls, headers in (
                ("mobile", screen.mobile, PHONE),
                ("mobile_gzip", screen.mobile, PHONE | {"accept-encoding": "gzip"}),
                ("web", screen.web, PHONE),
            ):
                if screen.before:
                    await _weigh(client, (screen.before,), auth)
                setattr(result, attribute, await _weigh(client, calls, headers | auth))
            results.append(result)
    return results


def _kb(n: int) -> str:
    return f"{n / 1000:,.1f}"


def print_results(results: list[ScreenResult], console: Console) -> None:
    table = Table(title="mercato bench mobile: one screen, as a phone receives it (kB; calls)")
    for column in (
        "screen", "calls mobile", "calls web", "mobile br", "mobile gzip", "mobile plain",
        "web as received", "web if br", "less with mobile",
    ):  # fmt: skip
        table.add_column(column, justify="left" if column == "screen" else "right")
    totals = ScreenResult(Screen("all screens", (), ()))
    for result in results:
        for part in ("mobile", "mobile_gzip", "web"):
            total, one = getattr(totals, part), getattr(result, part)
            total.calls, total.wire, total.plain, total.compressed = (
                total.calls + one.calls, total.wire + one.wire, total.plain + one.plain,
                total.compressed + one.compressed,
            )  # fmt: skip
    for result in [*results, totals]:
        saving = 1 - result.mobile.wire / result.web.wire if result.web.wire else 0.0
        table.add_row(
            result.screen.name,
            str(result.mobile.calls),
            str(result.web.calls),
            _kb(result.mobile.wire),
            _kb(result.mobile_gzip.wire),
            _kb(result.mobile.plain),
            _kb(result.web.wire),
            _kb(result.web.compressed),
            f"{saving:.0%}",
            end_section=result is results[-1],
        )
    console.print(table)
    console.print(
        "  mobile br / gzip: headers + body as received with Accept-Encoding br (or gzip); mobile plain: the "
        "bodies uncompressed. web as received: /api/v1 answers (not compressed by the gateway), headers + "
        "body; web if br: the same with their bodies compressed as the mobile API's are. less with mobile: "
        "1 - mobile br / web as received."
    )
