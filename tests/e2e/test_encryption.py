"""Personal data is encrypted at rest: after a customer with distinctive details registers, fills in
their profile and address book and checks out through the real platform — and notifications has
written to them — none of those details is found in clear in any service's database: the raw SQLite
files (WAL included), or every row of every table on PostgreSQL. Support still finds them by e-mail."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from mercato.topology import Topology
from tests.conftest import BACKENDS
from tests.platforms import Platform, launch, stop_platform

# A platform of its own: the checkout tests buy for customers who never registered, whose confirmations
# notifications retries (with backoff, in order) before parking them, which would hold up this test's.
OFFSETS = {"sqlite": 13000, "postgresql": 13500}  # every port below 32768


@pytest.fixture(scope="module", params=BACKENDS)
def platform(request, tmp_path_factory, databases) -> Iterator[Platform]:
    var_dir = tmp_path_factory.mktemp(f"platform-encryption-{request.param}")
    platform = launch(request.param, var_dir, Topology(offset=OFFSETS[request.param]), databases)
    try:
        yield platform
    finally:
        stop_platform(platform)


def _distinctive() -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    digits = str(int(tag, 16))[:9].rjust(9, "7")
    return {
        "email": f"zephyrine.{tag}@quillfeather.example",
        "name": f"Zephyrine Quillfeather{tag}",
        "phone": f"+4917{digits}",
        "address_name": f"Zephyrine Q. Recipient{tag}",
        "line1": f"{tag} Xylophone Alley",
        "city": f"Quokkaburg{tag}",
        "postal_code": f"QZ{tag[:6]}",
        "address_phone": f"+4930{digits}",
    }


def _in_clear(haystack: bytes, values: dict[str, str]) -> list[str]:
    lowered = haystack.lower()
    return [field for field, value in values.items() if value.lower().encode() in lowered]


def _sqlite_files(var_dir: Path) -> dict[str, bytes]:
    files = {}
    for path in sorted((var_dir / "db").glob("*.db*")):  # the database, its -wal and -shm
        files[path.name] = path.read_bytes()
    return files


async def _postgres_dump(url: str) -> bytes:
    """Every row of every table of one database, as text (what `pg_dump --data-only` would show)."""
    parsed = make_url(url).set(drivername="postgresql")
    connection = await asyncpg.connect(parsed.render_as_string(hide_password=False))
    try:
        tables = await connection.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        dump = []
        for (table,) in tables:
            rows = await connection.fetch(f'SELECT t::text FROM "{table}" t')
            dump.extend(row[0] for row in rows)
        return "\n".join(dump).encode()
    finally:
        await connection.close()


def _wait_for_confirmation(platform, email: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mails = httpx.get(
            f"{platform.topology.mail_sink_web_url}/api/messages", params={"to": email, "limit": 100}
        ).json()["data"]
        if any("is confirmed" in m["subject"] for m in mails):
            return
        time.sleep(0.2)
    raise AssertionError(f"no order confirmation reached {email}")


def test_no_personal_detail_is_stored_in_clear_in_any_database(platform, gateway):
    values = _distinctive()
    password = "correct horse battery staple"
    registered = gateway.post(
        "/api/v1/customers",
        json={"email": values["email"], "password": password, "name": values["name"]},
        headers={"Idempotency-Key": uuid.uuid4().hex},  # its answer is stored too
    )
    assert registered.status_code == 201, registered.text
    signed_in = gateway.post(
        "/api/v1/auth/token", json={"email": values["email"].upper(), "password": password}
    )
    assert signed_in.status_code == 200, signed_in.text  # sign-in finds the account by its blind index
    auth = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    assert gateway.patch("/api/v1/me", json={"phone": values["phone"]}, headers=auth).status_code == 200
    address = {
        "name": values["address_name"],
        "line1": values["line1"],
        "city": values["city"],
        "postal_code": values["postal_code"],
        "country": "DE",
        "phone": values["address_phone"],
    }
    added = gateway.post("/api/v1/me/addresses", json=address, headers=auth)
    assert added.status_code == 201, added.text

    sku = gateway.get("/api/v1/products/classic-cotton-t-shirt").json()["variants"][0]["sku"]
    platform.set_stock(sku, 5)
    assert (
        gateway.post("/api/v1/cart/items", json={"sku": sku, "quantity": 1}, headers=auth).status_code == 200
    )
    checkout = gateway.post(
        "/api/v1/checkout",
        json={"shipping_address": address, "payment_method": platform.card()},
        headers=auth | {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert checkout.status_code == 201, checkout.text
    order = checkout.json()
    assert order["shipping_address"]["line1"] == values["line1"]  # decrypted on the way out
    _wait_for_confirmation(platform, values["email"])  # notifications holds the contact and the message

    me = gateway.get("/api/v1/me", headers=auth).json()
    assert (me["email"], me["name"], me["phone"]) == (values["email"], values["name"], values["phone"])
    export = gateway.get("/api/v1/me/export", headers=auth).json()
    assert export["addresses"][0]["city"] == values["city"]
    found = httpx.get(
        f"{platform.service_url('customers')}/admin/v1/customers",
        params={"q": values["email"]},
        headers=platform.staff_headers("support"),
    )
    assert [c["id"] for c in found.json()["data"]] == [registered.json()["id"]]

    # Every database, as an attacker with a copy of the storage would read it.
    urls = {k: v for k, v in platform.env.items() if k.startswith("MERCATO_") and k.endswith("_DATABASE_URL")}
    if urls:
        dumps = {name: asyncio.run(_postgres_dump(url)) for name, url in urls.items()}
    else:
        dumps = _sqlite_files(platform.var_dir)
        assert {"customers.db", "orders.db", "notifications.db"} <= set(dumps)
    leaks = {name: found for name, dump in dumps.items() if (found := _in_clear(dump, values))}
    assert leaks == {}
