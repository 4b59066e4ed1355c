"""A service's Prometheus metrics, with prometheus-client, served on its private `/metrics`.

One `Metrics` (one registry) per application, hence per process: every series carries `service`.
What a request pays for is a dict lookup and two lock-guarded additions (`request`); everything that
needs a query — SQL counters, outbox, consumer lag, dead letters — is read when Prometheus scrapes
(`scrape`), never on the request path. docs/observability.md says what each series means.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from mercato.platform.tables import dead_letters

log = logging.getLogger("mercato.metrics")
T = TypeVar("T")

disable_created_metrics()  # no `_created` series beside every counter: half the series, no loss
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# A web shop's latencies: a cached page in a few milliseconds, a checkout in a few hundred, a provider
# timing out at ten seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "unmatched"  # the route label of a request no route matched (a 404, a 413 before routing)
# Any other method a client makes up is counted as "other": labels stay a bounded set, whatever comes in.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
SCRAPE_QUERY_TIMEOUT_SECONDS = 2.0


class _ReadAtScrape(Collector):
    """The families `Metrics.scrape` gathered just before rendering them."""

    def __init__(self) -> None:
        self.families: list[Metric] = []

    def collect(self) -> Iterable[Metric]:
        return self.families


class Metrics:
    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(collector)
        self._scraped = _ReadAtScrape()
        self.registry.register(self._scraped)
        self._requests = Counter(
            "mercato_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["service", "route", "method", "status"],
            registry=self.registry,
        )
        self._durations = Histogram(
            "mercato_http_request_duration_seconds",
            "Time from a request's arrival to its response's end, by route template and method",
            ["service", "route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._provider = Histogram(
            "mercato_provider_request_duration_seconds",
            "Calls to an external provider (stripe, smtp, twilio, apns, fcm), by operation and outcome",
            ["service", "provider", "operation", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._consumed = self.counter(
            "mercato_events_consumed",
            "Events handled by this service's consumers, by handler, event type and outcome",
            ["handler", "event_type", "outcome"],
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def counter(self, name: str, documentation: str, labelnames: list[str]) -> Counter:
        """A counter of this service's own (its first label, `service`, is given: pass the others to
        `labels(self.service, ...)`)."""
        return Counter(name, documentation, ["service", *labelnames], registry=self.registry)

    # --- the hot path ------------------------------------------------------------------------------
    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        if method not in METHODS:
            method = "other"
        children = self._children.get((route, method, status))
        if children is None:
            children = self._children[route, method, status] = (
                self._requests.labels(self.service, route, method, str(status)),
                self._durations.labels(self.service, route, method),
            )
        children[0].inc()
        children[1].observe(seconds)

    def consumed(self, handler: str, event_type: str, outcome: str) -> None:
        self._consumed.labels(self.service, handler, event_type, outcome).inc()

    async def provider_call(
        self,
        provider: str,
        operation: str,
        call: Awaitable[T],
        refused: Callable[[BaseException], bool] = lambda _: False,
    ) -> T:
        """Await `call` to `provider`, timed. Its outcome: `ok`; `refused` when the provider answered
        no (`refused(exc)`: a declined card, a rejected recipient); `failed` otherwise (unreachable,
        timed out, a provider error)."""
        started = time.perf_counter()
        outcome = "failed"
        try:
            result = await call
            outcome = "ok"
            return result
        except Exception as exc:
            outcome = "refused" if refused(exc) else "failed"
            raise
        finally:
            self._provider.labels(self.service, provider, operation, outcome).observe(
                time.perf_counter() - started
            )

    # --- at scrape time ----------------------------------------------------------------------------
    async def scrape(self, state: Any) -> bytes:
        """The text exposition, with what is read now from the app's `state`: its database's statement
        counters, its outbox, its consumers' lag and its dead letters. A reading that fails or takes
        too long is left out (and logged), never the whole scrape."""
        db, relay, consumer = (getattr(state, name, None) for name in ("db", "relay", "consumer"))
        families = self._sql(db) if db is not None else []
        readings = [self._outbox(relay)] if relay is not None else []
        if consumer is not None:
            readings += [self._consumer_lag(consumer), self._dead_letters(consumer)]
        for reading in readings:
            try:
                families += await asyncio.wait_for(reading, SCRAPE_QUERY_TIMEOUT_SECONDS)
            except Exception as exc:
                log.warning("a metric could not be read", extra={"error": repr(exc)})
        self._scraped.families = families
        return generate_latest(self.registry)

    def _sql(self, db: Any) -> list[Metric]:
        statements = CounterMetricFamily(
            "mercato_sql_statements", "SQL statements that read or write data", labels=["service"]
        )
        statements.add_metric([self.service], db.statements)
        transactions = CounterMetricFamily(
            "mercato_sql_transactions", "Database transactions begun", labels=["service"]
        )
        transactions.add_metric([self.service], db.transactions)
        return [statements, transactions]

    async def _outbox(self, relay: Any) -> list[Metric]:
        pending, age = await relay.lag()
        events = GaugeMetricFamily(
            "mercato_outbox_pending_events",
            "Events committed but not yet published to the broker",
            labels=["service"],
        )
        events.add_metric([self.service], pending)
        lag = GaugeMetricFamily(
            "mercato_outbox_lag_seconds", "Age of the oldest unpublished event (0: none)", labels=["service"]
        )
        lag.add_metric([self.service], age)
        return [events, lag]

    async def _consumer_lag(self, consumer: Any) -> list[Metric]:
        """One series per durable subscription, while the consumer is connected: none when it is not
        (the consumer-stopped alert notices that the series went away)."""
        family = GaugeMetricFamily(
            "mercato_consumer_lag_messages",
            "Events on the broker this consumer has not acknowledged yet",
            labels=["service", "consumer"],
        )
        for name, messages in (await consumer.lag()).items():
            family.add_metric([self.service, name], messages)
        return [family]

    async def _dead_letters(self, consumer: Any) -> list[Metric]:
        async with consumer.db.read_one(counted=False) as connection:
            rows = await connection.execute(
                select(dead_letters.c.handler, func.count())
                .where(dead_letters.c.status == "dead")
                .group_by(dead_letters.c.handler)
            )
            counts = dict(rows.all())
        family = GaugeMetricFamily(
            "mercato_dead_letters",
            "Events parked as dead letters (not replayed yet), by handler",
            labels=["service", "handler"],
        )
        for handler in sorted({*(h.name for h in consumer.handlers.handlers), *counts}):
            family.add_metric([self.service, handler], counts.get(handler, 0))
        return [family]
