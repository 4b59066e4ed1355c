"""The shopper's promotion codes on the cart (docs/promotions.md): up to five, each weighed at every quote
(applied, or shown rejected with its reason). A code that does not exist is refused when entered and not
kept; one that exists is kept even if it does not apply yet (the cart may change so that it does)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.platform.errors import NotFound, UnprocessableEntity
from mercato.services.orders.cart import cart
from mercato.services.orders.deps import Deps, now
from mercato.services.orders.identity import Buyer, cart_to_write, merge_guest_cart
from mercato.services.orders.models import Cart
from mercato.services.orders.promotions import repository as repo
from mercato.services.orders.promotions.offers import MAX_CODES, normalise, unknown
from mercato.services.orders.schemas import CartOut


async def add_code(deps: Deps, buyer: Buyer, code: str) -> CartOut:
    """Keep `code` on the cart (again: unchanged) and answer the cart quoted with it."""
    code = normalise(code)
    await merge_guest_cart(deps, buyer)
    async with deps.db.read_one() as connection:
        known = await repo.codes(connection, [code], None)
    if not known:
        refusal = unknown(code)
        raise UnprocessableEntity(
            refusal.message, slug=refusal.reason, errors={"code": "is not a known code"}
        )
    async with deps.db.unit_of_work() as session:
        found = await _locked(session, buyer)
        codes = list(found.codes or [])
        if code not in codes:
            if len(codes) >= MAX_CODES:
                raise UnprocessableEntity(
                    f"A cart holds at most {MAX_CODES} codes: remove one to add {code}.",
                    errors={"code": f"at most {MAX_CODES} codes per cart"},
                )
            found.codes, found.updated_at = [*codes, code], now()
    return await cart(deps, buyer)


async def remove_code(deps: Deps, buyer: Buyer, code: str) -> CartOut:
    code = normalise(code)
    await merge_guest_cart(deps, buyer)
    async with deps.db.unit_of_work() as session:
        found = await _locked(session, buyer)
        codes = list(found.codes or [])
        if code not in codes:
            raise NotFound(f"The code {code} is not on your cart.")
        found.codes, found.updated_at = [c for c in codes if c != code], now()
    return await cart(deps, buyer)


async def _locked(session: AsyncSession, buyer: Buyer) -> Cart:
    """The buyer's cart, its row held until commit and its codes read again under the lock: two codes
    entered at once (two tabs, a double tap) both stay (PostgreSQL; SQLite serialises writers anyway)."""
    found = await cart_to_write(session, buyer)
    await session.refresh(found, ["codes"], with_for_update=True)
    return found
