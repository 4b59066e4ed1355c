"""Stock reservations: what the orders service relies on to never oversell."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from mercato.services.catalog.service import expire_due
from tests.catalog.factories import available, create_product, reserve


async def test_a_reservation_holds_stock_until_committed(catalog):
    sku = (await create_product(catalog, stock=5))["variants"][0]["sku"]

    held = await reserve(catalog, lines=[(sku, 2)])
    assert held.status_code == 201
    assert held.json()["status"] == "active"
    assert await available(catalog, sku) == 3

    committed = await catalog.post(f"/internal/reservations/{held.json()['id']}/commit")
    assert committed.json()["status"] == "committed"
    assert await available(catalog, sku) == 3  # the units left stock for good
    # Retrying the commit (e.g. after a timeout) changes nothing.
    again = await catalog.post(f"/internal/reservations/{held.json()['id']}/commit")
    assert again.status_code == 200
    assert await available(catalog, sku) == 3


async def test_releasing_returns_the_stock_and_a_released_reservation_cannot_be_committed(catalog):
    sku = (await create_product(catalog, stock=5))["variants"][0]["sku"]
    held = (await reserve(catalog, lines=[(sku, 4)])).json()

    released = await catalog.post(f"/internal/reservations/{held['id']}/release")
    assert released.json()["status"] == "released"
    assert await available(catalog, sku) == 5

    late_commit = await catalog.post(f"/internal/reservations/{held['id']}/commit")
    assert late_commit.status_code == 409
    assert late_commit.headers["content-type"] == "application/problem+json"


async def test_the_same_key_returns_the_same_reservation_and_reserves_once(catalog):
    sku = (await create_product(catalog, stock=5))["variants"][0]["sku"]
    first = await reserve(catalog, key="ord_42", lines=[(sku, 2)])
    replay = await reserve(catalog, key="ord_42", lines=[(sku, 2)])
    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json()["id"] == first.json()["id"]
    assert await available(catalog, sku) == 3

    different = await reserve(catalog, key="ord_42", lines=[(sku, 3)])
    assert different.status_code == 409
    assert await available(catalog, sku) == 3


async def test_out_of_stock_reserves_nothing_at_all(catalog):
    product = await create_product(catalog, stock=3)
    plenty, scarce = (v["sku"] for v in product["variants"])

    response = await reserve(catalog, lines=[(plenty, 1), (scarce, 4)])
    assert response.status_code == 409
    problem = response.json()
    assert problem["unavailable"] == [{"sku": scarce, "requested": 4, "available": 3}]
    assert await available(catalog, plenty) == 3  # all or nothing: the first line was not held


async def test_expired_reservations_give_their_stock_back(catalog):
    sku = (await create_product(catalog, stock=2))["variants"][0]["sku"]
    held = (await reserve(catalog, lines=[(sku, 2)], ttl_seconds=60)).json()
    assert await available(catalog, sku) == 0

    async with catalog.app.state.db.unit_of_work() as session:
        assert await expire_due(session, datetime.now(UTC) + timedelta(seconds=61)) == 1

    assert await available(catalog, sku) == 2
    state = await catalog.get(f"/internal/reservations/{held['id']}")
    assert state.json()["status"] == "expired"
    assert (await catalog.post(f"/internal/reservations/{held['id']}/commit")).status_code == 409
    # Releasing an expired reservation is a harmless no-op, so orders can always compensate.
    assert (await catalog.post(f"/internal/reservations/{held['id']}/release")).status_code == 200
    assert await available(catalog, sku) == 2


async def test_a_reservation_takes_stock_from_one_whose_time_ran_out(catalog):
    sku = (await create_product(catalog, stock=1))["variants"][0]["sku"]
    assert (await reserve(catalog, lines=[(sku, 1)], ttl_seconds=1)).status_code == 201
    assert (await reserve(catalog, lines=[(sku, 1)])).status_code == 409
    await asyncio.sleep(1.1)
    assert (await reserve(catalog, lines=[(sku, 1)])).status_code == 201


async def test_bad_reservations_are_clear_4xx(catalog):
    sku = (await create_product(catalog))["variants"][0]["sku"]
    cases = [
        {"key": "k1", "lines": [{"sku": "NO-SUCH-SKU", "quantity": 1}]},
        {"key": "k2", "lines": [{"sku": sku, "quantity": 0}]},
        {"key": "k3", "lines": [{"sku": sku, "quantity": 10**9}]},
        {"key": "k4", "lines": []},
        {"key": "k5", "lines": [{"sku": sku, "quantity": 1}], "ttl_seconds": 10**6},
        {"key": "k6", "lines": [{"sku": sku, "quantity": "two"}]},
        {"lines": [{"sku": sku, "quantity": 1}]},
    ]
    for body in cases:
        response = await catalog.post("/internal/reservations", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"]
    assert (await catalog.post("/internal/reservations/res_unknown/commit")).status_code == 404


async def test_200_concurrent_reservations_for_50_units_never_oversell(catalog):
    sku = (await create_product(catalog, stock=50))["variants"][0]["sku"]

    responses = await asyncio.gather(*(reserve(catalog, lines=[(sku, 1)]) for _ in range(200)))

    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 50
    assert statuses.count(409) == 150
    assert all(r.json()["title"] for r in responses if r.status_code == 409)  # clean problem+json
    assert await available(catalog, sku) == 0


async def test_a_reservation_can_be_ended_by_the_key_it_was_made_with(catalog):
    sku = (await create_product(catalog, stock=3))["variants"][0]["sku"]
    await reserve(catalog, key="ord_by_key", lines=[(sku, 3)])
    assert (await catalog.get("/internal/reservations/ord_by_key")).json()["status"] == "active"
    assert (await catalog.post("/internal/reservations/ord_by_key/release")).json()["status"] == "released"
    assert await available(catalog, sku) == 3
