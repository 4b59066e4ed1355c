"""Kept pages: never older than the answers they were made from, each visitor's token put in, a 304 for
the ETag the visitor has — on a clock the test moves."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.responses import HTMLResponse

from mercato.storefront.pagecache import TOKEN, PageCache
from mercato.webkit.answers import Freshness
from mercato.webkit.csrf import VisitorToken, new_csrf_token

SECRET = "test secret"
FRESH = 1.0


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def request(
    path: str = "/p/tee",
    *,
    cookie: str | None = None,
    if_none_match: str | None = None,
    country: str | None = None,
) -> Request:
    headers = [(b"if-none-match", if_none_match.encode())] if if_none_match else []
    if country:
        headers.append((b"cookie", f"mercato_country={country}".encode()))
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": b"",
        "headers": headers,
        "state": {"csrf": VisitorToken(SECRET, cookie)},
    }
    return Request(scope)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def pages(clock) -> PageCache:
    return PageCache(capacity=2, fresh_seconds=FRESH, country_cookie="mercato_country", clock=clock)


def test_a_page_is_kept_until_the_first_of_its_answers_goes_stale(pages, clock):
    pages.keep(request(), HTMLResponse("<p>€19.99</p>"), Freshness(until=clock.now + 0.4))
    clock.now += 0.39
    assert pages.get("/p/tee?") is not None
    clock.now += 0.01
    assert pages.get("/p/tee?") is None


def test_a_page_is_never_kept_longer_than_the_bound(pages, clock):
    pages.keep(request(), HTMLResponse("<p>no answers read</p>"), Freshness())
    clock.now += FRESH
    assert pages.get("/p/tee?") is None


def test_a_page_made_from_an_answer_that_may_not_be_kept_is_not_kept(pages, clock):
    sent = pages.keep(request(), HTMLResponse("<p>private</p>"), Freshness(until=clock.now))
    assert sent.status_code == 200 and sent.body == b"<p>private</p>"
    assert pages.get("/p/tee?") is None


def test_each_visitor_gets_their_own_token_and_etag(pages, clock):
    html = f'<form><input name="csrf_token" value="{TOKEN}"></form>'
    first = pages.keep(request(), HTMLResponse(html), Freshness(until=clock.now + FRESH))
    page = pages.get("/p/tee?")
    mine, theirs = new_csrf_token(SECRET), new_csrf_token(SECRET)
    for_me = page.response(request(cookie=mine))
    assert for_me.body == html.replace(TOKEN, mine).encode()
    assert for_me.headers["cache-control"] == "private, max-age=1"
    for_them = page.response(request(cookie=theirs))
    assert for_them.headers["etag"] not in (for_me.headers["etag"], first.headers["etag"])
    again = page.response(request(cookie=mine, if_none_match=for_me.headers["etag"]))
    assert again.status_code == 304 and again.body == b""
    assert page.response(request(cookie=theirs, if_none_match=for_me.headers["etag"])).status_code == 200


def test_a_page_without_a_form_is_the_same_for_everyone(pages, clock):
    pages.keep(request(), HTMLResponse("<ul>products</ul>"), Freshness(until=clock.now + FRESH))
    page = pages.get("/p/tee?")
    first, second = page.response(request()), page.response(request(cookie=new_csrf_token(SECRET)))
    assert first.body == second.body and first.headers["etag"] == second.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=1"
    fresh_visitor = request()
    page.response(fresh_visitor)
    assert not fresh_visitor.state.csrf.used  # so no cookie is sent


def test_the_least_recently_used_page_goes_first(pages, clock):
    for path in ("/a", "/b"):
        pages.keep(request(path), HTMLResponse(path), Freshness(until=clock.now + FRESH))
    pages.get("/a?")
    pages.keep(request("/c"), HTMLResponse("/c"), Freshness(until=clock.now + FRESH))
    assert pages.get("/b?") is None and pages.get("/a?") is not None and pages.get("/c?") is not None


def test_pages_are_kept_per_market(pages, clock):
    """A page priced in pounds is never sent to a visitor shopping in euros, nor the other way round."""
    pages.keep(request(country="GB"), HTMLResponse("<p>£17.99</p>"), Freshness(until=clock.now + FRESH))
    assert pages.get(pages.key_of(request())) is None
    assert pages.get(pages.key_of(request(country="DE"))) is None
    assert pages.get(pages.key_of(request(country="GB"))).body == "<p>£17.99</p>".encode()
    pages.keep(request(), HTMLResponse("<p>€19.99</p>"), Freshness(until=clock.now + FRESH))
    assert pages.get(pages.key_of(request())).body == "<p>€19.99</p>".encode()
    assert pages.get(pages.key_of(request(country="GB"))).body == "<p>£17.99</p>".encode()
