"""Checkout, the synchronous path.

Checkout never holds a database transaction open across a call to another service. It reserves the
cart's stock at catalog, whose answer prices what it holds (one call), then writes the order as
`pending_payment` — the durable record that a checkout is in flight, holding the cart — then captures
payment, commits the reservation, and finally places the order together with its OrderPlaced event in
one transaction (settlement.py). Each failure compensates the steps before it (a reservation without a
pending order is released, or runs out by its TTL); if the process dies half-way, the reconciler
(recovery.py) finds the pending order and completes or compensates it, asking the other services (which
are all idempotent by order id) what really happened.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.contracts.money import Money
from mercato.platform.auth import SESSION_ENDED
from mercato.platform.clients import RemoteProblem
from mercato.platform.errors import (
    Conflict,
    PaymentRequired,
    Problem,
    ServiceUnavailable,
    Unauthorized,
    UnprocessableEntity,
)
from mercato.platform.ids import new_id
from mercato.platform.sessions import hold_customer, is_ended
from mercato.services.orders import repository as repo
from mercato.services.orders.cart import cart_buyer
from mercato.services.orders.clients import Priced
from mercato.services.orders.deps import CUSTOMER, Deps, now
from mercato.services.orders.domain import OrderState
from mercato.services.orders.guests.orders import email_index, guest_contact
from mercato.services.orders.history import load_view, order_view
from mercato.services.orders.identity import Buyer, merge_guest_cart, read_cart
from mercato.services.orders.links import order_url
from mercato.services.orders.models import Cart, Order, OrderLine, OrderStateChange
from mercato.services.orders.pricing.quote import Quote
from mercato.services.orders.promotions import repository as promotions_repo
from mercato.services.orders.promotions import usage
from mercato.services.orders.promotions.offers import BuyerId, CartOffers
from mercato.services.orders.promotions.offers import build as build_offers
from mercato.services.orders.promotions.rules import Offers
from mercato.services.orders.schemas import CheckoutIn, OrderOut
from mercato.services.orders.settings import OrdersSettings
from mercato.services.orders.settlement import abandon, fail, place, release
from mercato.services.orders.snapshot import delivery, order_figures, quote_for
from mercato.services.orders.snapshot import order_lines as snapshot_lines

log = logging.getLogger("mercato.orders")


def _fingerprint(body: CheckoutIn) -> str:
    return hashlib.sha256(orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)).hexdigest()


def _replayed_problem(order: Order) -> Problem:
    stored = order.failure or {}
    kinds: dict[int, type[Problem]] = {402: PaymentRequired, 409: Conflict, 422: UnprocessableEntity}
    problem = kinds.get(order.failure_status or 503, ServiceUnavailable)(
        stored.get("detail"), errors=stored.get("errors"), **(stored.get("extensions") or {})
    )
    if stored.get("slug"):
        problem.slug = stored["slug"]
    return problem


async def _replay(deps: Deps, order: Order, fingerprint: str) -> tuple[int, OrderOut]:
    if order.request_hash != fingerprint:
        raise Conflict(
            "This Idempotency-Key was already used for a different checkout.",
            errors={"Idempotency-Key": "was used for a different request"},
        )
    if order.state == OrderState.FAILED:
        raise _replayed_problem(order)
    view = await load_view(deps, order.id)
    return (202 if order.state == OrderState.PENDING_PAYMENT else 201), view


async def checkout(deps: Deps, buyer: Buyer, key: str, body: CheckoutIn) -> tuple[int, OrderOut]:
    """Returns (201, placed order), or (202, pending order) when the outcome is being finalised. A
    guest's order carries the signed link of its page (`order_url`)."""
    if buyer.is_guest and body.email is None:
        raise UnprocessableEntity(
            "An e-mail address is needed to check out without an account: the confirmation goes there.",
            errors={"email": "is required without an account"},
        )
    if body.payment_method is None and not body.gift_cards:
        raise UnprocessableEntity(
            "A payment method is needed (or gift cards that pay the whole total).",
            errors={"payment_method": "is required"},
        )
    status, view = await _checkout(deps, buyer, key, body)
    if buyer.is_guest:
        view.order_url = order_url(deps.settings, view.id)
    return status, view


