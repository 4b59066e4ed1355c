"""A small TCP proxy in front of the gateway, to take the network away from the app:

- "forward": bytes both ways, as a network does;
- "down": connections refused (the listening socket closed, open ones cut): the gateway can't be reached;
- "lose-answers": the request reaches the gateway (and is carried out), the answer never comes back —
  the worst case for a purchase."""

from __future__ import annotations

import asyncio
import contextlib


class Proxy:
    def __init__(self, upstream_host: str, upstream_port: int):
        self.upstream = (upstream_host, upstream_port)
        self.mode = "forward"
        self.server: asyncio.Server | None = None
        self.port = 0
        self.writers: set[asyncio.StreamWriter] = set()
        self.requests_forwarded = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def set(self, mode: str) -> None:
        self.mode = mode
        if mode == "down":
            await self.stop()
        elif self.server is None:
            await self.start()
        for writer in list(self.writers):  # connections kept alive from before the change are cut
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for writer in list(self.writers):
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        self.writers.add(up_writer)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, answers: bool) -> None:
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                while data := await src.read(65536):
                    if answers and self.mode == "lose-answers":
                        writer.close()  # the answer is lost on the way back
                        return
                    if not answers:
                        self.requests_forwarded += 1
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer, False), pipe(up_reader, writer, True))
        self.writers.discard(writer)
        self.writers.discard(up_writer)
