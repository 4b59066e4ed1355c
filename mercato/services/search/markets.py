"""Which currency a search is in: `?currency=` as given, or the currency of `?country=`'s market, or of
the default market.

The markets come from catalog (`clients.fetch_markets`), fetched at start and every
`markets_refresh_seconds` after, and kept in `<index_dir>/markets.json`, so a restart while catalog is
down still knows them. Until they have ever been known, a search naming a country is answered 503 (with
Retry-After) and one naming nothing searches in `fallback_currency` (the seeded default market's).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import asdict
from pathlib import Path

import orjson

from mercato.platform.clients import ServiceClient
from mercato.platform.errors import BadRequest, ServiceUnavailable, UnprocessableEntity
from mercato.services.search.clients import Market, fetch_markets

log = logging.getLogger("mercato.search.markets")


class Markets:
    def __init__(self, cache_file: Path, *, fallback_currency: str) -> None:
        self.cache_file = cache_file
        self.fallback_currency = fallback_currency
        self._by_country: dict[str, Market] = {}
        self._default: Market | None = None
        # None kept yet (or unreadable): known after the first fetch.
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            self._use([Market.parse(item) for item in orjson.loads(cache_file.read_bytes())])

    @property
    def known(self) -> bool:
        return bool(self._by_country)

    def _use(self, markets: list[Market]) -> None:
        self._by_country = {country: m for m in markets for country in m.countries}
        self._default = next((m for m in markets if m.default), markets[0] if markets else None)

    def currency(self, *, country: str | None, currency: str | None) -> str:
        """The currency a search is in; BadRequest for both given, 422 for a country in no market, 503 while
        no market has ever been known and a country is given."""
        if country and currency:
            raise BadRequest("Give a country or a currency, not both.", errors={"currency": "or country"})
        if currency:
            return currency.upper()
        if country:
            country = country.upper()
            if not self.known:
                raise ServiceUnavailable(
                    "The markets are not known yet; try again shortly.", headers={"Retry-After": "5"}
                )
            market = self._by_country.get(country)
            if market is None:
                raise UnprocessableEntity(
                    f"{country} is in no market we sell to.", errors={"country": "not in any market"}
                )
            return market.currency
        return self._default.currency if self._default is not None else self.fallback_currency

    async def refresh(self, catalog: ServiceClient) -> None:
        markets = await fetch_markets(catalog)
        if not markets:
            return
        self._use(markets)
        tmp = self.cache_file.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps([asdict(m) for m in markets]))
        os.replace(tmp, self.cache_file)

    async def keep_fresh(self, catalog: ServiceClient, every_seconds: float) -> None:
        """Fetch now and every `every_seconds`; while catalog does not answer, retry sooner (at most every
        second) and keep what is known."""
        retry = 1.0
        while True:
            try:
                await self.refresh(catalog)
            except Exception as exc:  # catalog down or answering nonsense: keep what is known
                log.warning("markets not refreshed: %s", exc)
                await asyncio.sleep(min(retry, every_seconds))
                retry *= 2
                continue
            retry = 1.0
            await asyncio.sleep(every_seconds)