async def _checkout(deps: Deps, buyer: Buyer, key: str, body: CheckoutIn) -> tuple[int, OrderOut]:
    fingerprint = _fingerprint(body)
    await merge_guest_cart(deps, buyer)
    async with deps.db.read() as session:
        cart, lines = await read_cart(session, buyer)
        holder = next((line.order_id for line in lines if line.order_id), None)
        free = cart is not None and bool(lines) and not holder
        found = await checkout_offers(deps, session, cart, buyer, body) if cart and free else None
    if cart is None or found is None:
        return await _without_a_free_cart(deps, buyer, cart, key, fingerprint, holder)
    offers, shown = found

    where = delivery(cart, body)

    # Reserve first, under the order's id: catalog holds the stock and prices what it holds in its
    # market, in one call; the quote (tax, shipping) is then computed here, from memory. Until the pending
    # order below commits, nothing is charged; if it never does, the reservation is released here, or
    # runs out by its TTL if this process dies.
    order_id = new_id("ord")
    priced = await _reserve(deps, order_id, {line.sku: line.quantity for line in lines}, where.country)
    try:
        quote = quote_for(deps.pricing.config, priced, lines, where, offers.offers)
        if len(quote.lines) != len(lines):  # catalog refuses those; never charge for a part of the cart
            raise Conflict("Some items are not sold in this market.", slug="not-sold-in-market")
        if shown is not None:
            await _as_shown(
                deps, cart, body, quote, quote_for(deps.pricing.config, priced, lines, where, shown)
            )
    except Problem:
        await release(deps, order_id)
        raise
    created_at = now()
    order_lines = snapshot_lines(order_id, quote, priced)
    order = Order(
        id=order_id,
        customer_id=buyer.customer_id,
        cart_id=cart.id,
        state=OrderState.PENDING_PAYMENT,
        **order_figures(quote, where),
        payment_method=body.payment_method or "",  # none: the gift cards pay it all
        idempotency_key=key,
        request_hash=fingerprint,
        refunded=0,
        created_at=created_at,
        updated_at=created_at,
        **guest_contact(deps.settings, body.email if buyer.is_guest else None),
    )
    try:
        existing = await _write_pending(deps, buyer, order, order_lines, quote, offers)
    except Problem as problem:
        await release(deps, order_id)
        if problem.slug == "promotion-unavailable":  # this process's counters are stale: read them again
            await deps.promotions.refresh(deps.db)
        raise
    if existing:  # a concurrent request with the same key got there first
        await release(deps, order_id)
        return await _replay(deps, existing, fingerprint)
    return await _complete(deps, order, order_lines, gift_cards=body.gift_cards)


async def _without_a_free_cart(
    deps: Deps, buyer: Buyer, cart: Cart | None, key: str, fingerprint: str, holder: str | None
) -> tuple[int, OrderOut]:
    """No cart to buy: a retry of a checkout that took it (the same Idempotency-Key), a cart held by
    another checkout, or an empty one. (A retry that finds a cart again — new items, or a failed first
    try — is recognised by its key when its pending order is written, and answered the same.)"""
    shopper = buyer.shopper
    async with deps.db.read() as session:
        if shopper and await is_ended(session, shopper.id, shopper.issued_at):
            raise Unauthorized(SESSION_ENDED)
        existing = await repo.order_by_key(
            session, customer_id=buyer.customer_id, cart_id=cart.id if cart else None, key=key
        )
    if existing:
        return await _replay(deps, existing, fingerprint)
    if holder:
        raise _checkout_in_progress(holder)
    raise UnprocessableEntity("Your cart is empty.", errors={"cart": "is empty"})


