"""Events leave the services through the transactional outbox and reach the broker's durable stream."""

from __future__ import annotations

import asyncio
import time

import httpx
import nats
import orjson

from mercato.bench import metric_value
from mercato.platform.ids import new_id
from tests.e2e.test_checkout import ADDRESS, _sku_with_stock


async def _events_of_type(url: str, event_type: str) -> list[dict]:
    connection = await nats.connect(url)
    try:
        js = connection.jetstream()
        info = await js.stream_info("MERCATO")
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            message = await js.get_msg("MERCATO", seq)
            if message.subject.endswith(event_type):
                found.append(orjson.loads(message.data))
        return found
    finally:
        await connection.close()


def test_a_placed_order_is_published_as_order_placed(platform, gateway):
    auth = platform.token_for(new_id("cus"))
    gateway.post(
        "/api/v1/cart/items", json={"sku": _sku_with_stock(platform, gateway, stock=5)}, headers=auth
    )
    order = gateway.post(
        "/api/v1/checkout",
        json={"shipping_address": ADDRESS, "payment_method": platform.card()},
        headers=auth | {"Idempotency-Key": new_id("key")},
    ).json()

    deadline, placed = time.monotonic() + 10, []
    while time.monotonic() < deadline and not placed:
        try:
            events = asyncio.run(_events_of_type(platform.topology.broker_url, "OrderPlaced"))
        except nats.js.errors.NotFoundError:  # the stream appears with the first event
            events = []
        placed = [e for e in events if e["payload"]["order_id"] == order["id"]]
        time.sleep(0.1)
    metrics = httpx.get(f"{platform.service_url('orders')}/metrics").text
    assert len(placed) == 1, metrics
    event = placed[0]
    assert event["type"] == "OrderPlaced" and event["version"] == 1
    assert event["payload"]["total"] == order["total"]
    metrics = httpx.get(f"{platform.service_url('orders')}/metrics").text
    assert metric_value(metrics, "mercato_outbox_pending_events", service="orders") == 0
