"""Product pictures in lists (mobile/src/shop/images.py), on the real platform: a search result's row has a
thumbnail whose picture came from the gateway, through the app's own client, kept in the app's cache
directory; offline, the same row still shows it, from the disk."""

from __future__ import annotations

import asyncio
import io
import os
import random
import string
import uuid

import httpx
import PIL.Image
import pytest
from shop.images import cache_file

from tests.mobile.conftest import find, tap, until
from tests.mobile.test_offline import app_via_proxy, proxy  # noqa: F401 - fixtures


def _png(size: tuple[int, int], colour: str) -> bytes:
    out = io.BytesIO()
    PIL.Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


async def _product_with_a_png(platform) -> tuple[dict, bytes]:
    """A new product whose first picture is a PNG (the demo catalog's are SVGs, which Toga's dummy backend
    can't draw), made by a merchandiser; returned once search finds it through the mobile API."""
    catalog, staff = platform.service_url("catalog"), platform.staff_headers("merchandising")
    png = _png((7, 5), "#1f5f4a")
    uploaded = httpx.post(
        f"{catalog}/admin/v1/images", files={"file": ("thumb.png", png, "image/png")}, headers=staff
    )
    assert uploaded.status_code == 201, uploaded.text
    word = "".join(random.choices(string.ascii_lowercase, k=10))
    sku = f"THUMB-{uuid.uuid4().hex[:8].upper()}"
    created = httpx.post(
        f"{catalog}/admin/v1/products",
        json={
            "slug": f"thumbnail-{word}",
            "name": f"Thumbnail {word}",
            "brand": "Testbrand",
            "category": "women-tshirts",
            "images": [{"name": uploaded.json()["name"], "alt": "A green square"}],
            "variants": [
                {
                    "sku": sku,
                    "attributes": {"colour": "Green", "size": "M"},
                    "price": {"amount": 1500, "currency": "EUR"},
                    "stock": 5,
                }
            ],
        },
        headers=staff | {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert created.status_code == 201, created.text
    async with httpx.AsyncClient(base_url=platform.gateway) as gateway:
        for _ in range(150):  # search indexes the new product from catalog's events
            found = (await gateway.get("/mobile/v1/products", params={"q": word})).json()["items"]
            if found:
                return found[0], png
            await asyncio.sleep(0.2)
    raise AssertionError("search never found the new product")


async def _search(shop, word: str):
    await tap(shop.tab_buttons["home"])
    shop.screen.search.value = word
    await tap(shop.screen.search)
    return shop.screen


@pytest.mark.e2e
async def test_a_listing_row_shows_its_picture_online_and_offline(app_via_proxy, proxy, platform):  # noqa: F811
    item, png = await _product_with_a_png(platform)
    shop = app_via_proxy.shop
    word = item["name"].split()[-1]
    listing = await _search(shop, word)
    assert type(listing).__name__ == "ListingScreen"
    thumb = find(listing.results, f"thumb-{item['id']}")
    assert thumb is not None and find(listing.results, f"product-{item['id']}") is not None
    assert thumb.image is None, "the rows are on screen before their pictures: nothing waits for them"
    await until(lambda: thumb.image is not None)
    drawn = PIL.Image.open(io.BytesIO(thumb.image.data))
    assert drawn.size == (7, 5) and drawn.convert("RGB").getpixel((3, 2)) == (0x1F, 0x5F, 0x4A)
    kept = shop.pictures.directory / cache_file(item["image"])
    assert kept.read_bytes() == png, "kept in the app's cache directory, as the gateway served it"
    assert httpx.get(f"{platform.gateway}{item['image']}").content == png

    await proxy.set("down")
    fetched = shop.pictures.fetched
    listing = await _search(shop, word)
    assert shop.offline, "the listing comes from the offline cache"
    thumb = find(listing.results, f"thumb-{item['id']}")
    await until(lambda: thumb.image is not None)
    assert PIL.Image.open(io.BytesIO(thumb.image.data)).size == (7, 5)
    assert shop.pictures.fetched == fetched, "an immutable picture is never asked for again"


def test_the_least_recently_used_pictures_go_first(tmp_path):
    from shop.images import Pictures

    pictures = Pictures(gateway=None, directory=tmp_path)
    urls = [f"http://gw/api/v1/images/{n:032x}.png" for n in range(4)]
    for n, url in enumerate(urls[:3]):
        pictures._keep(url, b"png")
        os.utime(tmp_path / cache_file(url), (1000 + n, 1000 + n))
    assert pictures._kept(urls[0]) == b"png"  # used again: now the most recent
    pictures._keep(urls[3], b"png")  # a fourth over a limit of three
    pictures.prune(keep=3)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(cache_file(u) for u in (urls[0], urls[2], urls[3])), "the second, unused, went"
