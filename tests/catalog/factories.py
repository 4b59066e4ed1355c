"""Keyword-only factories for catalog tests."""

from __future__ import annotations

import itertools

import httpx
from fastapi import FastAPI

from mercato.platform.ids import new_id
from mercato.services.catalog.models import Category

_counter = itertools.count(1)

CATEGORY_TREE = [
    ("apparel", None),
    ("tops", "apparel"),
    ("tshirts", "tops"),
    ("shoes", "apparel"),
    ("home", None),
]


async def add_categories(app: FastAPI) -> None:
    """A small tree: apparel > tops > tshirts, apparel > shoes, home."""
    ids: dict[str, str] = {}
    async with app.state.db.unit_of_work() as session:
        for position, (slug, parent) in enumerate(CATEGORY_TREE):
            ids[slug] = new_id("cat")
            session.add(
                Category(
                    id=ids[slug],
                    slug=slug,
                    name=slug.title(),
                    position=position,
                    parent_id=ids[parent] if parent else None,
                )
            )
            await session.flush()


async def create_product(
    client: httpx.AsyncClient,
    *,
    name: str | None = None,
    category: str = "tshirts",
    stock: int = 10,
    variants: list[dict] | None = None,
    price: int = 1999,
) -> dict:
    n = next(_counter)
    name = name or f"Test Shirt {n}"
    body = {
        "slug": f"{name.lower().replace(' ', '-')}-{n}",
        "name": name,
        "brand": "Testbrand",
        "description": "A shirt for tests.",
        "category": category,
        "variants": variants
        or [
            {"sku": f"TS-{n}-S", "attributes": {"size": "S"}, "price_amount": price, "stock": stock},
            {"sku": f"TS-{n}-M", "attributes": {"size": "M"}, "price_amount": price + 100, "stock": stock},
        ],
    }
    response = await client.post("/admin/v1/products", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def reserve(
    client: httpx.AsyncClient,
    *,
    lines: list[tuple[str, int]],
    key: str | None = None,
    ttl_seconds: int | None = None,
) -> httpx.Response:
    body: dict = {
        "key": key or f"ord_test_{next(_counter)}",
        "lines": [{"sku": s, "quantity": q} for s, q in lines],
    }
    if ttl_seconds is not None:
        body["ttl_seconds"] = ttl_seconds
    return await client.post("/internal/reservations", json=body)


async def available(client: httpx.AsyncClient, sku: str) -> int:
    response = await client.get("/internal/variants", params={"sku": sku})
    assert response.status_code == 200, response.text
    return response.json()[0]["available"]
