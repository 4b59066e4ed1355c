"""The app's main journey on the real platform: search with a typo → product → colour and size → cart
holds exactly that SKU → pay with 4242 tokenised at the sandbox by the app → confirmation → history.
Then the declined card (402) and the sold-out item (409), in the app's words."""

from __future__ import annotations

import httpx
import pytest

from tests.mobile.conftest import find, ids, register, said, tap, texts, type_into, until

CARD, DECLINED = "4242424242424242", "4000000000000002"
SANDBOX_KEY = {"Authorization": "Bearer sk_test_mercato_sandbox"}
pytestmark = pytest.mark.e2e


async def _product_with_options(shop) -> None:
    """From home: search "tshrit" (a typo), open the first result that has colours and sizes."""
    await tap(shop.tab_buttons["home"])
    home = shop.screen
    await type_into(home.search, "tsh")
    await until(lambda: "Classic Cotton T-Shirt" in texts(home.suggestions))  # suggestions as you type
    await type_into(home.search, "tshrit")  # typed on, with a typo
    await tap(home.search)  # Enter: the search is typo-tolerant
    listing = shop.screen
    assert type(listing).__name__ == "ListingScreen"
    cards = ids(listing.results, "product-")
    assert cards, texts(listing.box)
    for card in cards:
        await tap(card)
        if {"colour", "size"} <= set(shop.screen.product.get("options") or {}):
            return
        await tap(shop.back)
    raise AssertionError("no t-shirt with colours and sizes")


async def _pick(shop) -> dict:
    """Pick the first possible colour, then the first possible size; the picker shows the variant."""
    product = shop.screen
    assert not product.add.enabled  # nothing chosen yet
    for name in ("colour", "size"):
        if name in product.chosen:  # the only value there is: chosen already
            continue
        options = [b for b in ids(product.pickers, f"option-{name}-") if b.enabled]
        assert options, f"no {name} can be picked"
        await tap(options[0])
    variant = product.variant()
    assert variant is not None and variant["available"] > 0
    assert product.add.enabled
    assert variant["sku"] in product.sku.text
    # A combination that does not exist, or is sold out, cannot be picked:
    for button in ids(product.pickers, "option-size-"):
        size = button.id.removeprefix("option-size-")
        assert button.enabled == product.possible("size", size) or button.text.startswith("✓")
    return variant


BERLIN = {
    "name": "Ada Lovelace", "line1": "1 Main St", "postal_code": "10115", "city": "Berlin", "country": "DE",
}  # fmt: skip


async def _deliver_to(shop, address: dict) -> None:
    """At checkout: a new address typed in and used (one call: the screen comes back quoted there)."""
    checkout = shop.screen
    if checkout.shipping.selection.value != "A new address":
        checkout.shipping.selection.value = "A new address"
        await until(lambda: checkout.shipping.form in checkout.shipping.box.children)
    for field, value in address.items():
        checkout.shipping.fields[field].value = value
    await tap(checkout.shipping.use)
    assert checkout.info["shipping_address"]["city"] == address["city"], said(checkout.message)


async def _fill_checkout(shop, card: str) -> None:
    checkout = shop.screen
    assert type(checkout).__name__ == "CheckoutScreen", texts(shop.root)
    if checkout.info.get("shipping_address") is None:  # no address book: a new address
        await _deliver_to(shop, BERLIN)
    checkout.card_number.value = card
    checkout.card_expiry.value = "12/30"
    checkout.card_cvc.value = "123"


async def _add_and_open_checkout(shop) -> dict:
    await _product_with_options(shop)
    variant = await _pick(shop)
    await tap(shop.screen.add)
    assert "Added to your cart" in said(shop.screen.message), texts(shop.root)
    await tap(shop.tab_buttons["cart"])
    return variant


async def test_search_pick_pay_and_find_the_order(app, platform):
    shop = app.shop
    sent_to_mercato: list[bytes] = []

    async def record(request) -> None:  # everything the app sends the gateway, as on the wire
        sent_to_mercato.append(str(request.url).encode() + str(request.headers).encode() + request.read())

    shop.gateway.http.event_hooks["request"].append(record)
    await register(app)
    variant = await _add_and_open_checkout(shop)
    cart = shop.screen
    assert [line["sku"] for line in cart.cart["lines"]] == [variant["sku"]]  # exactly what was picked
    assert find(cart.lines, f"line-{variant['sku']}") is not None
    await tap(cart.checkout)
    await _fill_checkout(shop, CARD)
    await tap(shop.screen.pay)
    confirmation = shop.screen
    assert type(confirmation).__name__ == "ConfirmationScreen", texts(shop.root)
    order = confirmation.order
    assert order["number"] in texts(confirmation.box)

    # The card went to the sandbox only: a PaymentMethod with its last four digits there…
    pending = shop.gateway.pending.keys()
    assert pending == []  # answered: no write left pending
    intents = httpx.get(
        f"{platform.sandbox}/v1/payment_intents/search",
        headers=SANDBOX_KEY,
        params={"query": f"metadata['order_id']:'{order['id']}'"},
    ).json()["data"]
    assert len(intents) == 1 and intents[0]["status"] == "succeeded"
    method = httpx.get(
        f"{platform.sandbox}/v1/payment_methods/{intents[0]['payment_method']}", headers=SANDBOX_KEY
    )
    assert method.json()["card"]["last4"] == "4242"
    # …never in what the app sent the gateway (the checkout carried the PaymentMethod only)…
    assert any(
        b"/mobile/v1/checkout" in sent and method.json()["id"].encode() in sent for sent in sent_to_mercato
    )
    assert not [sent for sent in sent_to_mercato if CARD.encode() in sent or b"card[number]" in sent]
    # …and nowhere in Mercato: no database, log or file of any service holds the number.
    sandbox_dir = platform.var_dir / "sandbox"
    for path in platform.var_dir.rglob("*"):
        if path.is_file() and sandbox_dir not in path.parents:
            assert CARD.encode() not in path.read_bytes(), f"the card number reached {path}"

    # The order in the history, with its timeline.
    await tap(shop.tab_buttons["orders"])
    history = shop.screen
    assert find(history.list, f"order-{order['id']}") is not None, texts(history.box)
    await tap(find(history.list, f"order-{order['id']}"))
    detail = shop.screen
    assert type(detail).__name__ == "OrderScreen"
    assert ids(detail.box, f"order-line-{variant['sku']}")
    assert detail.order["timeline"], "the state timeline is shown"


async def test_a_declined_card_is_said_plainly(app):
    shop = app.shop
    await register(app)
    await _add_and_open_checkout(shop)
    await tap(shop.screen.checkout)
    await _fill_checkout(shop, DECLINED)
    await tap(shop.screen.pay)
    assert type(shop.screen).__name__ == "CheckoutScreen"
    assert "declined" in said(shop.screen.message).lower(), said(shop.screen.message)
    assert "Nothing was charged" in said(shop.screen.message)


async def test_sold_out_while_in_the_cart_is_said_plainly(app, platform):
    shop = app.shop
    await register(app)
    variant = await _add_and_open_checkout(shop)
    await tap(shop.screen.checkout)
    await _fill_checkout(shop, CARD)
    platform.set_stock(variant["sku"], 0)  # someone else bought the last one
    try:
        await tap(shop.screen.pay)
        assert type(shop.screen).__name__ == "CheckoutScreen", texts(shop.root)
        assert "sold out" in said(shop.screen.message).lower(), said(shop.screen.message)
    finally:
        platform.set_stock(variant["sku"], 50)
