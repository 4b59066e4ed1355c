"""What the screens share: the signed-in shopper, the cart count, the device's push registration, and
the calls that change them (sign in/up/out, delete account)."""

from __future__ import annotations

import contextlib

from shop.api import API, CART_TOKEN, MOBILE, Gateway
from shop.device import Device
from shop.errors import ApiError


class State:
    def __init__(self, gateway: Gateway, device: Device):
        self.gateway = gateway
        self.device = device
        self.cart_count = 0
        self.me: dict | None = None
        self.registered_token: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.gateway.signed_in

    def cart_changed(self, cart: dict | None) -> None:
        self.cart_count = (cart or {}).get("item_count", 0)
        if cart is not None:
            self.gateway.cache.write("mobile_v1_cart", cart)

    async def sign_in(self, email: str, password: str) -> None:
        tokens = await self.gateway.write(
            "POST", f"{API}/auth/token", {"email": email, "password": password}, auth=False, remember=False
        )
        self.gateway.keep_tokens(tokens)
        await self.after_sign_in()

    async def register(self, name: str, email: str, password: str) -> None:
        body = {"name": name, "email": email, "password": password}
        await self.gateway.write("POST", f"{API}/customers", body, auth=False, remember=False)
        await self.sign_in(email, password)

    async def after_sign_in(self) -> None:
        self.me, _ = await self.gateway.get(f"{API}/me", auth=True, cache=False)
        if self.gateway.secrets.get(CART_TOKEN):  # what was added as a guest joins the account's cart
            cart, _ = await self.gateway.get(f"{MOBILE}/cart", auth=True)
            self.cart_changed(cart)
        await self.sync_push()

    async def sync_push(self) -> None:
        """With push opted in and a device token, the device is registered for this shopper (idempotent);
        opted out, it is removed."""
        token = await self.device.push_token()
        if not token or not self.device.platform or self.me is None:
            return
        if self.me.get("communication", {}).get("push"):
            await self.gateway.write(
                "POST", f"{MOBILE}/devices", {"platform": self.device.platform, "token": token}
            )
            self.registered_token = token
        elif self.registered_token:
            await self.forget_device()

    async def forget_device(self) -> None:
        if self.registered_token:
            with contextlib.suppress(ApiError):  # gone already
                await self.gateway.write("DELETE", f"{MOBILE}/devices/{self.registered_token}")
            self.registered_token = None

    async def sign_out(self) -> None:
        await self.forget_device()
        self.gateway.forget_tokens()
        self.gateway.secrets.delete(CART_TOKEN)
        self.gateway.cache.clear("mobile_v1_cart")
        self.gateway.cache.clear("mobile_v1_orders")
        self.gateway.cache.delete("pending-checkout")
        self.me, self.cart_count = None, 0

    async def delete_account(self) -> None:
        await self.forget_device()
        await self.gateway.write("DELETE", f"{API}/me")
        self.gateway.forget_tokens()
        self.gateway.cache.clear("mobile_v1_cart")
        self.gateway.cache.clear("mobile_v1_orders")
        self.gateway.cache.delete("pending-checkout")
        self.me, self.cart_count = None, 0
