"""`mercato bench sign-in`: can a shopper still sign in while others flood sign-in with wrong passwords?

The flood offers wrong-password sign-ins at `rate` per second (open loop: one request every 1/rate s,
whatever the answers), each for another random account, from `addresses` distinct client addresses
(127.0.0.10, 127.0.0.11, …: any 127.x address is this machine, and the gateway keys its per-address
bucket on the connection's address). Meanwhile shoppers sign in with the right password, one every
half second, each from an address of their own (127.0.1.1, 127.0.1.2, …: different people). Reported:
the flood's answers, and the shoppers' sign-ins (answers, latency percentiles of the successes, how
many succeeded within a second, at the first try).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

import httpx
from rich.console import Console
from rich.table import Table

from mercato.bench.checkout import percentile
from mercato.topology import Topology

PASSWORD = "bench mark password 1"  # noqa: S105 - a throwaway benchmark account
SHOPPER_ADDRESS = "127.0.0.3"  # registers the account


def _shopper_address(n: int) -> str:
    return f"127.0.{1 + n // 250}.{1 + n % 250}"


@dataclass
class Result:
    flood: dict[int, int] = field(default_factory=dict)
    shopper: dict[int, int] = field(default_factory=dict)
    shopper_ms: list[float] = field(default_factory=list)  # successful sign-ins
    elapsed_s: float = 0.0


def _client(topology: Topology, address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=topology.gateway_url, transport=transport, timeout=30)


async def run_sign_in_bench(
    *, rate: float, duration_s: float, addresses: int, topology: Topology, console: Console
) -> Result:
    result = Result()
    email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
    attackers = [_client(topology, f"127.0.0.{10 + i}") for i in range(addresses)]
    async with _client(topology, SHOPPER_ADDRESS) as shopper:
        registered = await shopper.post(
            "/api/v1/customers", json={"email": email, "password": PASSWORD, "name": "Bench Shopper"}
        )
        if registered.status_code != 201:
            raise RuntimeError(f"could not register the shopper: {registered.status_code} {registered.text}")
        await asyncio.sleep(1)  # a moment for the shopper's address bucket to refill a token

        async def guess(client: httpx.AsyncClient) -> None:
            body = {"email": f"victim-{uuid.uuid4().hex[:8]}@example.com", "password": "wrong password!"}
            try:
                status = (await client.post("/api/v1/auth/token", json=body)).status_code
            except httpx.HTTPError:
                status = 0
            result.flood[status] = result.flood.get(status, 0) + 1

        async def sign_in(n: int) -> None:
            async with _client(topology, _shopper_address(n)) as someone:
                started = time.perf_counter()
                response = await someone.post(
                    "/api/v1/auth/token", json={"email": email, "password": PASSWORD}
                )
            result.shopper[response.status_code] = result.shopper.get(response.status_code, 0) + 1
            if response.status_code == 200:
                result.shopper_ms.append((time.perf_counter() - started) * 1000)

        console.print(
            f"flooding sign-in at {rate:g}/s from {addresses} address(es) for {duration_s:g} s; "
            "a shopper signs in every 0.5 s, each from an address of their own"
        )
        tasks: list[asyncio.Task] = []
        started = time.perf_counter()
        sent = shoppers = 0
        next_shopper = started + 0.5
        while (now := time.perf_counter()) - started < duration_s:
            if now >= next_shopper:
                tasks.append(asyncio.create_task(sign_in(shoppers)))
                shoppers += 1
                next_shopper += 0.5
            due = int((now - started) * rate)
            while sent < due:
                tasks.append(asyncio.create_task(guess(attackers[sent % addresses])))
                sent += 1
            await asyncio.sleep(0.005)
        await asyncio.gather(*tasks)
        result.elapsed_s = time.perf_counter() - started
    for client in attackers:
        await client.aclose()
    return result


def print_result(result: Result, *, rate: float, addresses: int, console: Console) -> None:
    table = Table(title="mercato bench sign-in", show_header=False)
    table.add_row(
        "flood", f"{rate:g}/s wrong passwords from {addresses} address(es), {result.elapsed_s:.1f} s"
    )
    table.add_row("flood answers", ", ".join(f"{code}: {n}" for code, n in sorted(result.flood.items())))
    table.add_row("shopper answers", ", ".join(f"{code}: {n}" for code, n in sorted(result.shopper.items())))
    ms = result.shopper_ms
    for p in (50, 95):
        table.add_row(f"shopper sign-in p{p}", f"{percentile(ms, p):.0f} ms")
    table.add_row("shopper sign-in max", f"{max(ms):.0f} ms" if ms else "-")
    total = sum(result.shopper.values())
    table.add_row("shopper sign-ins under 1 s", f"{sum(1 for m in ms if m < 1000)} of {total}")
    console.print(table)
