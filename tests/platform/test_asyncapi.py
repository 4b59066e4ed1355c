"""The AsyncAPI document: generated from the code, committed, and never stale."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mercato.cli import CONSUMERS, _all_subscriptions, app
from mercato.contracts.events import EVENT_TYPES, OrderPlaced
from mercato.platform.asyncapi import asyncapi_document, asyncapi_json
from mercato.platform.messaging import Subscription

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"
REGENERATE = "run `mercato events asyncapi --output docs/asyncapi.json` and commit the result"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return asyncapi_document(_all_subscriptions())


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert part in node, f"dangling $ref {ref}"
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_the_committed_document_is_what_the_code_generates():
    assert COMMITTED.exists(), f"docs/asyncapi.json is missing: {REGENERATE}"
    assert COMMITTED.read_text(encoding="utf-8") == asyncapi_json(_all_subscriptions()), (
        f"docs/asyncapi.json is stale: {REGENERATE}"
    )


def test_the_command_prints_the_committed_document():
    result = CliRunner().invoke(app, ["events", "asyncapi"])
    assert result.exit_code == 0, result.output
    assert result.stdout == COMMITTED.read_text(encoding="utf-8"), (
        f"docs/asyncapi.json is stale: {REGENERATE}"
    )


def test_the_command_writes_the_document(tmp_path):
    output = tmp_path / "asyncapi.json"
    result = CliRunner().invoke(app, ["events", "asyncapi", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert output.read_text(encoding="utf-8") == asyncapi_json(_all_subscriptions())


def test_the_document_is_deterministic():
    assert asyncapi_json(_all_subscriptions()) == asyncapi_json(_all_subscriptions())


def test_it_is_structurally_an_asyncapi_3_document(document):
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] == "Mercato events"
    assert document["info"]["version"]
    assert "envelope" in document["info"]["description"]
    assert document["defaultContentType"] == "application/json"
    assert document["servers"]
    for server in document["servers"].values():
        assert server["protocol"] == "nats" and server["host"]
    assert document["channels"] and document["operations"]
    assert document["components"]["messages"] and document["components"]["schemas"]
    for name, channel in document["channels"].items():
        assert channel["address"], name
        assert channel["messages"], name
    for name, operation in document["operations"].items():
        assert operation["action"] in ("send", "receive"), name
        assert operation["channel"]["$ref"].startswith("#/channels/"), name
        assert operation["messages"], name
    for name, message in document["components"]["messages"].items():
        assert "payload" in message, name
    for ref in _refs(document):
        _resolve(document, ref)  # every $ref points at something


def _message_of(document: dict[str, Any], channel: dict[str, Any]) -> dict[str, Any]:
    [reference] = channel["messages"].values()
    return _resolve(document, reference["$ref"])


def test_every_event_type_is_published_on_its_subject_as_its_envelope(document):
    schemas = document["components"]["schemas"]
    for event_type, event in EVENT_TYPES.items():
        channel = document["channels"][event_type]
        assert channel["address"] == f"mercato.{event.aggregate}.{event_type}"
        assert channel["description"] == inspect.cleandoc(event.__doc__)
        assert document["operations"][event_type]["action"] == "send"

        envelope = _resolve(document, _message_of(document, channel)["payload"]["$ref"])
        assert envelope["required"] == [
            "event_id",
            "type",
            "version",
            "occurred_at",
            "traceparent",
            "payload",
        ]
        assert envelope["properties"]["type"]["const"] == event_type
        assert envelope["properties"]["version"]["const"] == event.version
        assert envelope["properties"]["event_id"]["format"] == "uuid"

        payload = _resolve(document, envelope["properties"]["payload"]["$ref"])
        assert payload == schemas[event_type]
        required = [name for name, field in event.model_fields.items() if field.is_required()]
        assert payload["required"] == required
        assert set(payload["properties"]) == set(event.model_fields)


def test_order_placed_carries_its_order(document):
    payload = document["components"]["schemas"][OrderPlaced.type]
    assert {"order_id", "total", "lines"} <= set(payload["required"])
    assert payload["properties"]["total"] == {"$ref": "#/components/schemas/Money"}
    assert _resolve(document, payload["properties"]["lines"]["items"]["$ref"])["title"] == "OrderLineSnapshot"


def test_the_envelope_the_code_builds_has_the_documented_fields(document):
    """What `Event.envelope()` produces has exactly the envelope's fields."""
    envelope_schema = document["components"]["schemas"]["OrderPlacedEnvelope"]
    event = OrderPlaced.model_validate(
        {
            "order_id": "ord_1",
            "customer_id": "cus_1",
            "total": {"amount": 1999, "currency": "EUR"},
            "lines": [],
            "placed_at": "2025-01-01T00:00:00Z",
        }
    )
    assert set(event.envelope(traceparent=None)) == set(envelope_schema["properties"])


def test_every_subscription_of_the_consuming_services_appears(document):
    subscriptions = _all_subscriptions()
    assert (
        {s.service for s in subscriptions}
        == set(CONSUMERS)
        == {"catalog", "customers", "notifications", "orders", "payments", "search"}
    )
    for subscription in subscriptions:
        channel = document["channels"][subscription.name]
        assert channel["address"] == f"mercato.{subscription.aggregate}.>"
        for event_type in subscription.event_types:
            assert event_type in channel["description"]
        assert document["operations"][subscription.name]["action"] == "receive"

        payload = _message_of(document, channel)["payload"]
        refs = [ref["$ref"] for ref in payload.get("oneOf", [payload])]
        assert refs == [f"#/components/schemas/{t}Envelope" for t in subscription.event_types]


def test_notifications_and_catalog_subscriptions(document):
    assert {"notifications-order", "catalog-order"} <= set(document["channels"])


def test_the_namespace_prefixes_every_address():
    document = asyncapi_document([Subscription("search", "product", ("ProductCreated",))], namespace="shop")
    assert document["channels"]["ProductCreated"]["address"] == "shop.product.ProductCreated"
    assert document["channels"]["search-product"]["address"] == "shop.product.>"


def test_a_subscription_to_an_unknown_event_is_refused():
    with pytest.raises(ValueError, match="Nonexistent"):
        asyncapi_document([Subscription("search", "product", ("Nonexistent",))])