async def _reserve(deps: Deps, order_id: str, quantities: dict[str, int], country: str) -> Priced:
    try:
        return await deps.catalog.reserve(
            key=order_id, lines=quantities, ttl_seconds=deps.settings.reservation_ttl_seconds, country=country
        )
    except RemoteProblem as problem:
        if problem.status not in (409, 422):
            raise
        if problem.status == 422 and "country" in (problem.errors or {}):
            raise UnprocessableEntity(
                f"The shop does not sell to {country}.",
                errors={"shipping_address.country": "is not a country the shop sells to"},
            ) from None
        if problem.slug == "not-sold-in-market":
            raise Conflict(
                f"Some items are not sold in {country}.",
                slug="not-sold-in-market",
                unavailable=problem.body.get("unavailable", []),
            ) from None
        raise Conflict(
            "Some items sold out while you were checking out.",
            slug="out-of-stock",
            unavailable=problem.body.get("unavailable", []),
        ) from None
    except ServiceUnavailable:
        # It may have reserved before failing: the reservation runs out by its TTL (or is released now).
        await release(deps, order_id)
        raise ServiceUnavailable(
            "Checkout could not complete: the catalog did not answer. You have not been charged; please "
            "try again."
        ) from None


async def _write_pending(
    deps: Deps, buyer: Buyer, order: Order, lines: list[OrderLine], quote: Quote, offers: CartOffers
) -> Order | None:
    """The durable record that this checkout is in flight, holding the cart and a use of each promotion it
    applied (409 promotion-unavailable if one is gone); or the order another request with the same
    Idempotency-Key wrote first."""
    async with deps.db.unit_of_work() as session:
        # The order holds personal data (the shipping address): it is written only while the session is
        # alive, serialised with the handling of an erasure (consumers.py), which erases every order
        # written before it; nothing is charged before this commits.
        if shopper := buyer.shopper:
            await hold_customer(session, shopper.id)
            if await is_ended(session, shopper.id, shopper.issued_at):
                raise Unauthorized(SESSION_ENDED)
        change = OrderStateChange(
            order_id=order.id,
            from_state=None,
            to_state=OrderState.PENDING_PAYMENT,
            reason="checkout",
            at=order.created_at,
            actor=CUSTOMER.kind,
        )
        if not await repo.add_order(session, order, lines, change):
            return await repo.order_by_key(
                session, customer_id=order.customer_id, cart_id=order.cart_id, key=order.idempotency_key
            )
        await _hold_cart(session, order, lines)
        await usage.reserve(session, order, quote.discounts, offers, order.created_at)
    return None


async def _hold_cart(session: AsyncSession, order: Order, lines: list[OrderLine]) -> None:
    """A cart is checked out at most once: this checkout holds its lines until it is placed (they
    leave the cart) or fails (they are free again). A second tab's checkout, racing this one with its
    own Idempotency-Key, finds them held and is refused (the order insert rolls back with it)."""
    assert order.cart_id is not None
    held = await repo.claim_cart(session, order.cart_id, order.id)
    if held == {line.sku: line.quantity for line in lines}:
        return
    if (holder := await repo.cart_holder(session, order.cart_id)) and holder != order.id:
        raise _checkout_in_progress(holder)
    raise Conflict(
        "Your cart changed while you were checking out (perhaps it was just ordered in another window). "
        "Please review your cart and your orders; you have not been charged for this attempt.",
        slug="cart-changed",
    )


async def checkout_offers(
    deps: Deps, session: AsyncSession, cart: Cart, buyer: Buyer, body: CheckoutIn
) -> tuple[CartOffers, Offers | None]:
    """The promotions this checkout's quote weighs, the buyer known now (a guest by e-mail). A code the
    cart showed applied but now used up refuses the checkout (409, nothing charged) rather than charging
    the total without it. For a guest the cart did not know by this e-mail address yet, also the offers
    the cart was quoted with (see `_as_shown`)."""
    email = body.email if buyer.is_guest else None
    who = BuyerId(
        customer_id=buyer.customer_id, email_index=email_index(deps.settings, email) if email else None
    )
    offers = await build_offers(deps.db, deps.promotions, cart.codes or [], who, now(), executor=session)
    if refused := usage.refused_for_usage(offers):
        raise usage.unavailable(
            code=refused.code,
            name=refused.promotion_name or "",
            already_used=refused.reason == "already-used",
        )
    shown = None
    if who.email_index and cart_buyer(deps, cart) != who and _weighs_buyer(deps, offers):
        quoted = await build_offers(
            deps.db, deps.promotions, cart.codes or [], cart_buyer(deps, cart), now(), executor=session
        )
        shown = quoted.offers
    return offers, shown


