"""The AsyncAPI document of every event and every subscription, generated from the code.

FastStream's own generator writes it, over a NATS broker that is never connected: one publisher per
event type on its subject, and one subscriber per service subscription. Each message's schema is what
travels on the wire — the envelope (`<Type>Envelope`) whose `payload` is the event model (`<Type>`).
The subscriptions are passed in: the kernel knows no service (`mercato events asyncapi` gathers them).

The document is deterministic (no timestamps, keys sorted), so `docs/asyncapi.json` is committed and a
test keeps it equal to what the code generates.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import json
import warnings
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from faststream.nats import JStream, NatsBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel, Field, create_model

from mercato.contracts.events import EVENT_TYPES, Event
from mercato.platform.broker import Broker, BrokerSettings
from mercato.platform.messaging import Subscription
from mercato.topology import Topology

ASYNCAPI_VERSION = "3.0.0"
TITLE = "Mercato events"

# Message headers the relay sets besides the envelope (FastStream's schema has no message headers:
# added to every message after generation).
_HEADERS: dict[str, Any] = {
    "title": "EventHeaders",
    "type": "object",
    "description": "NATS headers of every event message; the body is the envelope either way.",
    "properties": {
        "event-id": {"type": "string", "format": "uuid", "description": "The envelope's `event_id`."},
        "event-type": {"type": "string", "description": "The envelope's `type`."},
        "Nats-Msg-Id": {
            "type": "string",
            "format": "uuid",
            "description": "The event id again: JetStream drops a duplicate published within an hour.",
        },
        "traceparent": {
            "type": "string",
            "description": "W3C trace context, as in the envelope (absent when the envelope's is null).",
        },
        "correlation_id": {"type": "string", "description": "Set by FastStream; Mercato ignores it."},
    },
    "required": ["event-id", "event-type", "Nats-Msg-Id"],
}


def envelope_model(event: type[Event]) -> type[BaseModel]:
    """The message an event travels as: the envelope of `Event.envelope()`, its payload the event."""
    return create_model(
        f"{event.type}Envelope",
        __doc__=f"The envelope of {event.type}, version {event.version}: `payload` is the event itself.",
        event_id=(UUID, Field(description="Unique per event: consumers deduplicate on it.")),
        type=(Literal[event.type], Field(description="The event type: which model `payload` is.")),
        version=(Literal[event.version], Field(description="The version of the payload's model.")),
        occurred_at=(datetime, Field(description="When it happened (ISO 8601, with its UTC offset).")),
        traceparent=(
            str | None,
            Field(description="W3C trace context: consumers handle the event in its trace."),
        ),
        payload=(event, ...),
    )


def _handler(event_type: str, envelope: type[BaseModel]) -> Any:
    """A stand-in handler: FastStream takes a subscriber's message schema from its handlers'
    parameters, one handler per event type the subscription handles."""

    async def handle(envelope_: Any) -> None:
        return None

    handle.__annotations__ = {"envelope_": envelope, "return": None}
    handle.__name__ = handle.__qualname__ = f"on_{event_type}"
    return handle


def _info_description(names: Broker) -> str:
    ns = names.ns
    return f"""\
