"""`mercato bench storefront`: the product page as a shopper gets it — time to first byte and largest
contentful paint.

Against a running platform (`make up`), one request or page load at a time (an unloaded shop):

* TTFB over a warm keep-alive connection (httpx): `GET /p/{slug}` on the storefront, timed until the
  response headers and until the first body byte. For the breakdown, the same for what the page waits
  on: the gateway's `GET /api/v1/products/{slug}` and catalog's own port behind it.
* In Chromium (Debian's, headless, driven by Playwright): TTFB from the Navigation Timing API
  (`responseStart - requestStart`) and LCP (the last `largest-contentful-paint` entry's `startTime`,
  observed from the document's start by an init script). Cold: a new browser context per load (empty
  cache, new connection, no cookies, a new renderer process: a first visit). Warm: one context and one
  tab that has loaded every page once before, navigating from page to page (a shopper browsing).

Playwright is a development dependency (`pip install -e '.[dev]'`), imported only when this runs.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mercato.bench.checkout import percentile
from mercato.topology import Topology

CHROMIUM = "/usr/bin/chromium"  # Debian's chromium package (`make browser`)
VIEWPORT = {"width": 1280, "height": 900}
WARMUP_REQUESTS = 20  # per target, before timing: connections open, templates compiled
# Directions for the product page, locally (docs/performance.md).
TTFB_DIRECTION_MS = 50.0
LCP_DIRECTION_MS = 1000.0

# Runs in every document before its own scripts: records the latest LCP candidate as it is reported.
LCP_OBSERVER = """
(() => {
  window.__mercatoLcp = null;
  window.__mercatoLcpCount = 0;
  try {
    new PerformanceObserver((list) => {
      const entries = list.getEntries();
      const last = entries[entries.length - 1];
      window.__mercatoLcpCount += entries.length;
      window.__mercatoLcp = {
        startTime: last.startTime,
        size: last.size,
        url: last.url || "",
        element: last.element ? last.element.tagName.toLowerCase() : "",
      };
    }).observe({ type: "largest-contentful-paint", buffered: true });
  } catch (error) {
    window.__mercatoLcpError = String(error);
  }
})();
"""
# After `load`: Chromium reports a paint's LCP entry a little later, in a task of its own. So wait for a
# first entry, then until no new candidate has come for 200 ms (5 s at most). Waiting here does not
# change the figure: an entry's startTime counts from the start of the navigation.
READ_TIMINGS = """
async () => {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  const deadline = performance.now() + 5000;
  while (!window.__mercatoLcp && performance.now() < deadline) await sleep(10);
  let seen = -1;
  while (seen !== window.__mercatoLcpCount && performance.now() < deadline) {
    seen = window.__mercatoLcpCount;
    await sleep(200);
  }
  const nav = performance.getEntriesByType("navigation")[0];
  return {
    lcp: window.__mercatoLcp,
    lcpError: window.__mercatoLcpError || null,
    requestStart: nav.requestStart,
    responseStart: nav.responseStart,
  };
}
"""


@dataclass
class Series:
    """Milliseconds of one measure, one value per request or page load."""

    name: str
    direction_ms: float | None = None
    values: list[float] = field(default_factory=list)
    headers: list[float] = field(default_factory=list)  # httpx only: until the response headers


@dataclass
class Result:
    storefront_url: str
    slugs: int = 0
    series: list[Series] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)  # "target HTTP status" → count
    page_bytes: int = 0
    lcp_elements: Counter[str] = field(default_factory=Counter)
    missing_lcp: int = 0


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


async def _slugs(client: httpx.AsyncClient, gateway: str, wanted: int) -> list[str]:
    """Up to `wanted` product slugs, in the catalog's own order, through the public API."""
    slugs: list[str] = []
    cursor: str | None = None
    while len(slugs) < wanted:
        params: dict[str, str | int] = {"limit": min(100, wanted - len(slugs))}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(f"{gateway}/api/v1/products", params=params)
        response.raise_for_status()
        page = response.json()
        slugs += [item["slug"] for item in page["data"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return slugs


async def _time_requests(
    series: Series, urls: list[str], count: int, result: Result, progress: Progress
) -> None:
    """`count` GETs one after another over one warm keep-alive connection: milliseconds until the
    response headers, and until the first body byte (the body is then read to the end, so the
    connection is reused)."""
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        for i in range(WARMUP_REQUESTS):
            (await client.get(urls[i % len(urls)])).raise_for_status()
        task = progress.add_task(series.name, total=count)
        for i in range(count):
            started = time.perf_counter()
            async with client.stream("GET", urls[i % len(urls)]) as response:
                headers_at = time.perf_counter()
                first_at = None
                size = 0
                async for chunk in response.aiter_raw():
                    if first_at is None and chunk:
                        first_at = time.perf_counter()
                    size += len(chunk)
            series.headers.append((headers_at - started) * 1000)
            series.values.append(((first_at or headers_at) - started) * 1000)
            result.statuses[f"{series.name.strip()} HTTP {response.status_code}"] += 1
            if series.direction_ms is not None:  # the page itself
                result.page_bytes = max(result.page_bytes, size)
            progress.advance(task)


async def _load(page: Any, url: str, result: Result, ttfb: Series, lcp: Series) -> None:
    response = await page.goto(url, wait_until="load")
    result.statuses[f"Chromium HTTP {response.status if response else '-'}"] += 1
    timings = await page.evaluate(READ_TIMINGS)
    if timings["lcpError"]:
        raise RuntimeError(f"this Chromium cannot observe LCP: {timings['lcpError']}")
    ttfb.values.append(timings["responseStart"] - timings["requestStart"])
    entry = timings["lcp"]
    if not entry:
        result.missing_lcp += 1
        return
    lcp.values.append(entry["startTime"])
    kind = "image" if entry["url"] else "text"
    result.lcp_elements[f"<{entry['element']}> {kind}"] += 1


async def _browser_loads(
    storefront: str, slugs: list[str], pages: int, result: Result, progress: Progress
) -> list[Series]:
    from playwright.async_api import async_playwright

    urls = [f"{storefront}/p/{slug}" for slug in slugs]
    cold_ttfb = Series("TTFB in Chromium, cold", TTFB_DIRECTION_MS)
    warm_ttfb = Series("TTFB in Chromium, warm", TTFB_DIRECTION_MS)
    cold_lcp = Series("LCP in Chromium, cold", LCP_DIRECTION_MS)
    warm_lcp = Series("LCP in Chromium, warm", LCP_DIRECTION_MS)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            # One unmeasured load first: the browser's own start-up (renderer, fonts) is not the page's.
            context = await browser.new_context(viewport=VIEWPORT)
            await (await context.new_page()).goto(urls[0], wait_until="load")
            await context.close()

            cold = progress.add_task("Chromium, cold cache (a new context each)", total=pages)
            for i in range(pages):
                context = await browser.new_context(viewport=VIEWPORT)
                await context.add_init_script(LCP_OBSERVER)
                try:
                    await _load(await context.new_page(), urls[i % len(urls)], result, cold_ttfb, cold_lcp)
                finally:
                    await context.close()
                progress.advance(cold)

            context = await browser.new_context(viewport=VIEWPORT)
            await context.add_init_script(LCP_OBSERVER)
            try:
                # A shopper browsing in one tab: every page seen once before, then each visited again.
                page = await context.new_page()
                priming = progress.add_task("Chromium, visiting each page once", total=min(pages, len(urls)))
                for url in urls[:pages]:
                    await page.goto(url, wait_until="load")
                    progress.advance(priming)
                warm = progress.add_task("Chromium, warm cache (one context, one tab)", total=pages)
                for i in range(pages):
                    await _load(page, urls[i % len(urls)], result, warm_ttfb, warm_lcp)
                    progress.advance(warm)
            finally:
                await context.close()
        finally:
            await browser.close()
    return [cold_ttfb, warm_ttfb, cold_lcp, warm_lcp]


async def run_storefront_bench(
    *, pages: int, requests: int, storefront_url: str | None, topology: Topology, console: Console
) -> Result:
    storefront = (storefront_url or topology.storefront_url).rstrip("/")
    gateway, catalog = topology.gateway_url, topology.service("catalog").url
    result = Result(storefront_url=storefront)
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        slugs = await _slugs(client, gateway, wanted=max(1, min(pages, 100)))
    if not slugs:
        raise RuntimeError(f"the catalog at {gateway} has no products: seed it (`mercato seed`)")
    result.slugs = len(slugs)
    # The page, then what it waits on: the gateway's product API, and catalog's own port behind Envoy.
    targets = (
        (Series("TTFB storefront /p/{slug}", TTFB_DIRECTION_MS), f"{storefront}/p/"),
        (Series("  gateway /api/v1/products/{slug}"), f"{gateway}/api/v1/products/"),
        (Series("  catalog direct, same path"), f"{catalog}/api/v1/products/"),
    )
    with _progress(console) as progress:
        for series, prefix in targets:
            await _time_requests(series, [prefix + slug for slug in slugs], requests, result, progress)
            result.series.append(series)
        result.series += await _browser_loads(storefront, slugs, pages, result, progress)
    return result


def _verdict(series: Series) -> str:
    if series.direction_ms is None or not series.values:
        return ""
    limit = f"≤ {series.direction_ms:.0f} ms"
    met = [p for p in (50, 95, 99) if percentile(series.values, p) <= series.direction_ms]
    if len(met) == 3:
        return f"{limit}: met (p99)"
    return f"{limit}: met at p{met[-1]} only" if met else f"{limit}: missed"


def print_result(result: Result, console: Console) -> None:
    table = Table(
        title=f"Product page {result.storefront_url}/p/{{slug}}, {result.slugs} products, one at a time",
        caption=(
            f"HTML {result.page_bytes / 1024:.1f} KiB. LCP element: "
            + (", ".join(f"{k} ({n})" for k, n in result.lcp_elements.most_common()) or "-")
            + (f"; {result.missing_lcp} loads reported no LCP" if result.missing_lcp else "")
        ),
    )
    table.add_column("measure")
    for column in ("n", "p50", "p95", "p99", "max"):
        table.add_column(column, justify="right")
    table.add_column("direction (local)")
    for series in result.series:
        values = series.values
        table.add_row(
            series.name,
            str(len(values)),
            *(f"{percentile(values, p):.1f} ms" for p in (50, 95, 99)),
            f"{max(values):.1f} ms" if values else "-",
            _verdict(series),
        )
    console.print(table)
    headers = ", ".join(
        f"{label} {percentile(series.headers, 50):.1f} ms"
        for label, series in zip(("storefront", "gateway", "catalog"), result.series, strict=False)
        if series.headers
    )
    console.print(
        f"httpx: first body byte over a warm keep-alive connection (headers at p50: {headers}). "
        "Chromium: Navigation Timing responseStart - requestStart; LCP: the last entry's startTime."
    )
    console.print("Responses: " + ", ".join(f"{what}: {n}" for what, n in sorted(result.statuses.items())))
