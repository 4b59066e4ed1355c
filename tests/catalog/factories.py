"""Keyword-only factories for catalog tests."""

from __future__ import annotations

import base64
import csv
import io
import itertools
import json
import uuid
from collections.abc import Sequence

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from mercato.contracts.staff import STAFF_CLAIMS_HEADER
from mercato.platform.ids import new_id
from mercato.platform.tables import outbox
from mercato.services.catalog.models import Category, Product

_counter = itertools.count(1)

MERCHANDISER_ID = new_id("stf")


def staff_headers(
    *, roles: Sequence[str] = ("merchandising",), mfa: bool = True, staff_id: str | None = None
) -> dict[str, str]:
    """The claims header the gateway forwards for a verified staff token (base64url JSON)."""
    claims = {
        "sub": staff_id or MERCHANDISER_ID,
        "roles": list(roles),
        "mfa": mfa,
        "amr": ["pwd", "otp"] if mfa else ["pwd"],
        "aud": "mercato-admin",
    }
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return {STAFF_CLAIMS_HEADER: encoded}


MERCHANDISER = staff_headers()


def idempotency_key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


def product_body(
    *,
    name: str | None = None,
    category: str = "tshirts",
    stock: int = 10,
    price: int = 1999,
    variants: list[dict] | None = None,
    **fields,
) -> dict:
    n = next(_counter)
    name = name or f"Test Shirt {n}"
    return {
        "slug": f"{name.lower().replace(' ', '-')}-{n}",
        "name": name,
        "brand": "Testbrand",
        "description": "A shirt for tests.",
        "category": category,
        "variants": variants
        or [
            {
                "sku": f"TS-{n}-S",
                "attributes": {"size": "S"},
                "price": {"amount": price, "currency": "EUR"},
                "stock": stock,
            },
            {
                "sku": f"TS-{n}-M",
                "attributes": {"size": "M"},
                "price": {"amount": price + 100, "currency": "EUR"},
                "stock": stock,
            },
        ],
        **fields,
    }


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
    **fields,
) -> dict:
    """A product created through the back office (as a merchandiser); returns it as the shop shows it
    when it is active, else as the back office does."""
    body = product_body(name=name, category=category, stock=stock, variants=variants, price=price, **fields)
    response = await client.post("/admin/v1/products", json=body, headers=MERCHANDISER)
    assert response.status_code == 201, response.text
    if response.json()["status"] != "active":
        return response.json()
    shown = await client.get(f"/api/v1/products/{response.json()['id']}")
    assert shown.status_code == 200, shown.text
    return shown.json()


async def adjust(
    client: httpx.AsyncClient, sku: str, delta: int, *, reason: str = "correction"
) -> httpx.Response:
    return await client.post(
        f"/admin/v1/inventory/{sku}/adjustments",
        json={"delta": delta, "reason": reason},
        headers=MERCHANDISER | idempotency_key(),
    )


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
    return response.json()["variants"][0]["available"]


async def outbox_events(client: httpx.AsyncClient, event_type: str | None = None) -> list[dict]:
    """Events staged in the outbox, in order: {type, aggregate_type, aggregate_id, payload}."""
    async with client.app.state.db.read() as session:  # type: ignore[attr-defined]
        rows = (await session.execute(select(outbox).order_by(outbox.c.position))).mappings().all()
    return [
        {
            "type": row["event_type"],
            "aggregate_type": row["aggregate_type"],
            "aggregate_id": row["aggregate_id"],
            "payload": row["envelope"]["payload"],
        }
        for row in rows
        if event_type is None or row["event_type"] == event_type
    ]


async def count_products(client: httpx.AsyncClient) -> int:
    async with client.app.state.db.read() as session:  # type: ignore[attr-defined]
        return await session.scalar(select(func.count()).select_from(Product)) or 0


CSV_COLUMNS = [
    "product_slug",
    "product_name",
    "description",
    "brand",
    "category_slug",
    "status",
    "sku",
    "size",
    "colour",
    "price",
    "currency",
    "stock",
    "active",
    "images",
]


def csv_row(*, slug: str = "import-tee", sku: str = "IMP-TEE-M", **values: str) -> dict[str, str]:
    """One variant row of a product CSV, with plausible defaults for every column."""
    return {
        "product_slug": slug,
        "product_name": "Imported Tee",
        "description": "A tee from a spreadsheet.",
        "brand": "Sheetwear",
        "category_slug": "tshirts",
        "status": "active",
        "sku": sku,
        "size": "M",
        "colour": "Black",
        "price": "19.99",
        "currency": "EUR",
        "stock": "5",
        "active": "true",
        "images": "",
    } | values


def csv_file(rows: list[dict[str, str]], *, columns: Sequence[str] = CSV_COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({column: row.get(column, "") for column in columns} for row in rows)
    return buffer.getvalue().encode()


async def import_csv(
    client: httpx.AsyncClient,
    data: bytes,
    *,
    filename: str = "products.csv",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        "/admin/v1/product-imports",
        files={"file": (filename, data, "text/csv")},
        headers=headers if headers is not None else MERCHANDISER,
    )
