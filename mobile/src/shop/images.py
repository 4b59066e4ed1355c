"""Product pictures in lists: a thumbnail per row, loaded after the rows are shown and kept on disk.

Pictures come through the app's own HTTP client (a relative URL is prefixed with the gateway's). Catalog
serves `/api/v1/images/{key}` by content key — immutable — so a picture once fetched is kept in the
app's cache directory (`cache/images/`) and never asked for again: offline pages show it too. Any other
URL is asked for each time and the kept copy is used only when the network fails.

Catalog offers one rendition per image (no sizes), so the thumbnail is the image itself scaled by the
ImageView; the demo catalog's pictures are small SVGs. A picture that can't be fetched or drawn leaves
its row as it is: rows never wait for pictures."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from pathlib import Path

import httpx
import toga
from toga.images import ImageLoadError
from toga.style import Pack

IMMUTABLE = "/api/v1/images/"
_KEY = re.compile(r"^[0-9a-f]{32}\.[a-z]{3,4}$")
CONCURRENT = 4  # pictures fetched at once: the rows' data comes first on a slow network
KEEP = 500  # pictures kept on disk (a few MB of thumbnails); the least recently used go first


def cache_file(url: str) -> str:
    """The file a picture is kept in: its content key under /api/v1/images/, else a hash of the URL."""
    key = url.split("?", 1)[0].rsplit("/", 1)[-1]
    if IMMUTABLE in url and _KEY.match(key):
        return key
    return "url-" + hashlib.sha256(url.encode()).hexdigest()[:32]


class Pictures:
    def __init__(self, gateway, directory: Path):
        self.gateway = gateway
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._slots = asyncio.Semaphore(CONCURRENT)
        self._tasks: set[asyncio.Task] = set()
        self.fetched = 0  # pictures asked of the gateway (the rest came from the disk)

    def _kept(self, url: str) -> bytes | None:
        path = self.directory / cache_file(url)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        os.utime(path)  # used now: kept longer
        return data

    def _keep(self, url: str, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, self.directory / cache_file(url))
        self.prune()

    def prune(self, keep: int = KEEP) -> None:
        """At most `keep` pictures on disk: the least recently used are removed."""
        files = [p for p in self.directory.iterdir() if p.is_file() and not p.name.startswith(".tmp-")]
        if len(files) <= keep:
            return
        files.sort(key=lambda p: p.stat().st_mtime)
        for path in files[: len(files) - keep]:
            path.unlink(missing_ok=True)

    async def fetch(self, path: str | None) -> bytes | None:
        """The picture's bytes: from the disk when it is immutable and kept, else from the gateway (then
        kept); the kept copy when the gateway can't be reached; None when there is none."""
        url = self.gateway.image_url(path)
        if not url:
            return None
        kept = self._kept(url)
        if kept is not None and IMMUTABLE in url:
            return kept
        async with self._slots:
            try:
                response = await self.gateway.http.get(url)
            except httpx.HTTPError:
                return kept
        if response.status_code != 200 or not response.content:
            return kept
        self.fetched += 1
        self._keep(url, response.content)
        return response.content

    async def show(self, view: toga.ImageView, path: str | None) -> bool:
        data = await self.fetch(path)
        if data is None:
            return False
        try:
            view.image = toga.Image(src=data)
        except (ImageLoadError, ValueError, OSError, RuntimeError):
            return False  # a format this platform can't draw: the row stays without it
        return True

    def show_later(self, view: toga.ImageView, path: str | None) -> None:
        """Put the picture into `view` once the screen is up (a background task; the rows don't wait)."""
        if not path:
            return
        task = asyncio.ensure_future(self.show(view, path))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Wait until every picture asked for so far is shown (or given up)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def thumbnail(shop, path: str | None, widget_id: str, size: int = 72) -> toga.ImageView:
    """An empty square that shows the picture once it has come."""
    view = toga.ImageView(id=widget_id, style=Pack(width=size, height=size, margin=(4, 10, 4, 4)))
    shop.pictures.show_later(view, path)
    return view
