"""The gateway's per-address limit on the routes that check a password: a few tries a minute from one
client address, then 429 with Retry-After, while other addresses (and the front ends, which speak for
all their users) go on. Through the real Envoy; clients take distinct loopback source addresses."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mercato.gateway.settings import GatewaySettings
from mercato.topology import Topology
from tests.gateway.processes import Gateway, assert_problem, running_gateway, upstream

TOPOLOGY = Topology(offset=19000)  # ports 27xxx: below the ephemeral range, clear of other tests
SETTINGS = GatewaySettings(
    auth_rate_per_second=100,
    auth_burst=200,
    sign_in_per_address_per_minute=4,
    code_per_address_per_minute=3,
    access_log=False,
)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    with running_gateway(
        topology=TOPOLOGY,
        settings=SETTINGS,
        workdir=tmp_path_factory.mktemp("gateway-sign-in"),
        handler=upstream(jwks_by_path={"/.well-known/jwks.json": {"keys": []}}),
        ready=lambda gw: gw.get("/api/v1/products").status_code == 200,
    ) as gw:
        yield gw


def client_at(gateway: Gateway, address: str) -> httpx.Client:
    """A client whose connections come from `address` (any 127.x.y.z is this machine)."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=gateway.url, transport=transport, timeout=5)


def test_one_address_gets_a_few_sign_in_tries_a_minute_then_429_with_retry_after(gateway: Gateway) -> None:
    with client_at(gateway, "127.0.0.2") as guesser, client_at(gateway, "127.0.0.3") as shopper:
        tries = [
            guesser.post("/api/v1/auth/token", json={"email": "v@example.com", "password": f"guess {i}"})
            for i in range(6)
        ]
        assert [r.status_code for r in tries] == [200, 200, 200, 200, 429, 429]
        assert_problem(tries[-1], 429)
        assert tries[-1].headers["retry-after"] == "15"  # one try comes back every 60/4 seconds
        # x-forwarded-for is not the address: a spoofed one does not buy another bucket.
        spoofed = guesser.post("/api/v1/auth/token", json={}, headers={"x-forwarded-for": "203.0.113.9"})
        assert spoofed.status_code == 429
        # Registration hashes a password too: its own bucket per address, just as small.
        registrations = [guesser.post("/api/v1/customers", json={}).status_code for _ in range(5)]
        assert registrations == [200, 200, 200, 200, 429]
        # Refreshing a token is not a password check: the ordinary auth class, not this bucket.
        assert guesser.post("/api/v1/auth/refresh", json={}).status_code == 200

        # Someone else, from another address, signs in while the guesser is held off.
        assert shopper.post("/api/v1/auth/token", json={}).status_code == 200


def test_the_front_ends_address_is_not_limited_per_address(gateway: Gateway) -> None:
    with client_at(gateway, "127.0.0.1") as storefront:  # in SETTINGS.sign_in_front_ends
        statuses = [storefront.post("/api/v1/auth/token", json={}).status_code for _ in range(12)]
    assert statuses == [200] * 12


@pytest.mark.parametrize(
    "path", ["/api/v1/auth/password-reset", "/api/v1/auth/password-reset/confirm", "/api/v1/me/password"]
)
def test_password_reset_and_change_are_limited_per_address_like_sign_in(gateway: Gateway, path: str) -> None:
    """A reset request mails someone (a flood would mail-bomb them); a confirmation or a change sets a
    password. (The change needs a shopper token: the stand-in's JWKS has no key, so it is a 401 — after
    the per-address limit, which runs first.)"""
    address = {"/api/v1/auth/password-reset": "127.0.0.4", "/api/v1/auth/password-reset/confirm": "127.0.0.5"}
    with client_at(gateway, address.get(path, "127.0.0.6")) as client:
        statuses = [client.post(path, json={}).status_code for _ in range(5)]
    allowed = 401 if path == "/api/v1/me/password" else 200
    assert statuses == [allowed] * 4 + [429]


def test_guessing_gift_card_codes_is_throttled_per_address(gateway: Gateway) -> None:
    """A gift card's balance by its code: a few tries a minute from one address, then 429 — its own
    buckets, so a guesser neither spends nor is spared by the sign-in ones; other addresses go on."""
    with client_at(gateway, "127.0.0.6") as guesser, client_at(gateway, "127.0.0.7") as shopper:
        tries = [guesser.get(f"/api/v1/gift-cards/AAAA-BBBB-CCCC-{i:04d}") for i in range(5)]
        assert [r.status_code for r in tries] == [200, 200, 200, 429, 429]
        assert_problem(tries[-1], 429)
        assert tries[-1].headers["retry-after"] == "20"  # one try back every 60/3 seconds
        assert guesser.post("/api/v1/auth/token", json={}).status_code == 200  # sign-in's bucket is its own
        assert shopper.get("/api/v1/gift-cards/AAAA-BBBB-CCCC-DDDD").status_code == 200
    with client_at(gateway, "127.0.0.1") as storefront:  # the front end asks for all its shoppers
        assert [storefront.get("/api/v1/gift-cards/X").status_code for _ in range(6)] == [200] * 6
