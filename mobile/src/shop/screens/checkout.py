"""Checkout: an address (from the address book or a new one), the card tokenised by the app directly at
the payment provider (its publishable key and URL come from GET /mobile/v1/checkout; the number never
goes to Mercato), or the phone's wallet; then one POST /mobile/v1/checkout with an Idempotency-Key.

An attempt that got no answer stays pending (on disk, with its key and its payment method): the next tap
sends exactly it again, so a lost answer never buys twice."""

from __future__ import annotations

import toga

from shop import config, theme
from shop.api import MOBILE
from shop.errors import ApiError
from shop.screens.base import Screen, heading, money

NEW = "A new address"
PENDING = "pending-checkout"
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postal_code", "region", "country", "phone")
WALLETS = {"ios": ("apple_pay", "Pay with Apple Pay"), "android": ("google_pay", "Pay with Google Pay")}


def label(address: dict) -> str:
    return ", ".join(str(address[k]) for k in ("name", "line1", "postal_code", "city") if address.get(k))


class CheckoutScreen(Screen):
    title = "Checkout"

    def __init__(self, shop):
        super().__init__(shop)
        self.info: dict = {}
        self.wallet_ready = False
        self.addresses: dict[str, dict] = {}
        self.summary = toga.Label("", id="summary", style=theme.text(weight="bold"))
        self.address = toga.Selection(id="address", items=[NEW], style=theme.text())
        self.new_address = toga.Box(id="new-address", style=theme.column())
        self.fields = {}
        for name, text in (
            ("name", "Full name"),
            ("line1", "Street and number"),
            ("line2", "Flat, floor (optional)"),
            ("postal_code", "Postcode"),
            ("city", "City"),
            ("country", "Country code (e.g. DE)"),
        ):
            self.fields[name] = toga.TextInput(
                id=f"address-{name}", placeholder=text, style=theme.text(height=40, margin_bottom=4)
            )
            self.new_address.add(toga.Label(text, style=theme.muted()), self.fields[name])
        self.card_number = toga.TextInput(
            id="card-number", placeholder="Card number", style=theme.text(height=40)
        )
        self.card_expiry = toga.TextInput(
            id="card-expiry", placeholder="MM/YY", style=theme.text(flex=1, height=40)
        )
        self.card_cvc = toga.PasswordInput(
            id="card-cvc", placeholder="CVC", style=theme.text(flex=1, height=40)
        )
        self.pay = toga.Button(
            "Place order", id="place-order", on_press=self.place_order, style=theme.primary()
        )
        self.wallet = toga.Button(
            "", id="wallet", on_press=self.pay_with_wallet, style=theme.primary(background_color=theme.INK)
        )

    async def load(self) -> None:
        self.info, _ = await self.gateway.get(f"{MOBILE}/checkout", auth=True, cache=False)
        self.wallet_ready = await self._wallet_ready()
        cart = self.info["cart"]
        count = cart.get("item_count", 0)
        items = "1 item" if count == 1 else f"{count} items"
        self.summary.text = f"{items} · total {money(cart.get('total'))}"
        self.addresses = {label(a): a for a in self.info.get("addresses", [])}
        default = next(
            (
                label(a)
                for a in self.info.get("addresses", [])
                if a.get("id") == self.info.get("default_address_id")
            ),
            None,
        )
        self.address.items = [*self.addresses, NEW]
        self.address.value = default or next(iter(self.addresses), NEW)
        self.address.on_change = self.address_changed
        self.box.clear()
        self.box.add(self.summary, heading("Deliver to"), self.address)
        self.address_changed(self.address)
        self.box.add(
            heading("Pay by card"),
            toga.Label(
                theme.wrap(
                    "Your card goes straight to our payment provider; Mercato never sees its number.", 38
                ),
                style=theme.muted(),
            ),
            self.card_number,
            toga.Box(children=[self.card_expiry, self.card_cvc], style=theme.row(margin_top=4)),
        )
        if self.state.gateway.pending.keys() and self.gateway.cache.read(PENDING):
            self.say(
                "Your last order got no answer. Tap Place order to finish it; you won't be charged twice.",
                "info",
            )

    def address_changed(self, widget) -> None:
        show = widget.value == NEW
        if show and self.new_address not in self.box.children:
            self.box.insert(self.box.children.index(self.address) + 1, self.new_address)
        elif not show and self.new_address in self.box.children:
            self.box.remove(self.new_address)

    def shipping_address(self) -> dict:
        if self.address.value != NEW:
            chosen = self.addresses[self.address.value]
        else:
            chosen = {name: field.value.strip() for name, field in self.fields.items()}
        return {k: chosen[k] for k in ADDRESS_FIELDS if chosen.get(k)}

    async def _wallet_ready(self) -> bool:
        """The gateway offers this device's wallet and the device can show its sheet now."""
        device = self.shop.device
        wallet = WALLETS.get(device.platform or "")
        offered = self.info.get("payment", {}).get("wallets", [])
        if not wallet or device.wallet != wallet[0] or wallet[0] not in offered:
            return False
        try:
            return await device.wallet_ready(self.info["payment"])
        except Exception:  # a sheet that can't be asked is a sheet not offered
            return False

    def actions(self):
        wallet = WALLETS.get(self.shop.device.platform or "")
        if wallet and self.wallet_ready:
            self.wallet.text = wallet[1]
            return [self.message, self.wallet, self.pay]
        return [self.message, self.pay]

    # --- paying --------------------------------------------------------------------------------------
    async def place_order(self, widget) -> None:
        async def by_card() -> None:
            if self.gateway.cache.read(PENDING) is None:
                month, _, year = self.card_expiry.value.partition("/")
                method = await self.gateway.tokenise_card(
                    self.info["payment"],
                    self.card_number.value,
                    month.strip(),
                    "20" + year.strip()[-2:],
                    self.card_cvc.value,
                )
                self.gateway.cache.write(
                    PENDING, {"shipping_address": self.shipping_address(), "payment_method": method}
                )
            await self.submit()

        await self.attempt(by_card)

    async def pay_with_wallet(self, widget) -> None:
        async def by_wallet() -> None:
            if self.gateway.cache.read(PENDING) is not None:  # an attempt still waiting for its answer
                await self.submit()
                return
            payment, total = self.info["payment"], self.info["cart"]["total"]
            country = payment.get("country") or config.MERCHANT_COUNTRY
            paid = await self.shop.device.wallet_payment(payment, total, country)
            try:
                method = await self.gateway.tokenise_wallet(payment, paid)
                self.gateway.cache.write(
                    PENDING, {"shipping_address": self.shipping_address(), "payment_method": method}
                )
                await self.submit()
            except BaseException:
                paid.done(False)  # the sheet shows it failed; the message line says why
                raise
            paid.done(True)

        await self.attempt(by_wallet)

    async def submit(self) -> None:
        """POST the pending attempt (same body, same key until it is answered)."""
        body = self.gateway.cache.read(PENDING)
        self.pay.enabled = False
        try:
            order = await self.gateway.write("POST", f"{MOBILE}/checkout", body)
        except ApiError:
            self.gateway.cache.delete(PENDING)  # answered: a new attempt needs a new payment method
            raise
        finally:
            self.pay.enabled = True
        self.gateway.cache.delete(PENDING)
        self.card_number.value = self.card_cvc.value = ""
        self.state.cart_changed({"item_count": 0, "lines": []})
        from shop.screens.orders import ConfirmationScreen

        await self.shop.show(ConfirmationScreen(self.shop, order), root=True)
