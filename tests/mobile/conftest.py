"""The shopping app (mobile/src/shop), driven headless with Toga's dummy backend against the real
platform (tests/platforms.py): the app's own HTTP client talks to the real gateway and tokenises cards at
the real payment sandbox; only the screen is a stand-in. Tap = await the handler Toga would run."""

from __future__ import annotations

import asyncio
import inspect
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["TOGA_BACKEND"] = "toga_dummy"  # before Toga picks a backend
MOBILE_SRC = Path(__file__).resolve().parents[2] / "mobile" / "src"
if str(MOBILE_SRC) not in sys.path:
    sys.path.insert(0, str(MOBILE_SRC))

from shop.app import MercatoApp, main  # noqa: E402
from shop.device import Device  # noqa: E402
from shop.retry import Backoff  # noqa: E402


async def tap(widget, *args) -> None:
    """What a tap does: Toga runs the widget's handler (a coroutine here, awaited to its end)."""
    handler = widget.on_press if hasattr(widget, "on_press") else widget.on_confirm
    result = handler(*args)
    if inspect.isawaitable(result):
        await result


async def type_into(widget, text: str) -> None:
    widget.value = text  # the dummy backend fires on_change as typing would
    await settle()


async def settle(seconds: float = 0.6) -> None:
    """Let what a handler started in the background (suggestions after a pause, the app's start) run."""
    await asyncio.sleep(seconds)


async def until(condition, timeout: float = 15) -> None:
    """Wait for what the app does in the background (a handler Toga started, not awaited by anyone)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the app did not get there in time"
        await asyncio.sleep(0.05)


def said(label) -> str:
    """A label's words as one line (the app wraps long texts to fit 390 px)."""
    return " ".join(label.text.split())


def find(box, widget_id: str):
    """The widget with this id under `box` (the window's content), or None."""
    if getattr(box, "id", None) == widget_id:
        return box
    for child in getattr(box, "children", []) or []:
        found = find(child, widget_id)
        if found is not None:
            return found
    content = getattr(box, "content", None)
    return find(content, widget_id) if content is not None else None


def ids(box, prefix: str) -> list:
    found = []

    def walk(widget) -> None:
        if str(getattr(widget, "id", "")).startswith(prefix):
            found.append(widget)
        for child in getattr(widget, "children", []) or []:
            walk(child)
        if getattr(widget, "content", None) is not None:
            walk(widget.content)

    walk(box)
    return found


def texts(box) -> str:
    """Everything the screen says, as one string (labels, buttons, inputs)."""
    out: list[str] = []

    def walk(widget) -> None:
        for attr in ("text", "value"):
            value = getattr(widget, attr, None)
            if isinstance(value, str) and value:
                out.append(value)
        for child in getattr(widget, "children", []) or []:
            walk(child)
        if getattr(widget, "content", None) is not None:
            walk(widget.content)

    walk(box)
    return "\n".join(out)


async def started(app: MercatoApp) -> MercatoApp:
    """The app's first screen is up (its start runs in the background, as Toga starts it)."""
    await until(lambda: app.shop.screen is not None and app.shop.scroller.content is app.shop.screen.box)
    return app


def launch(gateway: str, data_dir: Path, device: Device | None = None) -> MercatoApp:
    app = main(gateway=gateway, data_dir=data_dir, device=device or Device())
    app.shop.gateway.backoff = Backoff(attempts=3, first_delay=0.05)  # a test waits less for retries
    return app


@pytest.fixture
async def app(platform, tmp_path) -> Iterator[MercatoApp]:
    app = launch(platform.gateway, tmp_path / "app-data")
    await started(app)
    yield app
    await app.shop.gateway.close()


async def register(app: MercatoApp, name: str = "Ada Lovelace") -> str:
    """Create an account in the app (Account tab → Create account); returns the e-mail address."""
    shop = app.shop
    await tap(shop.tab_buttons["account"])
    screen = shop.screen
    await tap(screen.switch)
    email = f"app-{uuid.uuid4().hex[:10]}@example.com"
    shop.screen.name.value, shop.screen.email.value = name, email
    shop.screen.password.value = "correct horse battery staple"
    await tap(shop.screen.submit)
    assert shop.state.signed_in, texts(shop.root)
    return email
