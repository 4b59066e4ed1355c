"""Checkout's quote, kept on the order to the cent: a shirt (standard rate) and a book (reduced rate)
bought for Germany (VAT included), Great Britain (VAT included, free delivery), New York (tax added, on
delivery too) and Florida (no nexus: no tax) — through the real checkout (catalog prices in the market's
currency and reserves, payments captures that total at the provider sandbox)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from mercato.platform.ids import new_id
from tests.catalog.factories import create_product
from tests.orders.factories import address, card_token, outbox_events, priced_products


@dataclass(frozen=True)
class Case:
    name: str
    address: dict
    currency: str
    lines: tuple[tuple[int, str], ...]  # shirt, book: (tax, rate)
    shipping: tuple[str, int, int]  # method, price, tax
    tax_lines: tuple[tuple[str, str, int], ...]
    totals: tuple[int, int, int, int]  # subtotal, shipping, tax, total


CASES = [
    Case(
        "DE",
        address("DE"),
        "EUR",
        ((638, "19"), (65, "7")),
        ("shm_eu_standard", 495, 79),
        (("19", "VAT", 717), ("7", "VAT", 65)),
        (4998, 495, 782, 5493),
    ),
    Case(
        "GB",
        address("GB", postal_code="N1 9GU"),
        "GBP",
        ((600, "20"), (43, "5")),
        ("shm_uk_standard", 0, 0),
        (("20", "VAT", 600), ("5", "VAT", 43)),
        (4498, 0, 643, 4498),
    ),
    Case(
        "US-NY",
        address("US", region="NY", postal_code="10001"),
        "USD",
        ((168, "4"), (40, "4")),
        ("shm_us_standard", 499, 20),
        (("4", "Sales tax (NY)", 228),),
        (5200, 499, 228, 5927),
    ),
    Case(
        "US-FL",
        address("US", region="FL", postal_code="33101"),
        "USD",
        ((0, "0"), (0, "0")),
        ("shm_us_standard", 499, 0),
        (),
        (5200, 499, 0, 5699),
    ),
]


def _figures(doc: dict) -> tuple:
    method = doc["shipping_method"]
    return (
        # The shirt's, then the book's (SKUs …-SHIRT, …-BOOK)
        tuple(
            (line["tax"]["amount"], line["tax_rate"])
            for line in sorted(doc["lines"], key=lambda line: line["sku"], reverse=True)
        ),
        (method["id"], method["price"]["amount"]),
        tuple((t["rate"], t["label"], t["amount"]["amount"]) for t in doc["tax_lines"]),
        tuple(doc["totals"][name]["amount"] for name in ("subtotal", "shipping", "tax", "total")),
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_the_order_keeps_the_quote_to_the_cent(back_office, case: Case):
    orders = back_office.orders
    skus = await priced_products(back_office.catalog)
    shopper = {"x-mercato-customer-id": new_id("cus")}
    await orders.post("/api/v1/cart/items", json={"sku": skus["shirt"], "quantity": 2}, headers=shopper)
    await orders.post("/api/v1/cart/items", json={"sku": skus["book"]}, headers=shopper)
    cart = await orders.put("/api/v1/cart/address", json={"shipping_address": case.address}, headers=shopper)
    assert cart.status_code == 200, cart.text
    cart = cart.json()
    expected = (
        case.lines,
        case.shipping[:2],
        case.tax_lines,
        case.totals,
    )
    assert cart["market"]["currency"] == case.currency
    assert _figures(cart) == expected

    placed = await orders.post(
        "/api/v1/checkout",
        json={"payment_method": card_token(sandbox=back_office.sandbox)},  # address and method: the cart's
        headers=shopper | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert _figures(order) == expected
    assert order["shipping_method"]["tax"]["amount"] == case.shipping[2]
    assert order["total"] == {"amount": case.totals[3], "currency": case.currency}
    assert order["payment"]["amount"] == order["total"]  # what the provider captured
    assert order["billing_address"] == order["shipping_address"]
    assert order["market"]["prices_include_tax"] is (case.currency != "USD")

    # The snapshot is what the order shows from now on, and what OrderPlaced told everyone.
    again = (await orders.get(f"/api/v1/orders/{order['id']}", headers=shopper)).json()
    assert _figures(again) == expected
    [event] = [
        e for e in await outbox_events(back_office.orders_app, "OrderPlaced") if e["order_id"] == order["id"]
    ]
    assert event["totals"]["total"] == order["total"] and event["tax_lines"] == order["tax_lines"]
    assert (event["shipping_method"], event["market_id"]) == (
        order["shipping_method"]["name"],
        order["market"]["id"],
    )


async def test_checkout_takes_the_address_billing_and_method_from_its_body(back_office):
    orders = back_office.orders
    skus = await priced_products(back_office.catalog)
    shopper = {"x-mercato-customer-id": new_id("cus")}
    await orders.post("/api/v1/cart/items", json={"sku": skus["shirt"]}, headers=shopper)
    billing = address("DE") | {"name": "Ada's Company GmbH", "line1": "Firmenweg 2"}
    body = {
        "payment_method": card_token(sandbox=back_office.sandbox),
        "shipping_address": address("DE"),
        "billing_address": billing,
        "shipping_method": "shm_berlin_collect",
    }
    placed = await orders.post("/api/v1/checkout", json=body, headers=shopper | {"Idempotency-Key": "one"})
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["billing_address"]["name"] == "Ada's Company GmbH"
    assert order["shipping_method"]["kind"] == "click_and_collect"
    assert (order["totals"]["shipping"]["amount"], order["totals"]["total"]["amount"]) == (0, 1999)
    assert order["tax_lines"] == [
        {"rate": "19", "label": "VAT", "amount": {"amount": 319, "currency": "EUR"}}
    ]


async def test_checkout_refuses_what_cannot_be_delivered_or_sold_and_charges_nothing(back_office):
    orders = back_office.orders
    skus = await priced_products(back_office.catalog)
    shopper = {"x-mercato-customer-id": new_id("cus")}
    await orders.post("/api/v1/cart/items", json={"sku": skus["candle"]}, headers=shopper)
    pay = {"payment_method": card_token(sandbox=back_office.sandbox)}

    async def checkout(body: dict, key: str):
        return await orders.post(
            "/api/v1/checkout", json=pay | body, headers=shopper | {"Idempotency-Key": key}
        )

    no_address = await checkout({}, "a")
    assert no_address.status_code == 422 and no_address.json()["errors"] == {
        "shipping_address": "is required"
    }
    no_state = await checkout({"shipping_address": address("US")}, "b")
    assert no_state.status_code == 422 and "shipping_address.region" in no_state.json()["errors"]
    nowhere = await checkout({"shipping_address": address("JP")}, "c")
    assert nowhere.status_code == 422 and "shipping_address.country" in nowhere.json()["errors"]
    not_sold = await checkout({"shipping_address": address("US", region="NY")}, "d")
    assert not_sold.status_code == 409, not_sold.text
    assert not_sold.json()["type"].endswith("/not-sold-in-market")
    wrong_method = await checkout(
        {"shipping_address": address("FR"), "shipping_method": "shm_berlin_collect"}, "e"
    )
    assert wrong_method.status_code == 422 and "shipping_method" in wrong_method.json()["errors"]
    # No order, no charge: the cart still holds the candle, free to buy for Germany.
    assert (await orders.get("/api/v1/orders", headers=shopper)).json()["data"] == []
    cart = (await orders.get("/api/v1/cart", headers=shopper)).json()
    assert [(line["sku"], line["purchasable"]) for line in cart["lines"]] == [(skus["candle"], True)]


async def test_a_gift_card_alone_is_bought_without_a_shipping_method(back_office):
    orders = back_office.orders
    sku = f"QS-GIFT-{uuid.uuid4().hex[:8].upper()}"
    card = {
        "sku": sku,
        "attributes": {"value": "50"},
        "prices": [{"amount": 5000, "currency": "EUR"}],
        "stock": 50,
        "weight_grams": 0,
        "kind": "gift_card",
    }
    await create_product(back_office.catalog, variants=[card], tax_class="zero", name=f"Gift card {sku}")
    shopper = {"x-mercato-customer-id": new_id("cus")}
    await orders.post("/api/v1/cart/items", json={"sku": sku}, headers=shopper)
    cart = (
        await orders.put("/api/v1/cart/address", json={"shipping_address": address("DE")}, headers=shopper)
    ).json()
    assert (cart["shipping_method"], cart["purchasable"]) == (None, True)
    assert cart["lines"][0]["kind"] == "gift_card"

    placed = await orders.post(
        "/api/v1/checkout",
        json={"payment_method": card_token(sandbox=back_office.sandbox)},
        headers=shopper | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["shipping_method"] is None and order["tax_lines"] == []
    assert tuple(order["totals"][name]["amount"] for name in ("subtotal", "shipping", "tax", "total")) == (
        5000,
        0,
        0,
        5000,
    )
    assert order["payment"]["amount"] == order["total"]
