"""The web storefront end to end: its own process, talking to a real platform only through the gateway."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser

import httpx
import pytest

pytestmark = pytest.mark.e2e


def start_storefront(env: dict[str, str], url: str, log_path) -> subprocess.Popen:
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "mercato.storefront"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the storefront exited early:\n{log_path.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise TimeoutError(f"the storefront did not come up:\n{log_path.read_text()[-4000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def storefront(platform) -> Iterator[httpx.Client]:
    """The storefront `mercato up` started, at the URL it printed."""
    assert "storefront (the shop: open this)" in platform.log.read_text()
    with httpx.Client(base_url=platform.topology.storefront_url, timeout=10) as client:
        yield client


class Page(HTMLParser):
    """The bits of a page the tests look at: title, meta, links, JSON-LD, form inputs, product links."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.title = ""
        self.meta: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.json_ld: list[str] = []
        self.inputs: list[dict[str, str]] = []
        self.product_links: list[str] = []
        self.category_links: list[str] = []
        self._in: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "title":
            self._in = "title"
        elif tag == "meta" and "name" in a:
            self.meta[a["name"]] = a.get("content", "")
        elif tag == "link" and "rel" in a:
            self.links[a["rel"]] = a.get("href", "")
        elif tag == "script" and a.get("type") == "application/ld+json":
            self._in = "json_ld"
            self.json_ld.append("")
        elif tag == "input":
            self.inputs.append(a)
        elif tag == "a" and a.get("href", "").startswith("/p/"):
            self.product_links.append(a["href"])
        elif tag == "a" and a.get("href", "").startswith("/c/"):
            self.category_links.append(a["href"])

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in == "json_ld":
            self.json_ld[-1] += data


def get_page(client: httpx.Client, path: str, status: int = 200) -> tuple[httpx.Response, Page]:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("text/html")
    return response, Page(response.text)


def result_count(html: str) -> int:
    match = re.search(r"(\d+) (?:products?|results?)</p>", html)
    assert match, "no result count on the page"
    return int(match.group(1))


def test_home_lists_products_and_categories(storefront, gateway):
    _, page = get_page(storefront, "/")
    assert len(set(page.product_links)) >= 4
    top = [category["slug"] for category in gateway.get("/api/v1/categories").json()["data"]]
    assert {f"/c/{slug}" for slug in top} <= set(page.category_links)
    assert page.links["stylesheet"] == "/static/style.css"
    assert storefront.get("/static/style.css").status_code == 200


def test_category_page_lists_its_products_and_a_size_filter_narrows_them(storefront, gateway):
    listed = gateway.get("/api/v1/products", params={"category": "women-tshirts", "limit": 100}).json()
    response, page = get_page(storefront, "/c/women-tshirts")
    assert "<h1>T-Shirts</h1>" in response.text
    assert {f"/p/{p['slug']}" for p in listed["data"]} <= set(page.product_links)
    # A size that only some products of "women" come in:
    search = gateway.get("/api/v1/search", params={"category": "women", "limit": 1}).json()
    total = search["total"]
    size = next(f for f in search["facets"]["attributes"]["size"] if 0 < f["count"] < total)
    everything = storefront.get("/c/women").text
    narrowed = storefront.get("/c/women", params={"size": size["value"]}).text
    assert result_count(everything) == total
    assert result_count(narrowed) == size["count"] < total
    assert f'value="{size["value"]}" checked' in narrowed


