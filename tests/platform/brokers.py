"""Real brokers for the event tests: a NATS JetStream server from pip, started per test, and the
machine's RabbitMQ (when MERCATO_TEST_RABBITMQ_URL points at one; CI sets it), isolated per test by a
namespace of its own and cleaned up afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aio_pika

from mercato.platform.broker import BrokerSettings

NATS_SERVER = Path(sys.executable).parent / "nats-server"
RABBITMQ_URL = os.environ.get("MERCATO_TEST_RABBITMQ_URL")  # e.g. amqp://guest:guest@127.0.0.1:5672/
BROKERS = ["nats", *(["rabbitmq"] if RABBITMQ_URL else [])]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NatsServer:
    def __init__(self, store: Path) -> None:
        self.port, self.store, self.process = free_port(), store, None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def settings_for(kind: str, nats: NatsServer | None) -> BrokerSettings:
    namespace = f"t{uuid.uuid4().hex[:10]}"
    if kind == "nats":
        assert nats is not None
        return BrokerSettings(url=nats.url, namespace=namespace)
    return BrokerSettings(url=RABBITMQ_URL, namespace=namespace)


async def clean_rabbitmq(namespace: str, queue_names: list[str]) -> None:
    connection = await aio_pika.connect(RABBITMQ_URL)
    try:
        channel = await connection.channel()
        for name in queue_names:
            await channel.queue_delete(name)
        await channel.exchange_delete(f"{namespace}.events")
    finally:
        await connection.close()


class TcpProxy:
    """A TCP forwarder in a thread of its own, between services and a broker we must not stop (the
    machine's RabbitMQ): `cut()` drops every connection and refuses new ones — to the services, the
    broker is down — and `restore()` lets them through again."""

    def __init__(self, target_port: int, *, port: int | None = None, host: str = "127.0.0.1") -> None:
        """`host`: where it listens; an address not (yet) on this machine is fine (IP_FREEBIND), e.g. a
        container network's gateway before its bridge is up."""
        import asyncio
        import threading

        self.target_port = target_port
        self.host = host
        self.port = port or free_port()
        self.loop = asyncio.new_event_loop()
        self.server = None
        self.writers: set = set()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.restore()

    def _call(self, coroutine):
        import asyncio

        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    async def _pipe(self, reader, writer) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def _handle(self, reader, writer) -> None:
        import asyncio

        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, upstream_writer}
        await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))

    async def _start(self) -> None:
        import asyncio

        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.setsockopt(socket.SOL_IP, getattr(socket, "IP_FREEBIND", 15), 1)
        listener.bind((self.host, self.port))
        self.server = await asyncio.start_server(self._handle, sock=listener)

    async def _stop(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    def restore(self) -> None:
        self._call(self._start())

    def cut(self) -> None:
        self._call(self._stop())
