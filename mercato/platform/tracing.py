"""W3C trace context (`traceparent`) carried from HTTP requests into events and on into consumers.

A request arrives with a `traceparent` header (Envoy, a client or a test may set one) or gets a new
trace. Every event recorded while handling it carries a child span of that trace in its envelope and
its message headers; a consumer continues the trace from the header, so one trace id follows an order
from the checkout request to the confirmation e-mail — in the JSON logs (`trace_id`) and in any
tracing backend that reads W3C trace context.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

traceparent_var: ContextVar[str | None] = ContextVar("traceparent", default=None)

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def parse(header: str | None) -> tuple[str, str, str] | None:
    """(trace id, parent span id, flags) of a valid version-00 traceparent, else None."""
    match = _TRACEPARENT.match((header or "").strip().lower())
    if not match or match[1] == "0" * 32 or match[2] == "0" * 16:
        return None
    return match[1], match[2], match[3]


def child_of(header: str | None) -> str:
    """A new span in the trace of `header`, or the first span of a new trace."""
    parsed = parse(header)
    trace_id, flags = (parsed[0], parsed[2]) if parsed else (secrets.token_hex(16), "01")
    return f"00-{trace_id}-{secrets.token_hex(8)}-{flags}"


def current() -> str | None:
    return traceparent_var.get()


def trace_id(header: str | None) -> str | None:
    parsed = parse(header)
    return parsed[0] if parsed else None
