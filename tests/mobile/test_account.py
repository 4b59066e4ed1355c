"""The account screens on the real platform: details, address book (used at checkout), communication
opt-ins with push — the device registered at the notifications service and removed again —, the access
token refreshed when it expired, sign out and back in, and deleting the account."""

from __future__ import annotations

import uuid

import httpx
import pytest
from shop.device import Device

from tests.mobile.conftest import find, launch, register, said, started, tap, texts

pytestmark = pytest.mark.e2e


class Phone(Device):
    """A phone as the app sees one: a platform and the push token its provider gave it."""

    def __init__(self, platform: str, token: str):
        super().__init__(platform)
        self.token = token

    async def push_token(self) -> str | None:
        return self.token


def devices_of(platform, customer_id: str) -> list[dict]:
    url = f"{platform.service_url('notifications')}/internal/customers/{customer_id}/communications"
    return httpx.get(url).json()["devices"]


@pytest.fixture
async def phone_app(platform, tmp_path):
    token = f"fcm-{uuid.uuid4().hex}:{uuid.uuid4().hex}"
    app = launch(platform.gateway, tmp_path / "app-data", device=Phone("android", token))
    await started(app)
    yield app
    await app.shop.gateway.close()


async def test_details_addresses_push_sign_out_and_in_then_delete(phone_app, platform):
    shop = phone_app.shop
    email = await register(phone_app)
    account = shop.screen
    customer_id = shop.state.me["id"]
    assert email in texts(account.box)

    account.name.value = "Ada King"
    await tap(find(account.box, "save-details"))
    assert httpx.get(f"{platform.gateway}/api/v1/me", headers=_bearer(shop)).json()["name"] == "Ada King"

    for field, value in (
        ("name", "Ada King"),
        ("line1", "12 St James's Square"),
        ("postal_code", "SW1Y 4JH"),
        ("city", "London"),
        ("country", "GB"),
    ):
        shop.screen.address_fields[field].value = value
    await tap(find(shop.screen.box, "add-address"))
    assert "12 St James's Square" in texts(shop.screen.box), said(shop.screen.message)

    # Push on: the phone is registered for this shopper; off: removed.
    assert devices_of(platform, customer_id) == []
    shop.screen.opt_ins["push"].value = True
    await tap(find(shop.screen.box, "save-opt-ins"))
    assert [(d["platform"], d["token"]) for d in devices_of(platform, customer_id)] == [
        ("android", shop.device.token)
    ]
    shop.screen.opt_ins["push"].value = False
    await tap(find(shop.screen.box, "save-opt-ins"))
    assert devices_of(platform, customer_id) == []

    # The address book at checkout.
    await tap(shop.tab_buttons["cart"])
    shop.screen.cart = {"lines": []}
    from shop.screens.checkout import CheckoutScreen

    await shop.show(CheckoutScreen(shop))
    assert shop.screen.shipping.selection.value.startswith("Ada King, 12 St James's Squa")  # shortened to fit

    # An expired access token is refreshed without asking the shopper to sign in again.
    shop.gateway.secrets.set("access_token", "expired.token.value")
    await tap(shop.tab_buttons["orders"])
    assert type(shop.screen).__name__ == "OrdersScreen", texts(shop.root)
    assert shop.gateway.secrets.get("access_token") != "expired.token.value"

    # Sign out, then in again; push back on registers the phone at sign-in.
    await tap(shop.tab_buttons["account"])
    await tap(find(shop.actions, "sign-out"))
    assert not shop.state.signed_in and shop.screen.title == "Sign in"
    shop.screen.email.value, shop.screen.password.value = email, "correct horse battery staple"
    await tap(shop.screen.submit)
    assert shop.state.signed_in and shop.screen.title == "Account"

    # Delete my account: asked twice, then gone (and signed out).
    await tap(shop.screen.delete)
    assert shop.state.signed_in and "Tap again" in shop.screen.delete.text
    await tap(shop.screen.delete)
    assert not shop.state.signed_in
    assert "deleted" in said(shop.screen.message)
    signed_in = httpx.post(
        f"{platform.gateway}/api/v1/auth/token",
        json={"email": email, "password": "correct horse battery staple"},
    )
    assert signed_in.status_code == 401


async def test_push_opt_in_registers_the_phone_at_sign_in(phone_app, platform):
    shop = phone_app.shop
    email = await register(phone_app)
    customer_id = shop.state.me["id"]
    shop.screen.opt_ins["push"].value = True
    await tap(find(shop.screen.box, "save-opt-ins"))
    await tap(find(shop.actions, "sign-out"))
    assert devices_of(platform, customer_id) == []  # signing out forgets this phone
    shop.screen.email.value, shop.screen.password.value = email, "correct horse battery staple"
    await tap(shop.screen.submit)
    assert [d["token"] for d in devices_of(platform, customer_id)] == [shop.device.token], said(
        shop.screen.message
    )


def _bearer(shop) -> dict[str, str]:
    return {"Authorization": f"Bearer {shop.gateway.secrets.get('access_token')}"}
