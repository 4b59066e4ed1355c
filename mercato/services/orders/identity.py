"""Whose cart a request means: the signed-in shopper's, a guest's (named by its cart token), or — when a
shopper who just signed in still sends a guest cart's token — the account's, with the guest's cart
merged into it first (docs/guest-checkout.md).

A cart token is shown to its client once (POST /api/v1/carts) and only its SHA-256 is stored: a 256-bit
random token needs no slow hash, and a leaked database names no usable cart.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.platform.auth import Shopper
from mercato.platform.errors import Unauthorized
from mercato.platform.ids import new_id
from mercato.services.orders import repository as repo
from mercato.services.orders.deps import Deps, now
from mercato.services.orders.models import Cart, CartLine
from mercato.services.orders.promotions.offers import MAX_CODES

UNKNOWN_CART = "This cart does not exist (any more): start a new one with POST /api/v1/carts, or sign in."


def merged_codes(account: list[str] | None, guest: list[str] | None) -> list[str] | None:
    """A guest cart's promotion codes joining the account's: the account's first, at most five."""
    codes = list(account or [])
    codes += [c for c in guest or [] if c not in codes]
    return codes[:MAX_CODES] or None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Buyer:
    """Who a cart or checkout request acts for, as the gateway verified it (`shopper`) and as the client
    sent it (`cart_token`, the X-Cart-Token header). At least one of the two is set."""

    shopper: Shopper | None
    cart_token: str | None

    @property
    def customer_id(self) -> str | None:
        return self.shopper.id if self.shopper else None

    @property
    def is_guest(self) -> bool:
        return self.shopper is None

    def owner(self) -> dict[str, str | None]:
        """The repository's key for this buyer's cart: the account's, else the guest token's."""
        if self.shopper:
            return {"customer_id": self.shopper.id, "token_hash": None}
        return {"customer_id": None, "token_hash": token_hash(self.cart_token or "")}


async def new_guest_cart(deps: Deps) -> tuple[str, str]:
    """A new, empty guest cart: (its token, shown this once; its id)."""
    token, cart_id, at = secrets.token_urlsafe(32), new_id("cart"), now()
    async with deps.db.unit_of_work() as session:
        await repo.add_cart(
            session, Cart(id=cart_id, token_hash=token_hash(token), created_at=at, updated_at=at)
        )
    return token, cart_id


async def read_cart(session: AsyncSession, buyer: Buyer) -> tuple[Cart | None, list[CartLine]]:
    """The buyer's cart and its lines (one statement). A guest's token must name a cart (else it is a
    credential that is not valid: 401); an account that never had a cart has none yet (None)."""
    cart, lines = await repo.cart_with_lines(session, **buyer.owner())
    if cart is None and buyer.is_guest:
        raise Unauthorized(UNKNOWN_CART)
    return cart, lines


async def cart_to_write(session: AsyncSession, buyer: Buyer) -> Cart:
    """The buyer's cart, inside a unit of work that will change it; an account's is made on first use."""
    if (cart := await repo.cart(session, **buyer.owner())) is not None:
        return cart
    if buyer.is_guest:
        raise Unauthorized(UNKNOWN_CART)
    at = now()
    await repo.add_cart(
        session, Cart(id=new_id("cart"), customer_id=buyer.customer_id, created_at=at, updated_at=at)
    )
    made = await repo.cart(session, **buyer.owner())  # ours, or a concurrent request's
    assert made is not None
    return made


async def merge_guest_cart(deps: Deps, buyer: Buyer) -> None:
    """A signed-in shopper sending a guest cart's token: the guest's lines move into the account's cart
    (quantities of a SKU in both are added, capped at the line limit), so the item added before signing
    in is not lost. Only free lines move: a line a guest checkout holds right now (the guest paying in
    another tab) stays with that checkout, and a line this merge took is no longer there for the
    checkout to claim, which then refuses without charging. One order, one charge, either way."""
    if buyer.shopper is None or buyer.cart_token is None:
        return
    async with deps.db.unit_of_work() as session:
        guest = await repo.cart(session, customer_id=None, token_hash=token_hash(buyer.cart_token))
        if guest is None:
            return  # merged and gone, or never a cart: the account's cart is all there is
        lines = await repo.take_free_lines(session, guest.id)
        if not lines and not guest.codes:
            return
        account = await cart_to_write(session, buyer)
        if guest.codes:  # the promotion codes entered as a guest come along (at most five in all)
            account.codes, guest.codes = merged_codes(account.codes, guest.codes), None
        for sku, quantity, added_at in lines:
            await repo.add_to_cart_line(
                session, account.id, sku, quantity, added_at, cap=deps.settings.max_line_quantity
            )
