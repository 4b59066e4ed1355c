"""The storefront's kept pages, end to end (the `mercato up` storefront, the real gateway and catalog): a
visitor without a session gets a kept page with an ETag, revalidates it for a 304, and gets their own
CSRF token in its form; a signed-in shopper's pages are private and never kept, nor served to anyone
else; a price change reaches the kept page (the bound itself is tested on a clock in
tests/webkit/test_answers.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.test_storefront_shopping import CSRF, register

pytestmark = pytest.mark.e2e
PRODUCT = "/p/classic-cotton-t-shirt"


@pytest.fixture
def visitor(platform) -> Iterator[httpx.Client]:
    """A browser without a session (and, at first, without any cookie)."""
    with httpx.Client(base_url=platform.topology.storefront_url, timeout=15) as client:
        yield client


def token_in(page: httpx.Response) -> str:
    match = CSRF.search(page.text)
    assert match, "no CSRF token in the page"
    return match.group(1)


def test_a_visitors_product_page_is_kept_with_their_own_token_and_revalidated(visitor, platform):
    page = visitor.get(PRODUCT)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "private, max-age=1"  # it holds the visitor's token
    assert page.headers["vary"] == "Cookie" and page.headers["etag"]
    assert token_in(page) == visitor.cookies["mercato_csrf"]  # sent as a cookie: the page uses it

    again = visitor.get(PRODUCT, headers={"if-none-match": page.headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and "set-cookie" not in again.headers
    assert visitor.get(PRODUCT).text == page.text

    with httpx.Client(base_url=platform.topology.storefront_url, timeout=15) as other:
        theirs = other.get(PRODUCT)
        assert token_in(theirs) == other.cookies["mercato_csrf"] != token_in(page)
        assert theirs.headers["etag"] != page.headers["etag"]
        mine = other.get(PRODUCT, headers={"if-none-match": page.headers["etag"]})
        assert mine.status_code == 200  # another visitor's ETag is not theirs

    # The kept page's form works: its token is the visitor's own.
    show = visitor.post(
        "/cart/items",
        data={"csrf_token": token_in(page), "product": "classic-cotton-t-shirt", "size": "M", "show": "1"},
    )
    assert show.status_code == 303 and show.headers["location"] == f"{PRODUCT}?size=M"


def test_a_listing_has_no_form_so_it_sets_no_cookie_and_is_public(visitor, platform):
    page = visitor.get("/c/women-tshirts")
    assert page.status_code == 200 and "set-cookie" not in page.headers
    assert page.headers["cache-control"] == "public, max-age=1" and page.headers["vary"] == "Cookie"
    with httpx.Client(base_url=platform.topology.storefront_url, timeout=15) as other:
        revalidated = other.get("/c/women-tshirts", headers={"if-none-match": page.headers["etag"]})
        assert revalidated.status_code == 304
    for path in ("/", "/search?q=shirt"):
        response = visitor.get(path)
        assert (
            response.headers["cache-control"] == "public, max-age=1" and "set-cookie" not in response.headers
        )


def test_a_signed_in_shoppers_pages_are_private_and_never_kept_for_others(visitor, platform):
    anonymous = visitor.get(PRODUCT)
    with httpx.Client(base_url=platform.topology.storefront_url, timeout=15) as shopper:
        register(shopper)
        for path in (PRODUCT, "/c/women-tshirts", "/"):
            mine = shopper.get(path, headers={"if-none-match": anonymous.headers["etag"]})
            assert mine.status_code == 200 and "Log out" in mine.text, path
            assert mine.headers["cache-control"] == "private, no-store" and "etag" not in mine.headers
        assert token_in(shopper.get(PRODUCT)) == shopper.cookies["mercato_csrf"]
    for path in (PRODUCT, "/c/women-tshirts", "/"):
        assert "Log out" not in visitor.get(path).text, path


def _price_text(amount: int) -> str:
    return f'"price": "{amount // 100}.{amount % 100:02d}"'


def test_a_price_change_reaches_the_kept_page(visitor, platform, gateway):
    slug = gateway.get("/api/v1/products", params={"category": "home-candles", "limit": 1}).json()["data"][0][
        "slug"
    ]
    variant = gateway.get(f"/api/v1/products/{slug}").json()["variants"][0]
    old = variant["price"]["amount"]
    page = visitor.get(f"/p/{slug}")
    assert _price_text(old) in page.text  # the JSON-LD offer

    catalog, staff = platform.service_url("catalog"), platform.staff_headers("merchandising")

    def set_price(amount: int) -> None:
        etag = httpx.get(f"{catalog}/admin/v1/products/{slug}", headers=staff).headers["etag"]
        changed = httpx.patch(
            f"{catalog}/admin/v1/products/{slug}/variants/{variant['sku']}",
            json={"price": {"amount": amount, "currency": variant["price"]["currency"]}},
            headers=staff | {"if-match": etag},
        )
        assert changed.status_code == 200, changed.text

    set_price(old + 100)
    try:
        deadline = time.monotonic() + 15  # far past the bound: only a guard against hanging
        while time.monotonic() < deadline:
            revalidated = visitor.get(f"/p/{slug}", headers={"if-none-match": page.headers["etag"]})
            if revalidated.status_code == 200 and _price_text(old + 100) in revalidated.text:
                break
            assert revalidated.status_code == 304 or _price_text(old) in revalidated.text
            time.sleep(0.1)
        else:
            raise AssertionError("the new price never reached the page")
        assert revalidated.headers["etag"] != page.headers["etag"]
    finally:
        set_price(old)
