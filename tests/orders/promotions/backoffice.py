"""The orders service alone, in-process on a fresh real database, as the back office reaches it for
promotions (none of its routes calls another service); and the bodies the tests build on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mercato.services.orders.main import build_app
from mercato.services.orders.settings import OrdersSettings
from tests.orders.factories import staff_headers

MERCHANDISING = staff_headers(roles=("merchandising",))


class Office(httpx.AsyncClient):
    app: FastAPI


@pytest.fixture
async def office(databases, backend, tmp_path) -> AsyncIterator[Office]:
    app = build_app(
        OrdersSettings(
            environment="test",
            database_url=await databases.fresh("orders", backend),
            document_dir=tmp_path / "documents",
            cursor_secret="s",
            order_link_secret="t",
            reconcile_every_seconds=3600,
        )
    )
    async with (
        app.router.lifespan_context(app),
        Office(transport=httpx.ASGITransport(app=app), base_url="http://orders") as client,
    ):
        client.app = app
        yield client


def promotion(**fields: Any) -> dict[str, Any]:
    """A promotion's body: 10% off by code unless `fields` say otherwise."""
    return {
        "name": "Ten off",
        "trigger": "code",
        "action": {"type": "percentage", "percent": "10"},
        "codes": ["SUMMER10"],
    } | fields


async def create(office: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    created = await office.post("/admin/v1/promotions", json=promotion(**fields), headers=MERCHANDISING)
    assert created.status_code == 201, created.text
    return created.json()
