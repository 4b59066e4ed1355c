"""Sign in / create an account; signed in: details, address book, communication opt-ins (push too),
where to shop (the country whose market prices every browsing screen: kept on this device), sign out,
delete my account. Each is one /api/v1 call."""

from __future__ import annotations

import contextlib

import toga

from shop import theme
from shop.api import API
from shop.errors import ApiError, Offline
from shop.screens.base import Screen, heading
from shop.screens.checkout import label

CHANNELS = (
    ("email", "E-mail"),
    ("sms", "Text messages"),
    ("push", "Push notifications"),
)


class AccountScreen(Screen):
    title = "Account"

    def __init__(self, shop, then: Screen | None = None):
        super().__init__(shop)
        self.then = then  # the screen that asked for a sign-in, shown after it
        self.registering = False
        self.name = toga.TextInput(id="name", placeholder="Your name", style=theme.text(height=40))
        self.email = toga.TextInput(id="email", placeholder="you@example.com", style=theme.text(height=40))
        self.password = toga.PasswordInput(id="password", placeholder="Password", style=theme.text(height=40))
        self.submit = toga.Button("Sign in", id="sign-in", on_press=self.sign_in, style=theme.primary())
        self.switch = toga.Button(
            "New here? Create an account", id="switch", on_press=self.toggle, style=theme.secondary()
        )
        self.opt_ins = {
            name: toga.Switch(text, id=f"opt-{name}", style=theme.text(margin=(4, 0)))
            for name, text in CHANNELS
        }
        self.address_fields = {
            name: toga.TextInput(id=f"new-{name}", placeholder=text, style=theme.text(height=40))
            for name, text in (
                ("name", "Full name"),
                ("line1", "Street and number"),
                ("postal_code", "Postcode"),
                ("city", "City"),
                ("country", "Country code (e.g. DE)"),
            )
        }
        self.country = toga.Selection(id="country", style=theme.text(flex=1))
        self.countries: dict[str, tuple[str, dict]] = {}  # choice → (country, its market)
        self.confirm_delete = False
        self.delete = toga.Button(
            "Delete my account",
            id="delete-account",
            on_press=self.delete_account,
            style=theme.secondary(color=theme.DANGER),
        )

    async def load(self) -> None:
        self.box.clear()
        if not self.state.signed_in:
            self.title = "Create an account" if self.registering else "Sign in"
            fields = [toga.Label("Name", style=theme.muted()), self.name] if self.registering else []
            self.box.add(
                *fields,
                toga.Label("E-mail", style=theme.muted()),
                self.email,
                toga.Label("Password", style=theme.muted()),
                self.password,
            )
            return
        self.title = "Account"
        me, _ = await self.gateway.get(f"{API}/me", auth=True)
        self.state.me = me
        addresses, _ = await self.gateway.get(f"{API}/me/addresses", auth=True)
        self.name.value = me["name"]
        self.box.add(
            toga.Label(theme.wrap(f"Signed in as {me['email']}", 34), id="signed-in-as", style=theme.muted()),
            toga.Label("Name", style=theme.muted()),
            self.name,
            toga.Button(
                "Save my details", id="save-details", on_press=self.save_details, style=theme.secondary()
            ),
            heading("Keep me posted"),
        )
        for name, switch in self.opt_ins.items():
            switch.value = bool(me.get("communication", {}).get(name))
            self.box.add(switch)
        self.box.add(
            toga.Button(
                "Save my choices", id="save-opt-ins", on_press=self.save_opt_ins, style=theme.secondary()
            )
        )
        self.box.add(heading("Address book"))
        for address in addresses.get("data", []):
            self.box.add(
                toga.Box(
                    children=[
                        toga.Label(
                            label(address) + (" (default)" if address.get("is_default") else ""),
                            style=theme.text(flex=1),
                        ),
                        toga.Button(
                            "Remove",
                            id=f"remove-address-{address['id']}",
                            on_press=self.remove_address,
                            style=theme.secondary(width=90),
                        ),
                    ],
                    style=theme.row(),
                )
            )
        for field in self.address_fields.values():
            self.box.add(field)
        self.box.add(
            toga.Button(
                "Add this address", id="add-address", on_press=self.add_address, style=theme.secondary()
            ),
            heading("Privacy"),
            self.delete,
        )
        await self.add_market_picker()

    async def add_market_picker(self) -> None:
        """ "Shop in": every country of every market (GET /api/v1/markets), the one chosen picked."""
        try:
            markets, _ = await self.gateway.get(f"{API}/markets")
        except (ApiError, Offline):
            return  # not now: the shop's default market (or what was chosen) stays
        self.countries = {
            f"{country} · {market['currency']}": (country, market)
            for market in markets["data"]
            for country in market["countries"]
        }
        chosen = (self.gateway.market or {}).get("country")
        default = next((m["countries"][0] for m in markets["data"] if m.get("default")), None)
        self.country.items = list(self.countries)
        for choice, (country, _) in self.countries.items():
            if country == (chosen or default):
                self.country.value = choice
        save = toga.Button(
            "Save", id="save-country", on_press=self.save_country, style=theme.secondary(width=90)
        )
        self.box.add(
            toga.Label("Shop in", style=theme.muted()),
            toga.Box(children=[self.country, save], style=theme.row()),
        )

    async def save_country(self, widget) -> None:
        country, market = self.countries[self.country.value]

        async def save() -> None:
            self.gateway.choose_market(country, market)
            if self.state.signed_in:  # the cart is priced where the shop is
                with contextlib.suppress(ApiError):  # no cart route for it: the next address sets it
                    await self.gateway.write("PUT", f"{API}/cart/country", {"country": country})

        if await self.attempt(save):
            tax = "incl. VAT" if market["prices_include_tax"] else "excl. tax"
            self.say(f"Prices are now in {market['currency']}, {tax}.", "info")

    def actions(self):
        if not self.state.signed_in:
            self.submit.text = "Create account" if self.registering else "Sign in"
            self.switch.text = (
                "I have an account: sign in" if self.registering else "New here? Create an account"
            )
            return [self.message, self.submit, self.switch]
        return [
            self.message,
            toga.Button("Sign out", id="sign-out", on_press=self.sign_out, style=theme.primary()),
        ]

    async def toggle(self, widget) -> None:
        self.registering = not self.registering
        await self.shop.reload()

    async def sign_in(self, widget) -> None:
        async def go() -> None:
            email, password = self.email.value.strip(), self.password.value
            if self.registering:
                await self.state.register(self.name.value.strip(), email, password)
            else:
                await self.state.sign_in(email, password)
            self.password.value = ""
            if self.then is not None:
                await self.shop.show(self.then, root=True)
            else:
                await self.shop.reload()

        await self.attempt(go)

    async def save_details(self, widget) -> None:
        if await self.attempt(
            lambda: self.gateway.write("PATCH", f"{API}/me", {"name": self.name.value.strip()})
        ):
            self.say("Saved.", "info")

    async def save_opt_ins(self, widget) -> None:
        body = {"communication": {name: bool(switch.value) for name, switch in self.opt_ins.items()}}

        async def save() -> None:
            self.state.me = await self.gateway.write("PATCH", f"{API}/me", body)
            await self.state.sync_push()

        if await self.attempt(save):
            self.say("Saved.", "info")

    async def add_address(self, widget) -> None:
        body = {name: field.value.strip() for name, field in self.address_fields.items()}
        if await self.attempt(lambda: self.gateway.write("POST", f"{API}/me/addresses", body)):
            for field in self.address_fields.values():
                field.value = ""
            await self.shop.reload()

    async def remove_address(self, widget) -> None:
        address_id = widget.id.removeprefix("remove-address-")
        if await self.attempt(lambda: self.gateway.write("DELETE", f"{API}/me/addresses/{address_id}")):
            await self.shop.reload()

    async def sign_out(self, widget) -> None:
        await self.state.sign_out()
        self.registering = False  # whoever comes next signs in
        await self.shop.reload()

    async def delete_account(self, widget) -> None:
        if not self.confirm_delete:
            self.confirm_delete = True
            self.delete.text = "Tap again to delete your account for good"
            self.say("This erases your account and your personal data; orders are kept, without your name.")
            return
        if await self.attempt(self.state.delete_account):
            self.confirm_delete = False
            await self.shop.show(AccountScreen(self.shop), root=True)
            self.shop.screen.say("Your account is deleted.", "info")
