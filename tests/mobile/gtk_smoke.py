"""The app on GTK at phone size (390×844), through its main screens, a screenshot of each.

Run under Xvfb by test_gtk_screenshots.py: `python tests/mobile/gtk_smoke.py GATEWAY OUT_DIR`.
It drives the real widgets as a tap would (the handlers Toga runs), against a running platform."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import traceback
import uuid
from pathlib import Path

os.environ["TOGA_BACKEND"] = "toga_gtk"
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "mobile" / "src"))

from shop.app import MercatoApp


async def tap(widget) -> None:
    result = widget.on_press()
    if asyncio.isfuture(result) or asyncio.iscoroutine(result):
        await result


class Smoke(MercatoApp):
    def __init__(self, out: Path, **kwargs):
        self.out, self.shots, self.failure = out, [], None
        super().__init__("Mercato", "org.mercato.shop", **kwargs)

    def startup(self) -> None:
        super().startup()
        self.loop.create_task(self.run())

    async def shot(self, name: str) -> None:
        await asyncio.sleep(1.0)  # layout and images settle
        self.main_window.as_image().save(self.out / f"mobile-{name}.png")
        self.shots.append((name, tuple(self.main_window.size)))
        if os.environ.get("APP_DEBUG_WIDTH"):  # which widgets ask for more width than that
            for w in _walk(self.shop.root):
                native = getattr(w._impl, "native", None)
                wanted = native.get_preferred_width()[0] if native is not None else 0
                if wanted > int(os.environ["APP_DEBUG_WIDTH"]):
                    print(name, type(w).__name__, w.id, wanted, getattr(w, "text", ""))

    async def run(self) -> None:
        shop = None
        try:
            await asyncio.sleep(1.5)
            shop = self.shop
            await self.shot("home")
            home = shop.screen
            home.search.value = "tsh"
            await asyncio.sleep(1.0)
            await self.shot("search-suggestions")
            home.search.value = "tshrit"
            await home.submit(home.search)
            await self.shot("search-results")
            await shop.show(_product(shop))
            product = shop.screen
            for name in ("colour", "size"):
                if name not in product.chosen:
                    buttons = [
                        b
                        for b in _walk(product.pickers)
                        if str(b.id).startswith(f"option-{name}-") and b.enabled
                    ]
                    await tap(buttons[1 if len(buttons) > 1 else 0])
            await self.shot("product")
            await tap(shop.tab_buttons["account"])
            account = shop.screen
            await tap(account.switch)
            account.name.value, account.email.value = (
                "Ada Lovelace",
                f"gtk-{uuid.uuid4().hex[:8]}@example.com",
            )
            account.password.value = "correct horse battery staple"
            await self.shot("sign-up")
            await tap(account.submit)
            await self.shot("account")
            await shop.show(_product(shop))
            product = shop.screen
            for name in ("colour", "size"):
                if name not in product.chosen:
                    buttons = [
                        b
                        for b in _walk(product.pickers)
                        if str(b.id).startswith(f"option-{name}-") and b.enabled
                    ]
                    await tap(buttons[0])
            await tap(product.add)
            await self.shot("added")
            await tap(shop.tab_buttons["cart"])
            await self.shot("cart")
            await tap(shop.screen.checkout)
            checkout = shop.screen
            for field, value in (
                ("name", "Ada Lovelace"),
                ("line1", "1 Main St"),
                ("postal_code", "10115"),
                ("city", "Berlin"),
                ("country", "DE"),
            ):
                checkout.shipping.fields[field].value = value
            await tap(checkout.shipping.use)  # the methods that apply in Berlin, and the quote there
            checkout.card_number.value, checkout.card_expiry.value, checkout.card_cvc.value = (
                "4242 4242 4242 4242",
                "12/30",
                "123",
            )
            await self.shot("checkout")
            express = [b for b in _walk(checkout.methods) if str(b.id).startswith("method-shm_eu_express")]
            if express:
                await tap(express[0])
            shop.scroller.vertical_position = shop.scroller.max_vertical_position // 2
            await self.shot("checkout-delivery")  # the methods, the billing switch, the totals
            await tap(checkout.pay)
            await self.shot("confirmation")
            await tap(shop.screen.view)
            await self.shot("order")
            await tap(shop.tab_buttons["orders"])
            await self.shot("orders")
            shop.gateway.http.base_url = "http://127.0.0.1:9"  # the network goes: nothing answers there
            await tap(shop.tab_buttons["home"])
            await self.shot("offline")
        except Exception:  # reported by the exit code
            self.failure = traceback.format_exc()
            if shop is not None:
                await self.shot("failure")
        finally:
            print("SHOTS", self.shots, flush=True)
            if self.failure:
                print(self.failure, file=sys.stderr, flush=True)
            self.request_exit()


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", []) or []:
        yield from _walk(child)
    if getattr(widget, "content", None) is not None:
        yield from _walk(widget.content)


def _product(shop):
    from shop.screens.product import ProductScreen

    return ProductScreen(shop, "classic-cotton-t-shirt")


def main() -> int:
    gateway, out = sys.argv[1], Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    app = Smoke(out, gateway=gateway, data_dir=Path(tempfile.mkdtemp(prefix="mercato-gtk-")))
    app.main_loop()
    return 1 if app.failure else 0


if __name__ == "__main__":
    sys.exit(main())
