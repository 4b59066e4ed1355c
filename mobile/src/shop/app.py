"""The app: a Toga App whose main window, at phone size, hosts the Shop (shell.py)."""

from __future__ import annotations

from pathlib import Path

import toga

from shop import theme
from shop.config import gateway_url
from shop.device import this_device
from shop.shell import Shop
from shop.storage import secure_store


class MercatoApp(toga.App):
    def __init__(self, *args, gateway: str | None = None, data_dir: Path | None = None, device=None, **kw):
        self._gateway, self._data_dir, self._device = gateway, data_dir, device
        super().__init__(*args, **kw)

    def startup(self) -> None:
        data_dir = Path(self._data_dir or self.paths.data)
        self.main_window = toga.MainWindow(title="Mercato", size=(theme.PHONE_WIDTH, theme.PHONE_HEIGHT))
        self.shop = Shop(
            window=self.main_window,
            gateway_url=self._gateway or gateway_url(),
            data_dir=data_dir,
            secrets=secure_store(data_dir),
            device=self._device or this_device(),
        )
        self.main_window.content = self.shop.root
        self.main_window.show()
        self.loop.create_task(self.shop.start())

    async def on_exit(self) -> bool:
        await self.shop.gateway.close()
        return True


def main(**kwargs) -> MercatoApp:
    return MercatoApp("Mercato", "org.mercato.shop", **kwargs)
