"""Compression at the gateway (mercato.gateway.compression), through the real Envoy: brotli and gzip on
the routes marked `compressed`, nothing elsewhere, ETags kept, and the service never asked to compress."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import brotli
import httpx
import pytest

from mercato.gateway.compression import BROTLI_FILTER, GZIP_FILTER
from mercato.gateway.envoy import build_config
from mercato.gateway.routes import ROUTES
from mercato.gateway.settings import GatewaySettings
from mercato.topology import Topology
from tests.gateway.processes import Gateway, Upstream, running_gateway

TOPOLOGY = Topology(offset=19500)  # every port below 32768
SETTINGS = GatewaySettings(compress_min_bytes=256)
BIG = {
    "items": [
        {"name": f"Quilted Liner Jacket {i}", "price": {"amount": 8900, "currency": "EUR"}} for i in range(40)
    ]
}


class JsonUpstream(Upstream):
    """Answers a JSON body with a weak or strong ETag, big or small, and tells what it was asked."""

    def _handle(self) -> None:
        small = self.path.endswith("small")
        body = json.dumps(
            {"small": True} if small else {**BIG, "accept_encoding": self.headers.get("accept-encoding")}
        )
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("etag", '"strong"' if "strong" in self.path else 'W/"weak"')
        self.send_header("cache-control", "public, max-age=60")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = _handle


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with running_gateway(
        topology=TOPOLOGY,
        settings=SETTINGS,
        workdir=tmp_path_factory.mktemp("gateway-compression"),
        handler=JsonUpstream,
        ready=lambda gw: gw.get("/mobile/v1/home").status_code == 200,
    ) as gateway:
        yield gateway


def raw_get(gateway: Gateway, path: str, **headers: str) -> tuple[httpx.Response, bytes]:
    """The answer as it crossed the wire (httpx would decode it); uncompressed unless asked (httpx asks)."""
    headers = {"accept-encoding": "identity", **headers}
    with (
        httpx.Client(timeout=5) as client,
        client.stream("GET", gateway.url + path, headers=headers) as response,
    ):
        return response, b"".join(response.iter_raw())


def decoded(body: bytes, encoding: str | None) -> Any:
    if encoding == "br":
        body = brotli.decompress(body)
    elif encoding == "gzip":
        body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
    return json.loads(body)


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_a_mobile_answer_is_compressed_as_the_client_asks(gateway: Gateway, encoding: str) -> None:
    response, body = raw_get(gateway, "/mobile/v1/products?q=x", **{"accept-encoding": encoding})
    assert response.headers["content-encoding"] == encoding
    assert "accept-encoding" in response.headers["vary"].lower()
    plain, plain_body = raw_get(gateway, "/mobile/v1/products?q=x")
    assert "content-encoding" not in plain.headers
    assert decoded(body, encoding) == json.loads(plain_body)
    assert len(body) < len(plain_body) / 3


@pytest.mark.parametrize(
    ("accepted", "chosen"),
    [("br, gzip, deflate", "br"), ("gzip;q=0.5, br", "br"), ("gzip, br", "gzip"), ("br;q=0.1, gzip", "gzip")],
)
def test_the_clients_preference_decides(gateway: Gateway, accepted: str, chosen: str) -> None:
    response, _ = raw_get(gateway, "/mobile/v1/products?q=y", **{"accept-encoding": accepted})
    assert response.headers["content-encoding"] == chosen


def test_the_service_is_never_asked_to_compress(gateway: Gateway) -> None:
    _, body = raw_get(gateway, "/mobile/v1/products?q=z", **{"accept-encoding": "br"})
    assert decoded(body, "br")["accept_encoding"] is None


def test_a_weak_etag_survives_compression_and_a_strong_one_does_not(gateway: Gateway) -> None:
    weak, _ = raw_get(gateway, "/mobile/v1/products?q=weak", **{"accept-encoding": "gzip"})
    assert weak.headers["content-encoding"] == "gzip" and weak.headers["etag"] == 'W/"weak"'
    strong, _ = raw_get(gateway, "/mobile/v1/products?q=strong", **{"accept-encoding": "gzip"})
    assert strong.headers["content-encoding"] == "gzip" and "etag" not in strong.headers
    # which is why the mobile API's ETags are weak from the start


def test_a_cached_answer_is_compressed_too(gateway: Gateway) -> None:
    raw_get(gateway, "/mobile/v1/home", **{"accept-encoding": "br"})
    again, body = raw_get(gateway, "/mobile/v1/home", **{"accept-encoding": "br"})
    assert "age" in again.headers  # from the gateway's cache
    assert again.headers["content-encoding"] == "br" and decoded(body, "br")["items"] == BIG["items"]
    plain, plain_body = raw_get(gateway, "/mobile/v1/home")
    assert "content-encoding" not in plain.headers and json.loads(plain_body)["items"] == BIG["items"]


def test_small_answers_and_other_routes_are_left_as_they_are(gateway: Gateway) -> None:
    small, _ = raw_get(gateway, "/mobile/v1/products/small", **{"accept-encoding": "br"})
    assert "content-encoding" not in small.headers
    web, _ = raw_get(gateway, "/api/v1/products", **{"accept-encoding": "br, gzip"})
    assert "content-encoding" not in web.headers


def test_only_the_compressed_routes_turn_the_compressors_on(tmp_path: Path) -> None:
    config = build_config(TOPOLOGY, SETTINGS)
    listener = config["static_resources"]["listeners"][0]
    hcm = listener["filter_chains"][0]["filters"][0]["typed_config"]
    filters = {f["name"]: f for f in hcm["http_filters"]}
    assert filters[BROTLI_FILTER]["disabled"] and filters[GZIP_FILTER]["disabled"]
    for route in hcm["route_config"]["virtual_hosts"][0]["routes"]:
        on = BROTLI_FILTER in route.get("typed_per_filter_config", {})
        assert on == route["name"].startswith("mobile-api:"), route["name"]
    assert {route.service for route in ROUTES if route.compressed} == {"mobile-api"}
