"""Stock adjustments with reasons, never below what orders hold, each kept in the SKU's history."""

from __future__ import annotations

from tests.catalog.factories import (
    MERCHANDISER,
    MERCHANDISER_ID,
    adjust,
    available,
    create_product,
    idempotency_key,
    outbox_events,
    reserve,
)


async def _post(catalog, sku: str, body: dict, **headers: str):
    return await catalog.post(
        f"/admin/v1/inventory/{sku}/adjustments", json=body, headers=MERCHANDISER | headers
    )


async def test_an_adjustment_changes_stock_is_published_audited_and_kept_with_who_and_why(catalog):
    product = await create_product(catalog, stock=5)
    sku = product["variants"][0]["sku"]

    response = await _post(
        catalog, sku, {"delta": 12, "reason": "received", "note": "Delivery 4711"}, **idempotency_key()
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["on_hand"], body["reserved"], body["available"]) == (17, 0, 17)
    assert body["adjustment"] | {"id": None, "created_at": None} == {
        "id": None,
        "delta": 12,
        "reason": "received",
        "note": "Delivery 4711",
        "staff_id": MERCHANDISER_ID,
        "created_at": None,
    }
    assert await available(catalog, sku) == 17
    [changed] = await outbox_events(catalog, "InventoryChanged")
    assert (changed["payload"]["sku"], changed["payload"]["on_hand"], changed["payload"]["reason"]) == (
        sku,
        17,
        "adjustment",
    )
    audit = (await outbox_events(catalog, "StaffActionRecorded"))[-1]["payload"]
    assert (audit["action"], audit["target_type"], audit["target_id"]) == ("inventory.adjust", "sku", sku)
    assert audit["details"] == {"delta": 12, "reason": "received", "on_hand": 17}

    stock = (await catalog.get(f"/admin/v1/inventory/{sku}", headers=MERCHANDISER)).json()
    assert (stock["on_hand"], stock["available"], stock["product_id"]) == (17, 17, product["id"])
    assert [(h["delta"], h["reason"], h["note"], h["staff_id"]) for h in stock["history"]] == [
        (12, "received", "Delivery 4711", MERCHANDISER_ID),
        (5, "received", "initial stock", MERCHANDISER_ID),
    ]


async def test_stock_cannot_drop_below_what_orders_hold(catalog):
    product = await create_product(catalog, stock=5)
    sku = product["variants"][0]["sku"]
    await reserve(catalog, lines=[(sku, 3)])
    before = await outbox_events(catalog)

    too_far = await adjust(catalog, sku, -3, reason="damaged")

    assert too_far.status_code == 409
    assert too_far.json()["errors"] == {"delta": "would leave fewer units than are reserved"}
    stock = (await catalog.get(f"/admin/v1/inventory/{sku}", headers=MERCHANDISER)).json()
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (5, 3, 2)
    assert len(stock["history"]) == 1
    assert await outbox_events(catalog) == before
    assert (await adjust(catalog, sku, -2, reason="damaged")).json()["available"] == 0


async def test_a_retried_adjustment_counts_once_and_a_key_is_required(catalog):
    sku = (await create_product(catalog, stock=5))["variants"][0]["sku"]
    key = idempotency_key()
    first = await _post(catalog, sku, {"delta": 10, "reason": "received"}, **key)
    retry = await _post(catalog, sku, {"delta": 10, "reason": "received"}, **key)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json() and retry.headers["idempotent-replayed"] == "true"
    assert await available(catalog, sku) == 15
    assert (await _post(catalog, sku, {"delta": 11, "reason": "received"}, **key)).status_code == 409

    keyless = await _post(catalog, sku, {"delta": 10, "reason": "received"})
    assert keyless.status_code == 400 and "Idempotency-Key" in keyless.json()["errors"]
    assert await available(catalog, sku) == 15


async def test_reasons_come_from_a_fixed_set_and_decide_the_direction(catalog):
    sku = (await create_product(catalog, stock=5))["variants"][0]["sku"]
    cases = [
        ({"delta": 1, "reason": "delivery"}, "reason"),
        ({"delta": -1, "reason": "received"}, "delta"),
        ({"delta": 1, "reason": "lost"}, "delta"),
        ({"delta": 0, "reason": "count"}, "delta"),
    ]
    for body, field in cases:
        response = await _post(catalog, sku, body, **idempotency_key())
        assert response.status_code == 422, body
        assert field in response.json()["errors"], body
    assert (await adjust(catalog, sku, -1, reason="correction")).status_code == 201
    assert (await adjust(catalog, sku, 2, reason="count")).status_code == 201
    assert (await adjust(catalog, "NO-SUCH-SKU", 1)).status_code == 404
    assert (await catalog.get("/admin/v1/inventory/NO-SUCH-SKU", headers=MERCHANDISER)).status_code == 404


async def test_the_history_pages_newest_first(catalog):
    sku = (await create_product(catalog, stock=1))["variants"][0]["sku"]
    for delta in (1, 2, 3, 4):
        await adjust(catalog, sku, delta, reason="returned")
    deltas, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await catalog.get(f"/admin/v1/inventory/{sku}", params=params, headers=MERCHANDISER)).json()
        assert page["on_hand"] == 11
        deltas += [h["delta"] for h in page["history"]]
        if not (cursor := page["next_cursor"]):
            break
    assert deltas == [4, 3, 2, 1, 1]
