"""Checkout, top to bottom: where to deliver (the address book, or a new address) → the shipping methods
that apply there, with their price and delivery estimate → the billing address (the same by default; a
switch to enter another) → the order's totals and tax as orders quotes them → pay. Each choice is one
call (PUT /mobile/v1/checkout/address or …/shipping-method) answering the whole screen again, re-quoted.

The card is tokenised by the app directly at the payment provider (its publishable key and URL come from
GET /mobile/v1/checkout; the number never goes to Mercato), or the phone's wallet pays; then one POST
/mobile/v1/checkout with an Idempotency-Key. An attempt that got no answer stays pending (on disk, with
its key and its body): the next tap sends exactly it again, so a lost answer never buys twice."""

from __future__ import annotations

import toga

from shop import config, theme
from shop.api import MOBILE
from shop.errors import ApiError
from shop.screens.addresses import AddressPicker, label, plain
from shop.screens.base import Screen, heading, money
from shop.screens.quote import cost, days, totals

__all__ = ["CheckoutScreen", "label"]

PENDING = "pending-checkout"
WALLETS = {"ios": ("apple_pay", "Pay with Apple Pay"), "android": ("google_pay", "Pay with Google Pay")}


class CheckoutScreen(Screen):
    title = "Checkout"

    def __init__(self, shop):
        super().__init__(shop)
        self.info: dict = {}
        self.wallet_ready = False
        self.summary = toga.Label("", id="summary", style=theme.text(weight="bold"))
        self.email = toga.TextInput(
            id="guest-email", placeholder="you@example.com", style=theme.text(height=40)
        )
        self.shipping = AddressPicker("ship", self.deliver_to)
        self.methods = toga.Box(id="methods", style=theme.column())
        self.same = toga.Switch(
            "Bill to the delivery address", id="billing-same", value=True, style=theme.text(margin=(4, 0))
        )
        self.billing = AddressPicker("bill", self.bill_to)
        self.billing_box = toga.Box(children=[self.same], style=theme.column())
        self.quote = toga.Box(id="quote", style=theme.column())
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
        info, _ = await self.gateway.get(f"{MOBILE}/checkout", auth=True, cache=False)
        book = info.get("addresses", [])
        if info.get("shipping_address") is None and book:  # first visit: the default address, quoted
            default = next((a for a in book if a.get("id") == info.get("default_address_id")), book[0])
            try:
                info = await self.put("address", {"shipping_address": plain(default)})
            except ApiError as error:  # e.g. a country the shop does not sell to: choose another
                self.say(error.message)
        self.wallet_ready = await self._wallet_ready(info)
        self.box.clear()
        self.box.add(self.summary)
        if not self.state.signed_in:  # a guest: the confirmation and the invoice go to this address
            self.email.value = self.email.value or info.get("email") or ""
            self.box.add(
                heading("Your e-mail"),
                toga.Label(
                    theme.wrap("For your confirmation and invoice. No account needed.", 38),
                    style=theme.muted(),
                ),
                self.email,
            )
        self.box.add(
            heading("Deliver to"),
            self.shipping.box,
            heading("Delivery"),
            self.methods,
            heading("Billing address"),
            self.billing_box,
            heading("Your order"),
            self.quote,
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
        self.show(info)
        if self.state.gateway.pending.keys() and self.gateway.cache.read(PENDING):
            self.say(
                "Your last order got no answer. Tap Place order to finish it; you won't be charged twice.",
                "info",
            )

    def show(self, info: dict) -> None:
        """Draw what the gateway answered: the cart quoted for its address, the methods that apply."""
        self.info = info
        cart, book = info["cart"], info.get("addresses", [])
        count = cart.get("item_count", 0)
        items = "1 item" if count == 1 else f"{count} items"
        self.summary.text = f"{items} · total {money(cart['totals']['total'])}"
        self.state.cart_changed(cart)
        shipping_address = info.get("shipping_address")
        self.shipping.fill(book, shipping_address)

        self.methods.clear()
        chosen = (cart.get("shipping_method") or {}).get("id")
        for method in info.get("shipping_methods", []):  # the name on the button; price and days under it
            mark = "✓ " if method["id"] == chosen else ""
            self.methods.add(
                toga.Button(
                    theme.shorten(mark + method["name"], 30),
                    id=f"method-{method['id']}",
                    on_press=self.choose_method,
                    style=theme.secondary(font_size=14, margin=(4, 0, 0, 0)),
                ),
                toga.Label(
                    " · ".join(part for part in (cost(method), days(method)) if part),
                    id=f"method-about-{method['id']}",
                    style=theme.muted(margin=(0, 8, 4, 8)),
                ),
            )
        if not info.get("shipping_methods"):
            why = (
                "We can't deliver this cart there. Please choose another address."
                if shipping_address
                else "Choose where to deliver to see the delivery options."
            )
            self.methods.add(toga.Label(theme.wrap(why, 38), id="no-methods", style=theme.muted()))

        billing = info.get("billing_address")
        same = billing is None or plain(billing) == plain(shipping_address)
        self.same.on_change = None  # showing is not choosing
        self.same.value = same
        self.same.on_change = self.billing_switched
        self._show_billing(not same, billing if not same else None)

        self.quote.clear()
        self.quote.add(totals(cart))

    def _show_billing(self, show: bool, current: dict | None) -> None:
        if show:
            self.billing.fill(self.info.get("addresses", []), current)
            if self.billing.box not in self.billing_box.children:
                self.billing_box.add(self.billing.box)
        elif self.billing.box in self.billing_box.children:
            self.billing_box.remove(self.billing.box)

    # --- the steps: each one call, answering the screen ----------------------------------------------
    async def put(self, step: str, body: dict) -> dict:
        return await self.gateway.write("PUT", f"{MOBILE}/checkout/{step}", body)

    async def _step(self, step: str, body: dict) -> None:
        async def send() -> None:
            self.show(await self.put(step, body))

        await self.attempt(send)

    async def deliver_to(self, address: dict) -> None:
        body = {"shipping_address": address}
        billing = self.info.get("billing_address")
        if not self.same.value and billing:
            body["billing_address"] = plain(billing)
        await self._step("address", body)

    async def bill_to(self, address: dict) -> None:
        if not self.state.signed_in and "@" not in self.email.value:
            self.say("Your e-mail, please: the confirmation goes there.")
        elif not self.info.get("shipping_address"):
            self.say("Choose where to deliver first.")
            return
        await self._step(
            "address", {"shipping_address": plain(self.info["shipping_address"]), "billing_address": address}
        )

    async def billing_switched(self, widget) -> None:
        if not widget.value:  # another billing address: chosen below, sent when chosen
            self._show_billing(True, None)
            return
        self._show_billing(False, None)
        if self.info.get("shipping_address"):  # billed to the delivery address again
            await self._step("address", {"shipping_address": plain(self.info["shipping_address"])})

    async def choose_method(self, widget) -> None:
        await self._step("shipping-method", {"id": widget.id.removeprefix("method-")})

    async def _wallet_ready(self, info: dict) -> bool:
        """The gateway offers this device's wallet and the device can show its sheet now."""
        device = self.shop.device
        wallet = WALLETS.get(device.platform or "")
        offered = info.get("payment", {}).get("wallets", [])
        if not wallet or device.wallet != wallet[0] or wallet[0] not in offered:
            return False
        try:
            return await device.wallet_ready(info["payment"])
        except Exception:  # a sheet that can't be asked is a sheet not offered
            return False

    def actions(self):
        wallet = WALLETS.get(self.shop.device.platform or "")
        if wallet and self.wallet_ready:
            self.wallet.text = wallet[1]
            return [self.message, self.wallet, self.pay]
        return [self.message, self.pay]

    # --- paying --------------------------------------------------------------------------------------
    def attempt_body(self, payment_method: str) -> dict:
        """What is bought: the cart as this screen shows it — its addresses and shipping method."""
        body = {"payment_method": payment_method, "shipping_address": plain(self.info["shipping_address"])}
        billing = self.info.get("billing_address")
        if billing and plain(billing) != body["shipping_address"]:
            body["billing_address"] = plain(billing)
        method = self.info["cart"].get("shipping_method")
        if method:
            body["shipping_method"] = method["id"]
        if not self.state.signed_in:
            body["email"] = self.email.value.strip()
        return body

    def ready(self) -> bool:
        if self.gateway.cache.read(PENDING) is not None:
            return True  # an attempt waiting for its answer is sent as it was
        if not self.state.signed_in and "@" not in self.email.value:
            self.say("Your e-mail, please: the confirmation goes there.")
        elif not self.info.get("shipping_address"):
            self.say("Choose where to deliver first.")
        elif not self.info.get("shipping_methods"):
            self.say("We can't deliver this cart there. Please choose another address.")
        else:
            return True
        return False

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
                self.gateway.cache.write(PENDING, self.attempt_body(method))
            await self.submit()

        if self.ready():
            await self.attempt(by_card)

    async def pay_with_wallet(self, widget) -> None:
        async def by_wallet() -> None:
            if self.gateway.cache.read(PENDING) is not None:  # an attempt still waiting for its answer
                await self.submit()
                return
            payment, total = self.info["payment"], self.info["cart"]["totals"]["total"]
            country = payment.get("country") or config.MERCHANT_COUNTRY
            paid = await self.shop.device.wallet_payment(payment, total, country)
            try:
                method = await self.gateway.tokenise_wallet(payment, paid)
                self.gateway.cache.write(PENDING, self.attempt_body(method))
                await self.submit()
            except BaseException:
                paid.done(False)  # the sheet shows it failed; the message line says why
                raise
            paid.done(True)

        if self.ready():
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
