"""Markets: where the shop sells — countries sharing a currency, and whether prices there include tax
(docs/markets.md).

The markets are a handful of rows that change only with a migration (a new market is a release), so each
process reads them once at start-up (`app.state.markets`) and a request resolves its `?country=` without
a statement. The read model keeps one document per product and market (`browsing.py`); a write that
rebuilds documents reads the markets in its own transaction, so it always builds for those in the
database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.platform.errors import UnprocessableEntity
from mercato.services.catalog import repository as repo
from mercato.services.catalog.models import Market
from mercato.services.catalog.schemas import MarketOut, MarketRef


@dataclass(frozen=True)
class Markets:
    """Every market, in display order, with the default one and a country → market index."""

    all: tuple[Market, ...]

    @property
    def default(self) -> Market:
        return next(market for market in self.all if market.is_default)

    @property
    def currencies(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(market.currency for market in self.all))

    def for_country(self, country: str | None) -> Market:
        """The market of an ISO 3166 alpha-2 country; the default market for none. 422 if no market
        sells there."""
        if country is None:
            return self.default
        code = country.strip().upper()
        for market in self.all:
            if code in market.countries:
                return market
        sold = ", ".join(c for market in self.all for c in market.countries)
        raise UnprocessableEntity(
            f"The shop does not sell to {country!r}.",
            errors={"country": f"is not in a market; one of {sold}"},
        )


async def load(session: AsyncSession) -> Markets:
    return Markets(tuple(await repo.all_markets(session)))


def market_out(market: Market) -> MarketOut:
    return MarketOut(
        id=market.id,
        name=market.name,
        currency=market.currency,
        countries=list(market.countries),
        prices_include_tax=market.prices_include_tax,
        default=market.is_default,
    )


def market_ref(market: Market) -> MarketRef:
    return MarketRef(id=market.id, currency=market.currency, prices_include_tax=market.prices_include_tax)


def markets_out(markets: Markets) -> Sequence[MarketOut]:
    return [market_out(market) for market in markets.all]


Country = Annotated[
    str | None,
    Query(
        pattern=r"^[A-Za-z]{2}$",
        description="ISO 3166-1 alpha-2 country the shopper buys from: prices are in its market's currency "
        "(`GET /api/v1/markets`). None: the default market.",
        examples=["DE"],
    ),
]


def _market(request: Request, country: Country = None) -> Market:
    markets: Markets = request.app.state.markets
    return markets.for_country(country)


CountryMarket = Annotated[Market, Depends(_market)]
"""The market of the request's `?country=` (422 if no market sells there)."""