def _weighs_buyer(deps: Deps, offers: CartOffers) -> bool:
    """Whether a promotion in play depends on who buys (a first order, a per-customer limit)."""
    candidates = [*deps.promotions.automatic(offers.offers.at), *(o.promotion for o in offers.offers.offers)]
    return any(p.conditions.first_order or p.per_customer_limit is not None for p in candidates)


async def _as_shown(deps: Deps, cart: Cart, body: CheckoutIn, quote: Quote, shown: Quote) -> None:
    """A guest's cart is quoted before the guest's e-mail is known: if a promotion limited per customer
    or to a first order does not apply to this address, the checkout is refused (409, nothing charged)
    rather than charging more than the cart showed; the cart then remembers the address, so it shows the
    total this buyer pays, and the next try goes through."""
    if quote.totals.total <= shown.totals.total:
        return
    assert body.email is not None
    async with deps.db.unit_of_work() as session:
        await promotions_repo.remember_guest_email(session, cart.id, body.email)
    raise Conflict(
        "A promotion your cart showed applies to a first order only, or a limited number of times per "
        "customer, and not to this e-mail address; your cart shows the new total. You have not been charged.",
        slug="promotion-unavailable",
    )


def _checkout_in_progress(order_id: str) -> Conflict:
    return Conflict(
        "This cart is already being checked out (in another window or tab); you have not been charged "
        "twice. See your orders in a moment.",
        slug="checkout-in-progress",
        order_id=order_id,
    )


async def _complete(
    deps: Deps, order: Order, lines: list[OrderLine], *, gift_cards: list[str]
) -> tuple[int, OrderOut]:
    try:
        payment = await deps.payments.pay(
            order_id=order.id,
            customer_id=order.buyer_id,
            amount=Money(amount=order.total, currency=order.currency),
            payment_method=order.payment_method or None,
            gift_cards=gift_cards,
        )
    except RemoteProblem as problem:
        if problem.status == 422:  # a gift card that cannot pay, or no card for the rest: nothing charged
            raise await _refused_by_payments(deps, order, problem) from None
        if problem.status != 402:
            raise await abandon(deps, order, f"payments refused the request ({problem.status})") from None
        await release(deps, order.id)
        declined = PaymentRequired(
            problem.detail, errors=problem.errors, decline_code=problem.body.get("decline_code")
        )
        await fail(deps, order, 402, declined)
        raise declined from None
    except ServiceUnavailable:
        raise await abandon(deps, order, "the payment did not complete") from None

    _crash_if_armed(deps.settings)
    try:
        await deps.catalog.commit(order.id)
    except RemoteProblem:  # the reservation ran out while paying: undo the payment
        raise await abandon(deps, order, "the stock reservation expired during payment", status=409) from None
    except ServiceUnavailable:
        log.warning(
            "reservation commit unconfirmed; the reconciler will finish", extra={"order_id": order.id}
        )
        return 202, order_view(order, lines, [])
    return 201, await place(deps, order, lines, payment, reason="paid", by=CUSTOMER)


async def _refused_by_payments(deps: Deps, order: Order, problem: RemoteProblem) -> Problem:
    await release(deps, order.id)
    refused = UnprocessableEntity(
        problem.detail, errors=problem.errors, slug=problem.slug, **_extensions(problem, "reasons")
    )
    await fail(deps, order, 422, refused)
    return refused


def _extensions(problem: RemoteProblem, *names: str) -> dict[str, object]:
    return {name: problem.body[name] for name in names if name in problem.body}


def _crash_if_armed(settings: OrdersSettings) -> None:
    """Test hook: die here, between capture and commit, as a power cut would."""
    if settings.crash_hook_file and settings.crash_hook_file.exists():
        settings.crash_hook_file.unlink()
        os.kill(os.getpid(), signal.SIGKILL)
