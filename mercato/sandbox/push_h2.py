"""A small HTTP/2-over-TLS server on the `h2` library, for the APNs stand-in.

Apple's provider API speaks HTTP/2 only, and answers a push it accepts with a HEADERS frame that ends
the stream (no DATA frame); aioapns relies on that (it parses any DATA frame as JSON). ASGI servers
end a response with a DATA frame, even an empty one, so this listener drives `h2` itself: TLS with
ALPN `h2`, a connection preface or nothing, one request per stream, answered by `handler(headers,
body) -> (status, headers, body)` where an empty body ends the stream on the HEADERS frame.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import ConnectionTerminated, DataReceived, RequestReceived, StreamEnded, StreamReset
from h2.exceptions import H2Error

log = logging.getLogger("mercato.sandbox.push")

Handler = Callable[[dict[str, str], bytes], Awaitable[tuple[int, dict[str, str], bytes]]]


class _Protocol(asyncio.Protocol):
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.conn = H2Connection(config=H2Configuration(client_side=False, header_encoding="utf-8"))
        self.transport: asyncio.Transport | None = None
        self.streams: dict[int, tuple[dict[str, str], bytearray]] = {}
        self.answering: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.conn.initiate_connection()
        self._flush()

    def data_received(self, data: bytes) -> None:
        try:
            events = self.conn.receive_data(data)
        except H2Error as exc:  # not HTTP/2 (an HTTP/1.1 client), or a protocol error: goodbye
            log.info("APNs stand-in: not an HTTP/2 client (%s)", type(exc).__name__)
            self._flush()
            if self.transport is not None:
                self.transport.close()
            return
        for event in events:
            if isinstance(event, RequestReceived):
                self.streams[event.stream_id] = (dict(event.headers), bytearray())  # type: ignore[arg-type]
            elif isinstance(event, DataReceived):
                self.streams[event.stream_id][1].extend(event.data)
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, StreamEnded):
                headers, body = self.streams.pop(event.stream_id)
                task = asyncio.ensure_future(self._answer(event.stream_id, headers, bytes(body)))
                self.answering.add(task)
                task.add_done_callback(self.answering.discard)
            elif isinstance(event, StreamReset):
                self.streams.pop(event.stream_id, None)
            elif isinstance(event, ConnectionTerminated) and self.transport is not None:
                self.transport.close()
        self._flush()

    async def _answer(self, stream_id: int, headers: dict[str, str], body: bytes) -> None:
        try:
            status, answer_headers, answer = await self.handler(headers, body)
        except Exception:
            log.exception("APNs stand-in: handler failed")
            status, answer_headers, answer = 500, {}, b'{"reason":"InternalServerError"}'
        response = [(":status", str(status)), *answer_headers.items()]
        if answer:
            response += [("content-type", "application/json"), ("content-length", str(len(answer)))]
        try:
            self.conn.send_headers(stream_id, response, end_stream=not answer)
            if answer:
                self.conn.send_data(stream_id, answer, end_stream=True)
        except H2Error:  # the client went away meanwhile
            return
        self._flush()

    def _flush(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(self.conn.data_to_send())


def tls_context(certfile: str, keyfile: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certfile, keyfile)
    context.set_alpn_protocols(["h2"])
    return context


async def serve_h2(handler: Handler, *, host: str, port: int, context: ssl.SSLContext) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: _Protocol(handler), host, port, ssl=context)
