"""`mercato bench mobile` against the real platform: every screen measured on both APIs, the calls
counted as documented, and what a phone receives smaller through the mobile API where trimming and
compression apply."""

from __future__ import annotations

import asyncio
import time

import httpx
from rich.console import Console

from mercato.bench.mobile import print_results, run_mobile_bench


def test_each_screen_is_measured_on_both_apis(platform):
    deadline = time.monotonic() + 60  # search first works through the seed's events
    while httpx.get(f"{platform.gateway}/api/v1/search").json()["total"] < 228:
        assert time.monotonic() < deadline, "the seeded catalog was not indexed"
        time.sleep(0.2)
    console = Console(record=True, width=160)
    results = asyncio.run(run_mobile_bench(topology=platform.topology, console=console))
    calls = {r.screen.name: (r.mobile.calls, r.web.calls) for r in results}
    assert calls == {
        "home": (1, 2),
        "listing": (1, 1),
        "search": (1, 1),
        "product": (1, 1),
        "cart": (1, 1),
        "checkout": (1, 3),
        "deliver to": (1, 2),
        "ship by": (1, 1),
        "orders": (1, 1),
        "order detail": (1, 1),
        "remove from cart": (1, 2),
    }
    by_name = {r.screen.name: r for r in results}
    for name in ("home", "listing", "search", "product"):
        screen = by_name[name]
        assert screen.mobile.wire < screen.mobile.plain < screen.web.plain, name  # compressed, trimmed
        assert screen.mobile.wire < screen.mobile_gzip.wire * 1.2, name
    print_results(results, console)
    assert "all screens" in console.export_text()
