"""End to end through the real Envoy and the real service processes, as a client sees the platform."""

from __future__ import annotations

import concurrent.futures
import time
import uuid

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PASSWORD = "correct horse battery staple"


def _register_and_sign_in(gateway: httpx.Client) -> tuple[dict, dict]:
    email = f"e2e-{uuid.uuid4().hex[:10]}@example.com"
    customer = gateway.post("/api/v1/customers", json={"email": email, "password": PASSWORD, "name": "E2E"})
    assert customer.status_code == 201, customer.text
    tokens = gateway.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert tokens.status_code == 200, tokens.text
    return customer.json(), tokens.json()


def test_a_shopper_journey_through_the_gateway(gateway):
    customer, tokens = _register_and_sign_in(gateway)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}

    me = gateway.get("/api/v1/me", headers=auth)
    assert me.status_code == 200 and me.json()["id"] == customer["id"]

    address = {"name": "E2E", "line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"}
    assert gateway.post("/api/v1/me/addresses", json=address, headers=auth).status_code == 201
    assert gateway.get("/api/v1/me/addresses", headers=auth).json()["data"][0]["city"] == "Berlin"

    categories = gateway.get("/api/v1/categories").json()["data"]
    women = next(c for c in categories if c["slug"] == "women")
    listing = gateway.get("/api/v1/products", params={"category": women["slug"], "limit": 5}).json()
    assert len(listing["data"]) == 5 and listing["next_cursor"]
    product = gateway.get(f"/api/v1/products/{listing['data'][0]['slug']}")
    assert product.status_code == 200
    assert product.json()["variants"][0]["sku"]
    image = gateway.get(product.json()["images"][0]["url"])
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/")

    refreshed = gateway.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    new_auth = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    assert gateway.get("/api/v1/me", headers=new_auth).status_code == 200


