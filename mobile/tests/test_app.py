"""The app on its own: it starts on every screen with no gateway to talk to, says it is offline, keeps
tokens in a 0600 file on the desktop, and formats money as the web shop does."""

from __future__ import annotations

import asyncio
import os
import stat

import pytest

os.environ.setdefault("TOGA_BACKEND", "toga_dummy")

from shop.app import main
from shop.screens.base import money
from shop.storage import FileStore, secure_store
from shop.theme import PHONE_HEIGHT, PHONE_WIDTH, wrap

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing answers


@pytest.fixture
def app(tmp_path):
    app = main(gateway=UNREACHABLE, data_dir=tmp_path)
    loop = app.loop  # the dummy backend's own event loop (no loop runs under plain pytest)
    app.shop.gateway.backoff.attempts = 1
    loop.run_until_complete(asyncio.sleep(0.3))
    yield app, loop
    loop.run_until_complete(app.shop.gateway.close())


def test_it_opens_at_phone_size_and_says_it_is_offline(app):
    app, _loop = app
    assert tuple(app.main_window.size) == (PHONE_WIDTH, PHONE_HEIGHT)
    assert app.app_id == "org.mercato.shop"
    assert app.shop.offline
    assert "offline" in app.shop.banner_text.text.lower()


def test_every_tab_opens_without_a_gateway(app):
    app, loop = app
    for name, title in (
        ("cart", "Your cart"),  # a guest may shop: no sign-in asked
        ("orders", "Sign in"),
        ("account", "Sign in"),
        ("home", "Mercato"),
    ):
        loop.run_until_complete(app.shop.tab_buttons[name].on_press())
        assert app.shop.heading.text == title
        assert app.shop.tab_buttons[name].text.startswith(name.capitalize() if name != "home" else "Shop")


def test_tokens_are_kept_in_an_owner_only_file_on_the_desktop(tmp_path):
    store = secure_store(tmp_path)
    assert isinstance(store, FileStore)
    store.set("refresh_token", "secret")
    assert stat.S_IMODE(os.stat(tmp_path / "secrets.json").st_mode) == 0o600


def test_money_and_wrapping():
    assert money({"amount": 2450, "currency": "EUR"}) == "€24.50"
    assert money({"amount": 123456, "currency": "USD"}) == "$1,234.56"
    assert all(
        len(line) <= 20
        for line in wrap("a fairly long sentence that needs wrapping at twenty", 20).split("\n")
    )
