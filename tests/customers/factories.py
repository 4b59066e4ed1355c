"""Keyword-only factories for customers tests."""

from __future__ import annotations

import uuid

import httpx

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