def test_catalog_reads_revalidate_with_etags_through_the_gateway(gateway):
    first = gateway.get("/api/v1/products/classic-cotton-t-shirt")
    again = gateway.get(
        "/api/v1/products/classic-cotton-t-shirt", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304


def test_the_gateway_refuses_forged_expired_and_foreign_tokens(gateway, platform):
    real_key = serialization.load_pem_private_key(
        (platform.var_dir / "keys" / "customers-ed25519.pem").read_bytes(), password=None
    )
    jwks = gateway.get("/.well-known/jwks.json").json()
    kid = jwks["keys"][0]["kid"]

    def token(key, **claims):
        now = int(time.time())
        body = {
            "iss": "mercato-customers",
            "aud": "mercato-shop",
            "sub": "cus_01JD0000000000000000000000",
            "iat": now,
            "exp": now + 300,
        } | claims
        return jwt.encode(body, key, algorithm="EdDSA", headers={"kid": kid})

    refusals = {
        "missing": None,
        "garbage": "not.a.jwt",
        "forged": token(Ed25519PrivateKey.generate()),
        "expired": token(real_key, iat=int(time.time()) - 3600, exp=int(time.time()) - 60),
        "wrong audience": token(real_key, aud="mercato-admin"),
        "wrong issuer": token(real_key, iss="someone-else"),
    }
    for case, bearer in refusals.items():
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        response = gateway.get("/api/v1/me", headers=headers)
        assert response.status_code == 401, (case, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), case
        assert response.json()["status"] == 401, case

    # The same claims signed by the real key pass the gateway (and customers says who: nobody).
    assert (
        gateway.get("/api/v1/me", headers={"Authorization": f"Bearer {token(real_key)}"}).status_code == 401
    )
    customer, _ = _register_and_sign_in(gateway)
    valid = token(real_key, sub=customer["id"])
    assert (
        gateway.get("/api/v1/me", headers={"Authorization": f"Bearer {valid}"}).json()["id"] == customer["id"]
    )


def test_a_client_cannot_claim_an_identity_by_header(gateway):
    customer, _ = _register_and_sign_in(gateway)
    spoof = {"x-mercato-customer-id": customer["id"]}
    assert gateway.get("/api/v1/me", headers=spoof).status_code == 401
    other, other_tokens = _register_and_sign_in(gateway)
    as_other = gateway.get(
        "/api/v1/me", headers=spoof | {"Authorization": f"Bearer {other_tokens['access_token']}"}
    )
    assert as_other.json()["id"] == other["id"]  # the token's subject wins over the spoofed header


def test_internal_routes_are_never_reachable_through_the_gateway(gateway, platform):
    sku = gateway.get("/api/v1/products/classic-cotton-t-shirt").json()["variants"][0]["sku"]
    for method, path in [
        ("GET", f"/internal/variants?sku={sku}"),
        ("POST", "/internal/reservations"),
        ("GET", "/api/v1/../internal/variants"),
        ("GET", "/healthz"),
        ("GET", "/docs"),
    ]:
        response = gateway.request(method, path, json={})
        assert response.status_code == 404, (path, response.status_code)
        assert response.headers["content-type"].startswith("application/problem+json")
    # ...while the service itself, on its private port, answers them.
    direct = httpx.get(f"{platform.service_url('catalog')}/internal/variants", params={"sku": sku})
    assert direct.status_code == 200 and direct.json()["variants"][0]["sku"] == sku


def test_no_redirect_names_a_host_the_client_chose(gateway, platform):
    """A forged Host header must never come back in a Location: not from a service behind Envoy (its
    trailing-slash redirect used to answer `http://evil.example.com/api/v1/cart`), nor from either
    front end."""
    _, tokens = _register_and_sign_in(gateway)
    evil = {"Host": "evil.example.com"}
    shopper = evil | {"Authorization": f"Bearer {tokens['access_token']}"}
    for path, headers in [
        ("/api/v1/cart/", shopper),
        ("/api/v1/me/", shopper),
        ("/api/v1/orders/", shopper),
        ("/api/v1/products/", evil),
        ("/api/v1/categories/", evil),
    ]:
        response = gateway.get(path, headers=headers)
        assert "location" not in response.headers, (path, response.headers.get("location"))
        assert response.status_code == 404, (path, response.status_code)
        assert response.headers["content-type"].startswith("application/problem+json")

    for base, path, expected in [
        (platform.topology.storefront_url, "/cart/", "/cart"),
        (platform.topology.storefront_url, "/account/?tab=1", "/account?tab=1"),
        (platform.topology.admin_url, "/login/", "/login"),
    ]:
        response = httpx.get(base + path, headers=evil)
        assert response.is_redirect, (base, path, response.status_code)
        assert response.headers["location"] == expected, (base, path)


def test_a_sign_in_guesser_is_held_off_per_address_and_per_account_while_others_sign_in(platform):
    """Through Envoy and the real customers process: one address gets ten sign-in tries a minute (then
    the gateway's 429), one account five wrong passwords a minute (then customers' 429), each with
    Retry-After; someone else, from elsewhere, signs in all the while."""

    def at(address: str) -> httpx.Client:
        return httpx.Client(
            base_url=platform.gateway, transport=httpx.HTTPTransport(local_address=address), timeout=10
        )

    with httpx.Client(base_url=platform.gateway, timeout=10) as front_end:
        customer, _ = _register_and_sign_in(front_end)
    with at("127.0.0.21") as guesser, at("127.0.0.22") as other_guesser, at("127.0.0.23") as shopper:
        tries = [
            guesser.post("/api/v1/auth/token", json={"email": f"g{i}@example.com", "password": "guess!"})
            for i in range(11)
        ]
        assert [r.status_code for r in tries] == [401] * 10 + [429]
        assert tries[-1].headers["retry-after"] == "6"
        assert tries[-1].headers["content-type"].startswith("application/problem+json")

        on_account = [
            other_guesser.post("/api/v1/auth/token", json={"email": customer["email"], "password": "guess!"})
            for _ in range(6)
        ]
        assert [r.status_code for r in on_account] == [401] * 5 + [429]
        assert 1 <= int(on_account[-1].headers["retry-after"]) <= 60
        assert on_account[-1].json()["type"].endswith("too-many-sign-in-attempts")

        other, _ = _register_and_sign_in(shopper)  # someone else signs in meanwhile
        assert other["id"]


def test_hammering_the_auth_endpoints_is_rate_limited_with_retry_after(gateway):
    def attempt(_):  # a stolen-token replay loop: cheap for us to refuse, so only the limit stops it
        return gateway.post("/api/v1/auth/refresh", json={"refresh_token": "rt_guess"})

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(attempt, range(120)))
    limited = [r for r in responses if r.status_code == 429]
    assert limited, [r.status_code for r in responses]
    assert int(limited[0].headers["retry-after"]) >= 1
    assert limited[0].json()["status"] == 429
    time.sleep(2.5)  # the bucket refills: leave it usable for other tests


def test_each_service_serves_its_openapi_docs_on_its_private_port(platform):
    for name in platform.topology.upstreams:  # the mobile API too
        docs = httpx.get(f"{platform.service_url(name)}/docs")
        spec = httpx.get(f"{platform.service_url(name)}/openapi.json").json()
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        assert spec["paths"], name


def test_200_concurrent_reservations_through_the_real_catalog_process_never_oversell(platform, gateway):
    catalog = platform.service_url("catalog")
    product = gateway.get("/api/v1/products/classic-cotton-t-shirt").json()
    sku = product["variants"][-1]["sku"]
    platform.set_stock(sku, 50)
    with httpx.Client(base_url=catalog, timeout=30) as client:

        def reserve(i):
            return client.post(
                "/internal/reservations",
                json={"key": f"race-{uuid.uuid4().hex}", "lines": [{"sku": sku, "quantity": 1}]},
            )

        with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
            statuses = [r.status_code for r in pool.map(reserve, range(200))]
        assert statuses.count(201) == 50 and statuses.count(409) == 150, statuses
        assert client.get("/internal/variants", params={"sku": sku}).json()["variants"][0]["available"] == 0
