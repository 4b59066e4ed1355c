"""Keyword-only factories for customers tests."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid

import httpx
import orjson
import pyotp
from sqlalchemy import select

from mercato.contracts.staff import STAFF_CLAIMS_HEADER
from mercato.platform.ids import new_id
from mercato.platform.messaging import Delivery
from mercato.platform.tables import outbox
from mercato.services.customers.staff.credentials import TOTP_STEP_SECONDS

PASSWORD = "correct horse battery staple"


async def register(
    client: httpx.AsyncClient,
    *,
    email: str | None = None,
    password: str = PASSWORD,
    name: str = "Ada Lovelace",
) -> dict:
    email = email or f"ada-{uuid.uuid4().hex[:8]}@example.com"
    response = await client.post(
        "/api/v1/customers", json={"email": email, "password": password, "name": name}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def sign_in(client: httpx.AsyncClient, *, email: str, password: str = PASSWORD) -> dict:
    response = await client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def as_customer(customer_id: str) -> dict[str, str]:
    """The header the gateway sets after verifying a token (services trust only the gateway)."""
    return {"x-mercato-customer-id": customer_id}


ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "gb",
}


# --- the staff realm ---------------------------------------------------------------------------------

STAFF_PASSWORD = "a long staff passphrase"


def staff_headers(
    *, roles: tuple[str, ...] = ("operations",), mfa: bool | None = True, staff_id: str | None = None
) -> dict[str, str]:
    """What the gateway forwards for a verified staff token: its claims as base64url JSON (`mfa=None`
    leaves the claim out). Services trust it as they trust x-mercato-customer-id."""
    claims: dict[str, object] = {
        "sub": staff_id or new_id("stf"),
        "roles": list(roles),
        "amr": ["pwd", "otp"],
    }
    if mfa is not None:
        claims["mfa"] = mfa
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return {STAFF_CLAIMS_HEADER: encoded}


ADMIN = staff_headers(roles=("admin",))
"""An admin that exists only in forged claims: enough to manage staff in a test."""


async def create_staff(
    client: httpx.AsyncClient,
    *,
    roles: tuple[str, ...] = ("support",),
    email: str | None = None,
    name: str = "Grace Hopper",
    password: str | None = None,
    headers: dict[str, str] = ADMIN,
) -> dict:
    """A staff member as an admin creates one: the answer includes `temporary_password` when generated."""
    body: dict[str, object] = {
        "email": email or f"staff-{uuid.uuid4().hex[:8]}@example.com",
        "name": name,
        "roles": list(roles),
    }
    if password is not None:
        body["password"] = password
    response = await client.post("/admin/v1/staff", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def wait_for_a_fresh_totp_step(margin: float = 6.0) -> None:
    """Sleep into the next 30-second TOTP step if the current one ends within `margin` seconds, so a
    test can count on the previous, current and next step's codes staying valid (the accepted window)."""
    left = TOTP_STEP_SECONDS - time.time() % TOTP_STEP_SECONDS
    if left < margin:
        await asyncio.sleep(left + 0.05)


class Authenticator:
    """The staff member's authenticator app. It hands out the codes of successive time-steps — the
    previous, the current, the next: the window the service accepts — so that a test can complete three
    sign-ins without waiting 30 seconds for each (a code works once). Call
    `wait_for_a_fresh_totp_step()` before the first code."""

    def __init__(self, secret: str) -> None:
        self.totp = pyotp.TOTP(secret)
        self.first_step = int(time.time()) // TOTP_STEP_SECONDS - 1
        self.used = 0
        self.last_code: str | None = None

    def next_code(self) -> str:
        assert self.used < 3, "only three steps are valid at once; a test needing more must wait"
        self.last_code = self.totp.at((self.first_step + self.used) * TOTP_STEP_SECONDS)
        self.used += 1
        return self.last_code

    def wrong_code(self) -> str:
        """A code of no step in the window."""
        valid = {self.totp.at((self.first_step + i) * TOTP_STEP_SECONDS) for i in range(-1, 5)}
        return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in valid)


async def login(client: httpx.AsyncClient, *, email: str, password: str = STAFF_PASSWORD) -> httpx.Response:
    return await client.post("/admin/v1/auth/login", json={"email": email, "password": password})


async def challenge(client: httpx.AsyncClient, *, email: str, password: str = STAFF_PASSWORD) -> dict:
    response = await login(client, email=email, password=password)
    assert response.status_code == 200, response.text
    return response.json()


async def enrolled_staff(
    client: httpx.AsyncClient, *, roles: tuple[str, ...] = ("support",), email: str | None = None
) -> dict:
    """A staff member who has signed in once: chose `STAFF_PASSWORD`, enrolled an authenticator (the
    first of its three codes) and holds tokens and recovery codes. Keys: id, email, roles, phone
    (the `Authenticator`), recovery_codes, tokens."""
    await wait_for_a_fresh_totp_step()
    member = await create_staff(client, roles=roles, email=email)
    started = await challenge(client, email=member["email"], password=member["temporary_password"])
    assert started["status"] == "enrolment_required", started
    phone = Authenticator(started["secret"])
    response = await client.post(
        "/admin/v1/auth/enrol",
        json={"challenge": started["challenge"], "code": phone.next_code(), "new_password": STAFF_PASSWORD},
    )
    assert response.status_code == 200, response.text
    enrolled = response.json()
    return {
        "id": member["id"],
        "email": member["email"],
        "roles": roles,
        "phone": phone,
        "recovery_codes": enrolled["recovery_codes"],
        "tokens": enrolled,
    }


async def verify(client: httpx.AsyncClient, *, challenge_token: str, **factor: str) -> httpx.Response:
    return await client.post("/admin/v1/auth/verify", json={"challenge": challenge_token, **factor})


async def staff_sign_in(client: httpx.AsyncClient, member: dict) -> dict:
    """Password and the authenticator's next code: the tokens."""
    started = await challenge(client, email=member["email"])
    response = await verify(client, challenge_token=started["challenge"], code=member["phone"].next_code())
    assert response.status_code == 200, response.text
    return response.json()


async def deliver_staff_actions(client: httpx.AsyncClient) -> None:
    """Hand every StaffActionRecorded in customers' outbox to its own consumer — what the relay and
    the broker do in production. Earlier ones again too: the kernel's inbox must take each once."""
    async with client.app.state.db.read() as session:
        rows = (
            await session.execute(
                select(outbox.c.envelope)
                .where(outbox.c.event_type == "StaffActionRecorded")
                .order_by(outbox.c.position)
            )
        ).scalars()
        envelopes = list(rows)
    await deliver(client, *envelopes)


async def deliver(client: httpx.AsyncClient, *envelopes: dict) -> None:
    await client.app.state.consumer.on_deliveries([Delivery(orjson.dumps(e)) for e in envelopes])


async def audit(client: httpx.AsyncClient, **params: object) -> list[dict]:
    response = await client.get("/admin/v1/audit", params={"limit": 100, **params}, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()["data"]