Every event Mercato's services publish, and every subscription that consumes them. Generated from the
code (`mercato.contracts.events` and each consuming service's handlers) by
`mercato events asyncapi --output docs/asyncapi.json`; do not edit it by hand.

**The envelope.** The body of every message is one JSON object, the envelope: `event_id` (a UUID;
consumers deduplicate on it), `type` (the event type), `version` (of the payload), `occurred_at`
(ISO 8601), `traceparent` (W3C trace context, or null) and `payload`, the event itself. So each
message's schema is the envelope `<Type>Envelope`, whose `payload` is the event model `<Type>`. Within a
version, fields may be added to a payload; removing or changing one needs a new version.

**Channels.** Described here on NATS JetStream, the default broker: the stream `{names.stream_name}`
holds every event on the subject `{ns}.<aggregate>.<Type>`, and a subscription is the durable pull
consumer `<service>-<aggregate>` filtering `{ns}.<aggregate>.>`. On RabbitMQ the same envelopes go to
the topic exchange `{names.exchange.name}` with that subject as routing key, and a subscription is the
durable queue `{ns}.<service>.<aggregate>` bound to `{ns}.<aggregate>.*`. On Kafka they go to the topic
`{ns}.<aggregate>`, keyed by the aggregate's id, and a subscription is the consumer group
`{ns}.<service>`. The namespace (`{ns}` here) is `MERCATO_BROKER_NAMESPACE`.

**Delivery.** Events of one aggregate are delivered in the order they happened, at least once: every
consumer deduplicates by `event_id`. Events of a subscribed aggregate that a service has no handler for
are acknowledged unread."""


def _subscriber_description(names: Broker, subscription: Subscription) -> str:
    config = names._consumer_config(subscription)
    start = "every stored event" if subscription.start == "all" else "new events only"
    return (
        f"The {subscription.service} service's subscription to {subscription.aggregate} events: the "
        f"durable JetStream pull consumer `{config.durable_name}` on the stream `{names.stream_name}`, "
        f"filtering `{config.filter_subject}` (RabbitMQ: the queue `{names.queue_name(subscription)}`; "
        f"Kafka: the consumer group `{names.ns}.{subscription.service}` on the topic "
        f"`{names.topic(subscription.aggregate)}`). Handles {', '.join(subscription.event_types)}. "
        f"A new subscription starts with {start}."
    )


def asyncapi_document(subscriptions: list[Subscription], *, namespace: str = "mercato") -> dict:
    """The AsyncAPI document (a JSON-able dict) of every event type and of `subscriptions`."""
    url = Topology().broker_url  # the local topology's embedded NATS, whatever the environment says
    names = Broker(BrokerSettings(url=url, namespace=namespace))  # never started: names only
    broker = NatsBroker(
        url,
        description=(
            "NATS JetStream: the embedded server of the local topology; elsewhere MERCATO_BROKER_URL "
            "(nats://, amqp:// or kafka://)."
        ),
    )
    envelopes = {event_type: envelope_model(event) for event_type, event in EVENT_TYPES.items()}
    for event_type, event in EVENT_TYPES.items():
        broker.publisher(
            names.subject(event.aggregate, event_type),
            title=event_type,
            description=inspect.cleandoc(event.__doc__ or ""),
            schema=envelopes[event_type],
        )

    seen: set[str] = set()
    for subscription in subscriptions:
        if subscription.name in seen:
            raise ValueError(f"two subscriptions named {subscription.name}")
        seen.add(subscription.name)
        unknown = [t for t in subscription.event_types if t not in EVENT_TYPES]
        if unknown:
            raise ValueError(f"{subscription.name} handles unknown event types: {', '.join(unknown)}")
        config = names._consumer_config(subscription)
        subscriber = broker.subscriber(
            config.filter_subject,
            stream=JStream(names.stream_name, declare=False),
            durable=config.durable_name,
            pull_sub=True,
            title=subscription.name,
            description=_subscriber_description(names, subscription),
        )
        for event_type in subscription.event_types:
            subscriber(_handler(event_type, envelopes[event_type]))

    with warnings.catch_warnings():
        # FastStream warns, and carries on, when two channels or schemas share a name: a broken document.
        warnings.simplefilter("error", RuntimeWarning)
        document: dict[str, Any] = (
            AsyncAPI(
                broker,
                title=TITLE,
                version=importlib.metadata.version("mercato"),
                description=_info_description(names),
                schema_version=ASYNCAPI_VERSION,
            )
            .to_specification()
            .to_jsonable()
        )

    components = document["components"]
    components["schemas"]["EventHeaders"] = _HEADERS
    for message in components["messages"].values():
        message["headers"] = {"$ref": "#/components/schemas/EventHeaders"}
    return document


def asyncapi_json(subscriptions: list[Subscription], *, namespace: str = "mercato") -> str:
    """The document as committed: indented, keys sorted, ending in a newline."""
    document = asyncapi_document(subscriptions, namespace=namespace)
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
