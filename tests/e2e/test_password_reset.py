"""Password reset through the real platform: the gateway, customers, the broker, notifications and the
SMTP sink — the link is read from the e-mail, as a shopper would."""

from __future__ import annotations

import re
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.e2e.test_sessions import (
    NEW_PASSWORD,
    PASSWORD,
    _auth,
    _refused,
    _register,
    _sign_in,
    _until_refused,
)


def wait_for_mail(platform, email: str, subject: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = httpx.get(
            f"{platform.topology.mail_sink_web_url}/api/messages", params={"to": email, "subject": subject}
        ).json()["data"]
        if found:
            return found[0]
        time.sleep(0.25)
    raise AssertionError(f"no e-mail to {email} about {subject!r}")


def reset_link(mail: dict) -> str:
    """The storefront link in the e-mail (its path and query: the storefront's host is configuration)."""
    url = re.search(r"https?://\S+/reset-password\?token=[\w-]+", mail["text"]).group(0)
    return f"{urlsplit(url).path}?{urlsplit(url).query}"


def test_a_forgotten_password_is_reset_from_the_e_mailed_link_and_every_session_ends(platform, gateway):
    email = _register(gateway)
    tokens = _sign_in(gateway, email)
    stranger = f"nobody-{uuid.uuid4().hex[:8]}@example.com"

    for address in (email, stranger):
        asked = gateway.post("/api/v1/auth/password-reset", json={"email": address})
        assert asked.status_code == 202 and asked.content == b""

    mail = wait_for_mail(platform, email, "Reset your")
    token = parse_qs(urlsplit(reset_link(mail)).query)["token"][0]
    confirmed = gateway.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert confirmed.status_code == 204, confirmed.text

    _refused(gateway.get("/api/v1/me", headers=_auth(tokens)))
    _refused(_until_refused(gateway, _auth(tokens)))
    _refused(gateway.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}))
    _refused(gateway.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD}))
    assert (
        gateway.get("/api/v1/cart", headers=_auth(_sign_in(gateway, email, NEW_PASSWORD))).status_code == 200
    )
    reused = gateway.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": PASSWORD}
    )
    assert reused.status_code == 400
    sent = httpx.get(f"{platform.topology.mail_sink_web_url}/api/messages", params={"to": stranger}).json()[
        "data"
    ]
    assert sent == []  # nobody is written to about an address that has no account
