"""The gateway joins the trace: Envoy's OpenTelemetry tracer, on when `MERCATO_GATEWAY_OTLP_ENDPOINT`
names an OTLP/HTTP receiver (a collector, Jaeger, Tempo: `http://collector:4318`, as
`OTEL_EXPORTER_OTLP_ENDPOINT` names it for the services).

Envoy then starts the trace of each public request — or continues the client's `traceparent` — with a
server span named after the route, and passes `traceparent` on to the service, whose spans are its
children. Spans go to `<endpoint>/v1/traces` in batches (Envoy flushes every 5 s, or every 5 spans:
the runtime keys `tracing.opentelemetry.flush_interval_ms` and `min_flush_spans`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

Config = dict[str, Any]

OTLP_CLUSTER = "otlp_collector"
OTEL_TYPE = "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig"


def hcm_tracing(endpoint: str, sampling_percent: float) -> Config:
    """The `tracing` of the public HttpConnectionManager."""
    return {
        "random_sampling": {"value": sampling_percent},
        "spawn_upstream_span": True,  # a client span per call to a service, as the services have
        "provider": {
            "name": "envoy.tracers.opentelemetry",
            "typed_config": {
                "@type": OTEL_TYPE,
                "service_name": "mercato-gateway",
                "http_service": {
                    "http_uri": {
                        "uri": endpoint.rstrip("/") + "/v1/traces",
                        "cluster": OTLP_CLUSTER,
                        "timeout": "2s",
                    }
                },
            },
        },
    }


def collector_cluster(endpoint: str) -> Config:
    """Where Envoy sends its spans: the endpoint's host (a name resolved by DNS, or an address)."""
    url = urlsplit(endpoint)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError(f"the gateway's OTLP endpoint must be an http(s) URL, not {endpoint!r}")
    port = url.port or (443 if url.scheme == "https" else 80)
    cluster: Config = {
        "name": OTLP_CLUSTER,
        "type": "STRICT_DNS",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": OTLP_CLUSTER,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {
                            "endpoint": {
                                "address": {"socket_address": {"address": url.hostname, "port_value": port}}
                            }
                        }
                    ]
                }
            ],
        },
    }
    if url.scheme == "https":
        cluster["transport_socket"] = {
            "name": "envoy.transport_sockets.tls",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
                "sni": url.hostname,
            },
        }
    return cluster
