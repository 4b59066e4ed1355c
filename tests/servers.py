"""An application served over real TCP inside the test's event loop (uvicorn, a port the kernel picks),
for a service that calls another one: its client then speaks HTTP to a socket, as deployed."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import uvicorn
from fastapi import FastAPI
from moto.server import ThreadedMotoServer


@asynccontextmanager
async def served(app: FastAPI, port: int = 0) -> AsyncIterator[str]:
    """The base URL of `app` listening on 127.0.0.1 (on `port`, or one the kernel picks). Its lifespan
    stays with the caller."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None, access_log=False)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises what stopped it
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@contextmanager
def s3_server() -> Iterator[str]:
    """An S3-compatible server on loopback (moto's); boto3 speaks real S3 HTTP to it."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def free_port() -> int:
    """A port the kernel just handed out and took back: nothing listens on it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def closed_port_url() -> str:
    """A URL where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"
