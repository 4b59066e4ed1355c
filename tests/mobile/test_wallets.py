"""Apple Pay and Google Pay in the app, as Stripe models them: the wallet hands the app a payment (never a
card number), the app turns it into a card token and a card PaymentMethod at the provider, and checkout
takes that like any pm_…. The phones here hand over what the wallet sheets would: Apple Pay's payment
data (any, in test mode) and the token Google Pay's TEST environment makes at the provider (the sandbox
plays it)."""

from __future__ import annotations

import base64

import httpx
import pytest
from shop.device import Device, WalletPayment

from tests.mobile.conftest import find, launch, register, started, tap, texts
from tests.mobile.test_journey import _add_and_open_checkout, _fill_checkout

SANDBOX_KEY = {"Authorization": "Bearer sk_test_mercato_sandbox"}
pytestmark = pytest.mark.e2e


class WalletPhone(Device):
    def __init__(self, platform: str, sandbox: str):
        super().__init__(platform)
        self.wallet = {"ios": "apple_pay", "android": "google_pay"}[platform]
        self.sandbox = sandbox

    async def wallet_payment(self, payment: dict, total: dict) -> WalletPayment:
        assert total["amount"] > 0
        if self.wallet == "apple_pay":
            data = base64.b64encode(b'{"version":"EC_v1","data":"test"}').decode()
            return WalletPayment("apple_pay", payment_data=data, network="visa")
        handed = httpx.post(
            f"{payment['api_base']}/_sandbox/wallets/google_pay",
            headers={"Authorization": f"Bearer {payment['publishable_key']}"},
            data={"network": "visa"},
        )
        return WalletPayment("google_pay", token_json=handed.text)


@pytest.mark.parametrize("phone", ["ios", "android"])
async def test_pay_with_the_phone_wallet(platform, tmp_path, phone):
    app = launch(platform.gateway, tmp_path / "app-data", device=WalletPhone(phone, platform.sandbox))
    await started(app)
    shop = app.shop
    try:
        await register(app)
        await _add_and_open_checkout(shop)
        await tap(shop.screen.checkout)
        await _fill_checkout(shop, "")  # an address; no card typed
        wallet = find(shop.actions, "wallet")
        assert (
            wallet is not None
            and wallet.text == {"ios": "Pay with Apple Pay", "android": "Pay with Google Pay"}[phone]
        )
        await tap(wallet)
        assert type(shop.screen).__name__ == "ConfirmationScreen", texts(shop.root)
        order = shop.screen.order
        intents = httpx.get(
            f"{platform.sandbox}/v1/payment_intents/search",
            headers=SANDBOX_KEY,
            params={"query": f"metadata['order_id']:'{order['id']}'"},
        ).json()["data"]
        method = httpx.get(
            f"{platform.sandbox}/v1/payment_methods/{intents[0]['payment_method']}", headers=SANDBOX_KEY
        )
        assert method.json()["card"]["wallet"]["type"] == shop.device.wallet
    finally:
        await app.shop.gateway.close()


async def test_no_wallet_button_on_the_desktop(app):
    shop = app.shop
    await register(app)
    await _add_and_open_checkout(shop)
    await tap(shop.screen.checkout)
    assert find(shop.actions, "wallet") is None
    assert find(shop.actions, "place-order") is not None
