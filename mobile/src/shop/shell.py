"""The shell around every screen: the offline banner on top, the screen in a scroll view, the screen's
primary action and the tab bar at the bottom (within reach of a thumb), and a back stack."""

from __future__ import annotations

from pathlib import Path

import toga
from toga.style import Pack

from shop import theme
from shop.api import Gateway
from shop.device import Device
from shop.errors import Offline, SignedOut
from shop.images import Pictures
from shop.state import State
from shop.storage import SecureStore

OFFLINE_TEXT = "You're offline. Showing what was saved; nothing you send is done twice."


class Shop:
    def __init__(self, window, gateway_url: str, data_dir: Path, secrets: SecureStore, device: Device):
        self.window = window
        self.device = device
        self.gateway = Gateway(gateway_url, data_dir, secrets, on_connectivity=self._connectivity)
        self.state = State(self.gateway, device)
        self.pictures = Pictures(self.gateway, Path(data_dir) / "cache" / "images")
        self.stack: list = []
        self.screen = None

        self.banner = toga.Box(
            id="offline-banner", style=theme.column(background_color=theme.WARNING_BG, margin=0)
        )
        self.banner_text = toga.Label(
            theme.wrap(OFFLINE_TEXT, 30), id="offline-text", style=theme.banner("offline")
        )
        retry = toga.Button(
            "Retry", id="retry", on_press=self.retry, style=theme.secondary(margin=(0, 12, 8, 12))
        )
        self.banner.add(self.banner_text, retry)
        self.back = toga.Button("‹ Back", id="back", on_press=self.go_back, style=theme.secondary(width=90))
        self.heading = toga.Label("Mercato", id="heading", style=theme.text(18, weight="bold", flex=1))
        self.top = toga.Box(children=[self.back, self.heading], style=theme.row(margin=(4, 12)))
        self.scroller = toga.ScrollContainer(
            id="scroller",
            horizontal=False,
            on_scroll=self.scrolled,
            content=toga.Box(),  # GTK needs content from the start
            style=Pack(flex=1, background_color=theme.BG),
        )
        self.actions = toga.Box(id="actions", style=theme.column(margin=(0, 12)))
        self.tabs = toga.Box(style=theme.row(background_color=theme.CARD, margin_top=4))
        self.tab_buttons = {}
        for name, label in (("home", "Shop"), ("cart", "Cart"), ("orders", "Orders"), ("account", "Account")):
            button = toga.Button(
                label,
                id=f"tab-{name}",
                on_press=self.tab,
                style=theme.secondary(width=theme.PHONE_WIDTH // 4 - 1, font_size=12, margin=0),
            )
            self.tab_buttons[name] = button
            self.tabs.add(button)
        self.root = toga.Box(
            children=[self.top, self.scroller, self.actions, self.tabs],
            style=theme.column(background_color=theme.BG),
        )

    # --- start and navigation ----------------------------------------------------------------------
    async def start(self) -> None:
        from shop.screens.home import HomeScreen

        await self.show(HomeScreen(self), root=True)

    async def show(self, screen, root: bool = False) -> None:
        if root:
            self.stack.clear()
        elif self.screen is not None:
            self.stack.append(self.screen)
        await self._present(screen)

    async def _present(self, screen) -> None:
        self.screen = screen
        try:
            await screen.load()
        except SignedOut:
            from shop.screens.account import AccountScreen

            self.screen = screen = AccountScreen(self, then=screen)
            await screen.load()
        except Offline:
            screen.offline_placeholder()
        self.heading.text = theme.shorten(screen.title, 18)
        self.back.enabled = bool(self.stack)
        self.back.style.visibility = "visible" if self.stack else "hidden"  # no way back from a tab
        self.scroller.content = screen.box
        self.actions.clear()
        for widget in screen.actions():
            self.actions.add(widget)
        self.refresh_tabs()

    async def go_back(self, widget=None) -> None:
        if self.stack:
            await self._present(self.stack.pop())

    async def tab(self, widget) -> None:
        from shop.screens.account import AccountScreen
        from shop.screens.cart import CartScreen
        from shop.screens.home import HomeScreen
        from shop.screens.orders import OrdersScreen

        screens = {"home": HomeScreen, "cart": CartScreen, "orders": OrdersScreen, "account": AccountScreen}
        await self.show(screens[widget.id.removeprefix("tab-")](self), root=True)

    async def reload(self) -> None:
        if self.screen is not None:
            await self._present(self.screen)

    def refresh_tabs(self) -> None:
        count = self.state.cart_count
        self.tab_buttons["cart"].text = f"Cart {count}" if count else "Cart"

    # --- offline -----------------------------------------------------------------------------------
    @property
    def offline(self) -> bool:
        return self.banner in self.root.children

    def _connectivity(self, online: bool) -> None:
        if online and self.offline:
            self.root.remove(self.banner)
        elif not online and not self.offline:
            self.root.insert(0, self.banner)

    async def retry(self, widget=None) -> None:
        await self.reload()

    async def scrolled(self, widget) -> None:
        """Infinite scroll: near the end of the content, the screen loads its next page."""
        near_end = widget.vertical_position >= widget.max_vertical_position - 200
        if near_end and hasattr(self.screen, "load_more"):
            await self.screen.load_more()
