"""Search through the real platform: fed by catalog's events over the broker, reached through Envoy."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import httpx


def _wait_until_the_seed_is_indexed(gateway) -> None:
    """After `mercato up`, search first works through the seed's 228 ProductCreated events."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if gateway.get("/api/v1/search").json()["total"] >= 228:
            return
        time.sleep(0.2)
    raise AssertionError("the seeded catalog was not indexed")


def test_a_product_created_through_catalog_is_searchable_through_the_gateway_within_a_second(
    platform, gateway
):
    _wait_until_the_seed_is_indexed(gateway)
    word = f"zebrawood{uuid.uuid4().hex[:6]}"  # a name nothing else in the demo catalog matches
    created = httpx.post(
        f"{platform.service_url('catalog')}/admin/v1/products",
        json={
            "slug": f"{word}-desk-lamp",
            "name": f"{word.title()} Desk Lamp",
            "brand": "Lumen",
            "description": "A warm reading light.",
            "category": "women-tshirts",
            "variants": [
                {"sku": f"LMP-{word[-6:].upper()}", "price": {"amount": 4999, "currency": "EUR"}, "stock": 3}
            ],
        },
        headers=platform.staff_headers("merchandising"),
    )
    assert created.status_code == 201, created.text
    started = time.monotonic()
    hits: list = []
    while time.monotonic() - started < 1.0 and not hits:
        hits = gateway.get("/api/v1/search", params={"q": f"{word} lamp"}).json()["data"]
        if not hits:
            time.sleep(0.05)
    assert [hit["slug"] for hit in hits][:1] == [f"{word}-desk-lamp"], "not searchable within a second"


def test_the_seeded_catalog_is_searchable_with_typos_and_facets(gateway):
    _wait_until_the_seed_is_indexed(gateway)
    body = gateway.get("/api/v1/search", params={"q": "tshrit"}).json()
    assert any("T-Shirt" in hit["name"] for hit in body["data"])
    assert body["facets"]["categories"]
    assert gateway.get("/api/v1/search/suggest", params={"q": "t-sh"}).json()["data"]


def test_a_rebuild_from_catalog_swaps_the_index_while_searches_keep_answering(platform, gateway):
    _wait_until_the_seed_is_indexed(gateway)
    rebuild = subprocess.Popen(
        [sys.executable, "-m", "mercato", "search", "rebuild"],
        env=platform.env | {"COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    answered = 0
    while rebuild.poll() is None:
        assert gateway.get("/api/v1/search", params={"q": "shirt"}).status_code == 200
        answered += 1
        time.sleep(0.02)
    output = rebuild.stdout.read()
    assert rebuild.returncode == 0, output
    assert "index rebuilt" in output and answered
    products = gateway.get("/api/v1/products", params={"limit": 1}).json()
    assert products["data"]
    assert gateway.get("/api/v1/search").json()["total"] >= 228