def test_product_page_has_seo_metadata_and_a_variant_picker(platform, storefront, gateway):
    product = gateway.get("/api/v1/products/classic-cotton-t-shirt").json()
    _, page = get_page(storefront, "/p/classic-cotton-t-shirt")
    assert product["name"] in page.title
    assert page.meta["description"]
    assert page.links["canonical"] == f"{platform.topology.storefront_url}/p/classic-cotton-t-shirt"
    (ld,) = [json.loads(text) for text in page.json_ld]
    assert ld["@context"] == "https://schema.org" and ld["@type"] == "Product"
    assert ld["name"] == product["name"]
    offers = {offer["sku"]: offer for offer in ld["offers"]}
    for variant in product["variants"]:
        offer = offers[variant["sku"]]
        amount = variant["price"]["amount"]
        assert offer["price"] == f"{amount // 100}.{amount % 100:02d}"
        assert offer["priceCurrency"] == variant["price"]["currency"]
        assert offer["availability"] == (
            "https://schema.org/InStock" if variant["available"] > 0 else "https://schema.org/OutOfStock"
        )
    radios = [i for i in page.inputs if i.get("type") == "radio"]
    assert {i["value"] for i in radios if i["name"] == "size"} == set(product["attributes"]["size"])
    assert {i["value"] for i in radios if i["name"] == "colour"} == set(product["attributes"]["colour"])
    # The picker works without JavaScript: the form's GET picks the variant on the server.
    sold_out = next(v for v in product["variants"] if v["available"] == 0)
    in_stock = next(v for v in product["variants"] if v["available"] > 0)
    picked = storefront.get("/p/classic-cotton-t-shirt", params=sold_out["attributes"]).text
    assert "Sold out" in picked and sold_out["sku"] in picked
    picked = storefront.get("/p/classic-cotton-t-shirt", params=in_stock["attributes"]).text
    assert "In stock" in picked and in_stock["sku"] in picked


def test_search_tolerates_typos_and_shows_facets(storefront):
    response, page = get_page(storefront, "/search?q=tshrit")
    assert "/p/classic-cotton-t-shirt" in page.product_links
    assert "T-Shirt" in response.text
    names = {i["name"] for i in page.inputs if i.get("type") in ("checkbox", "radio")}
    assert {"size", "colour", "price", "in_stock", "category"} <= names
    narrowed = storefront.get("/search", params={"q": "tshrit", "colour": "Black"}).text
    assert result_count(narrowed) < result_count(response.text)


def test_suggest_answers_for_the_type_ahead(storefront):
    response = storefront.get("/suggest", params={"q": "cla"})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data and all(item["url"].startswith("/p/") and item["text"] for item in data)
    assert storefront.get("/static/suggest.js").status_code == 200


def test_sitemap_lists_every_product_and_robots_points_at_it(storefront, gateway):
    response = storefront.get("/sitemap.xml")
    assert response.status_code == 200 and "xml" in response.headers["content-type"]
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [loc.text for loc in ET.fromstring(response.content).findall("s:url/s:loc", ns)]
    slugs, cursor = [], None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        listing = gateway.get("/api/v1/products", params=params).json()
        slugs += [p["slug"] for p in listing["data"]]
        if not (cursor := listing["next_cursor"]):
            break
    assert {loc.rsplit("/p/", 1)[-1] for loc in locs if "/p/" in loc} == set(slugs)
    assert any(loc.endswith("/c/women-tshirts") for loc in locs)
    robots = storefront.get("/robots.txt")
    assert robots.status_code == 200
    assert re.search(r"^Sitemap: http://\S+/sitemap\.xml$", robots.text, re.M)


def test_unknown_product_is_a_friendly_404(storefront):
    response, page = get_page(storefront, "/p/no-such-product", status=404)
    assert "Page not found" in page.title
    assert "Traceback" not in response.text and "api/v1" not in response.text


def test_images_are_served_same_origin(storefront, gateway):
    image = gateway.get("/api/v1/products/classic-cotton-t-shirt").json()["images"][0]["url"]
    response = storefront.get(image)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/")


def test_a_gateway_that_is_down_gives_a_friendly_503(platform, tmp_path):
    port = platform.topology.storefront_port + 50  # +1 is the admin app
    env = platform.env | {
        "MERCATO_STOREFRONT_PORT": str(port),
        "MERCATO_STOREFRONT_GATEWAY_URL": "http://127.0.0.1:9",  # nothing listens there
    }
    process = start_storefront(env, f"http://127.0.0.1:{port}", tmp_path / "storefront.log")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            for path in ("/", "/p/classic-cotton-t-shirt", "/search?q=shirt"):
                response = client.get(path)
                assert response.status_code == 503, path
                assert response.headers["content-type"].startswith("text/html")
                assert "unavailable right now" in response.text and "Traceback" not in response.text
            assert client.get("/suggest", params={"q": "cla"}).status_code == 503
    finally:
        stop(process)
