"""NATS JetStream, the default broker: what `broker.py` does on it with nats-py directly, on FastStream's
connection — the durable pull consumers (fetch a batch, hand it over, acknowledge it or ask for a later
delivery) and publishing a batch with asynchronous acknowledgements.

Pulled by our own loop, not by a FastStream subscriber: FastStream 0.7's pull loop waits out its whole
timeout to fill a batch (latency) and dies on the plain asyncio.TimeoutError nats-py raises when a
stream is idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import nats.errors
from faststream.nats import ConsumerConfig, DeliverPolicy

from mercato.platform.messaging import Delivery, OnDeliveries, OutboundEvent, PublishStopped, Subscription

log = logging.getLogger("mercato.broker")

ACK_WAIT_SECONDS = 120
# Room for events waiting out a retry (unacknowledged meanwhile) besides a batch in hand.
MAX_ACK_PENDING = 10_000
PUBLISH_TIMEOUT_SECONDS = 5.0  # for a whole batch's acknowledgements


def consumer_config(
    subscription: Subscription, *, filter_subject: str, ack_wait: float = ACK_WAIT_SECONDS
) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=subscription.name,
        filter_subject=filter_subject,
        deliver_policy=DeliverPolicy.ALL if subscription.start == "all" else DeliverPolicy.NEW,
        ack_wait=ack_wait,
        max_ack_pending=MAX_ACK_PENDING,
    )


async def pull_forever(
    pull: Any, on_deliveries: OnDeliveries, *, batch_size: int, linger_seconds: float = 0.0
) -> None:
    """Wait for the next message (then, if the subscription lingers, that much longer); then take,
    without waiting, what else is already there (up to a batch), hand the batch over, and acknowledge
    it — each message, or ask for it again after the delay the consumer set on it (a nak with delay:
    JetStream counts the deliveries). If handling raised, the whole batch comes again a second later."""
    while True:
        try:
            messages = await pull.fetch(batch=1, timeout=5.0)
            pending = messages[-1].metadata.num_pending
            if linger_seconds:
                await asyncio.sleep(linger_seconds)
                pending = (await pull.consumer_info()).num_pending
            if pending > 0:
                with contextlib.suppress(TimeoutError, nats.errors.TimeoutError):
                    messages += await pull.fetch(batch=min(batch_size - 1, pending), timeout=1.0)
        except (TimeoutError, nats.errors.TimeoutError):
            continue  # idle
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # disconnected: nats-py reconnects; unacked messages come back
            log.warning("pulling from NATS failed; retrying", extra={"error": repr(exc)})
            await asyncio.sleep(1.0)
            continue
        deliveries = [
            Delivery(m.data, dict(m.headers or {}), attempt=m.metadata.num_delivered) for m in messages
        ]
        try:
            await on_deliveries(deliveries)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("deliveries not handled; they will come again", extra={"error": repr(exc)})
            for message in messages:
                with contextlib.suppress(Exception):
                    await message.nak(delay=1.0)
            continue
        for message, delivery in zip(messages, deliveries, strict=True):
            with contextlib.suppress(Exception):  # lost acks mean redelivery; the inbox absorbs it
                if delivery.retry_after is None:
                    await message.ack()
                else:
                    await message.nak(delay=delivery.retry_after)


async def publish_batch(js: Any, events: list[OutboundEvent], *, stream: str, subject: Any) -> None:
    """Send every event of the batch, in order on the one connection, then wait for their
    acknowledgements (stored, or dropped as a duplicate of the same `Nats-Msg-Id`); raises
    `PublishStopped` at the first event that was not acknowledged."""
    sent: list[asyncio.Future[Any]] = []
    error: BaseException | None = None
    try:
        for event in events:
            headers = {
                **event.headers,
                "event-id": event.event_id,
                "event-type": event.event_type,
                "Nats-Msg-Id": event.event_id,
            }
            sent.append(
                await js.publish_async(
                    subject(event.aggregate_type, event.event_type),
                    event.body,
                    headers=headers,
                    stream=stream,
                )
            )
    except Exception as exc:  # the connection is gone: what was sent may still be acknowledged
        error = exc
    deadline = asyncio.get_running_loop().time() + PUBLISH_TIMEOUT_SECONDS
    for position, acknowledged in enumerate(sent):
        try:
            await asyncio.wait_for(acknowledged, max(0.0, deadline - asyncio.get_running_loop().time()))
        except Exception as exc:
            for later in sent[position + 1 :]:
                later.cancel()
            raise PublishStopped(position, exc) from exc
    if error is not None:
        raise PublishStopped(len(sent), error) from error
