"""The app's own storage on the desktop: tokens in a 0600 file, the offline cache, the pending writes'
Idempotency-Keys (kept until answered, across a restart), the backoff."""

from __future__ import annotations

import os
import stat

import httpx
from shop.errors import Offline
from shop.offline import Store, cache_name
from shop.retry import Backoff, PendingWrites, send_with_retries
from shop.storage import FileStore, secure_store


def test_tokens_live_in_a_file_only_its_owner_can_read(tmp_path):
    store = secure_store(tmp_path)
    assert isinstance(store, FileStore)
    store.set("access_token", "a")
    store.set("refresh_token", "r")
    mode = stat.S_IMODE(os.stat(tmp_path / "secrets.json").st_mode)
    assert mode == 0o600
    assert store.get("access_token") == "a"
    store.delete("access_token")
    assert store.get("access_token") is None and store.get("refresh_token") == "r"
    assert stat.S_IMODE(os.stat(tmp_path / "secrets.json").st_mode) == 0o600


def test_the_cache_keeps_pages_by_path_and_query(tmp_path):
    store = Store(tmp_path)
    name = cache_name("/mobile/v1/products", {"category": "women", "q": None, "cursor": ""})
    assert name == "mobile_v1_products?category=women"
    store.write(name, {"items": [1]})
    assert Store(tmp_path).read(name) == {"items": [1]}  # a new app start reads it
    long = cache_name("/mobile/v1/products", {"q": "x" * 300})
    store.write(long, [])
    assert Store(tmp_path).read(long) == []


def test_a_write_keeps_its_key_until_answered_even_across_a_restart(tmp_path):
    body = {"shipping_address": {"name": "A"}, "payment_method": "pm_1"}
    key = PendingWrites(Store(tmp_path)).key_for("POST", "/mobile/v1/checkout", body)
    again = PendingWrites(Store(tmp_path))  # the app restarted
    assert again.key_for("POST", "/mobile/v1/checkout", body) == key
    assert again.key_for("POST", "/mobile/v1/checkout", body | {"payment_method": "pm_2"}) != key
    again.answered("POST", "/mobile/v1/checkout", body)
    assert again.key_for("POST", "/mobile/v1/checkout", body) != key


async def test_retries_back_off_and_give_up_offline():
    slept: list[float] = []
    calls = 0

    async def fail() -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("refused")

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    try:
        await send_with_retries(fail, Backoff(attempts=4, first_delay=0.5), sleep=sleep)
    except Offline:
        pass
    else:
        raise AssertionError("no network must end Offline")
    assert calls == 4 and slept == [0.5, 1.0, 2.0]

    answers = iter([httpx.Response(503), httpx.Response(201)])

    async def flaky() -> httpx.Response:
        return next(answers)

    assert (await send_with_retries(flaky, Backoff(), sleep=sleep)).status_code == 201
