"""The shopper's account pages over HTTP, as a browser without JavaScript would use them: details,
communication choices, the address book, "download my data" and "delete my account"."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.e2e.test_storefront_shopping import PASSWORD, post, register

pytestmark = pytest.mark.e2e
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "postal_code": "10115",
    "city": "Berlin",
    "country": "DE",
}


@pytest.fixture
def account(platform) -> Iterator[tuple[httpx.Client, str]]:
    with httpx.Client(base_url=platform.topology.storefront_url, timeout=15) as client:
        yield client, register(client)


def test_the_account_page_needs_a_session(platform):
    with httpx.Client(base_url=platform.topology.storefront_url, timeout=15) as client:
        response = client.get("/account")
        assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Faccount"


def test_details_and_communication_choices_are_saved(account):
    client, email = account
    page = client.get("/account")
    assert page.status_code == 200 and email in page.text
    assert page.headers["cache-control"] == "no-store"

    saved = post(client, "/account/profile", {"name": "Ada King", "phone": "+49 30 1234567"}, "/account")
    assert saved.status_code == 303 and saved.headers["location"] == "/account?done=profile"
    page = client.get(saved.headers["location"]).text
    assert "Your details are saved." in page and 'value="Ada King"' in page

    bad = post(client, "/account/profile", {"name": "Ada King", "phone": "call me maybe"}, "/account")
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text

    chosen = post(
        client, "/account/opt-ins", {"sms": "on", "newsletter": "on"}, "/account"
    )  # e-mail unticked
    assert chosen.status_code == 303
    page = client.get("/account").text
    assert re.search(r'name="sms"\s+checked', page) and re.search(r'name="newsletter"\s+checked', page)
    assert not re.search(r'name="email"\s+checked', page)


def test_forms_without_the_csrf_token_are_refused(account):
    client, _ = account
    response = client.post("/account/profile", data={"name": "Mallory"})
    assert response.status_code == 403
    assert "Mallory" not in client.get("/account").text


def test_the_address_book_adds_and_removes_and_checkout_offers_it(account):
    client, _ = account
    missing = post(client, "/account/addresses", {**ADDRESS, "postal_code": ""}, "/account")
    assert missing.status_code == 422 and "Please check the address." in missing.text

    added = post(client, "/account/addresses", {**ADDRESS, "is_default": "on"}, "/account")
    assert added.status_code == 303
    page = client.get("/account").text
    assert "12 Analytical Row" in page
    assert "12 Analytical Row" in client.get("/checkout").text or "empty" in client.get("/checkout").text

    address_id = re.search(r'action="/account/addresses/([^/"]+)/delete"', page).group(1)
    removed = post(client, f"/account/addresses/{address_id}/delete", {}, "/account")
    assert removed.status_code == 303
    assert "12 Analytical Row" not in client.get("/account").text


def test_download_my_data_has_the_account_and_every_order(account, platform, gateway):
    client, email = account
    sku = gateway.get("/api/v1/products/classic-cotton-t-shirt").json()["variants"][1]["sku"]
    platform.set_stock(sku, 5)
    assert post(client, "/cart/items", {"sku": sku, "quantity": "1"}, "/cart").status_code == 303
    page = client.get("/checkout").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    placed = post(
        client,
        "/checkout",
        {**ADDRESS, "address_id": "new", "payment_method": platform.card(), "idempotency_key": key},
        "/checkout",
    )
    assert placed.status_code == 303, placed.text
    order_id = placed.headers["location"].rsplit("/", 1)[-1]

    download = client.get("/account/export")
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith('attachment; filename="mercato-my-data-')
    data = json.loads(download.content)
    assert data["account"]["customer"]["email"] == email
    assert [order["id"] for order in data["orders"]] == [order_id]
    assert data["orders"][0]["lines"][0]["sku"] == sku


def test_deleting_the_account_needs_the_password_then_signs_out_for_good(account):
    client, email = account
    wrong = post(client, "/account/delete", {"password": "not my password"}, "/account")
    assert wrong.status_code == 403 and "still open" in wrong.text
    assert client.get("/account").status_code == 200

    gone = post(client, "/account/delete", {"password": PASSWORD}, "/account")
    assert gone.status_code == 200 and "Your account is closed" in gone.text
    cleared = [
        h
        for h in gone.headers.get_list("set-cookie")
        if h.startswith(("mercato_access=", "mercato_refresh="))
    ]
    assert len(cleared) == 2 and all("max-age=0" in h.lower() for h in cleared)
    assert client.get("/account").status_code == 303  # signed out

    again = post(client, "/login", {"email": email, "password": PASSWORD, "next": "/"}, "/login")
    assert again.status_code == 401


@contextmanager
def _second_browser(platform, email: str, password: str = PASSWORD) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.topology.storefront_url, timeout=15) as client:
        yield _signed_in(client, email, password)


def _signed_in(client: httpx.Client, email: str, password: str) -> httpx.Client:
    signed_in = post(client, "/login", {"email": email, "password": password, "next": "/account"}, "/login")
    assert signed_in.status_code == 303, signed_in.text
    assert client.get("/account").status_code == 200
    return client


def test_changing_the_password_keeps_this_browser_signed_in_and_signs_out_the_others(account, platform):
    client, email = account
    new_password = "a brand new passphrase"
    with _second_browser(platform, email) as other:
        wrong = post(
            client,
            "/account/password",
            {"current_password": "nope", "new_password": new_password},
            "/account",
        )
        assert wrong.status_code == 422 and "That isn&#39;t your current password." in wrong.text

        changed = post(
            client,
            "/account/password",
            {"current_password": PASSWORD, "new_password": new_password},
            "/account",
        )
        assert changed.status_code == 303 and changed.headers["location"] == "/account?done=password#security"
        assert "every other device is signed out" in client.get("/account?done=password").text
        assert other.get("/account").status_code == 303  # its refresh token was revoked too
    with _second_browser(platform, email, new_password):
        pass


def test_sign_out_everywhere_ends_this_browser_and_the_others(account, platform):
    client, email = account
    with _second_browser(platform, email) as other:
        out = post(client, "/account/sign-out-everywhere", {}, "/account")
        assert out.status_code == 200 and "signed out everywhere" in out.text
        assert client.get("/account").status_code == 303
        assert other.get("/account").status_code == 303
    with _second_browser(platform, email):  # and signing in again works at once
        pass
