"""Tax and shipping through the real gateway and processes: merchandising manages a zone and its method
in the back office and the next cart is offered it; a shopper's cart follows the address from Germany
(VAT included) to New York (tax added) and the order keeps what the cart showed."""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal

import pytest

from mercato.platform.ids import new_id
from tests.e2e.staff import signed_in_staff

pytestmark = pytest.mark.e2e

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Main St",
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
}


def _sku(gateway, platform) -> str:
    sku = gateway.get("/api/v1/products/classic-cotton-t-shirt").json()["variants"][0]["sku"]
    platform.set_stock(sku, 50)
    return sku


def test_merchandising_adds_a_zone_and_method_and_the_next_cart_is_offered_it(platform, gateway):
    _, staff = signed_in_staff(platform, gateway, "merchandising")
    rates = gateway.get("/admin/v1/tax-rates", headers=staff)
    assert rates.status_code == 200, rates.text
    assert {"country": "DE", "region": "", "tax_class": "reduced", "rate": "7", "label": "VAT",
            "shipping_taxable": True} in rates.json()["data"]  # fmt: skip
    zone = gateway.post(
        "/admin/v1/shipping-zones",
        json={"name": f"Highlands {uuid.uuid4().hex[:6]}", "countries": ["GB"], "postal_patterns": ["IV*"]},
        headers=staff,
    )
    assert zone.status_code == 201, zone.text
    method = gateway.post(
        "/admin/v1/shipping-methods",
        json={
            "zone_id": zone.json()["id"],
            "name": "Highland courier",
            "kind": "standard",
            "currency": "GBP",
            "amount": 1495,
            "min_days": 3,
            "max_days": 6,
        },
        headers=staff,
    ).json()

    shopper = platform.token_for(new_id("cus"))
    gateway.post("/api/v1/cart/items", json={"sku": _sku(gateway, platform)}, headers=shopper)

    def offered(postal_code: str) -> list[str]:
        where = ADDRESS | {"country": "GB", "postal_code": postal_code}
        put = gateway.put("/api/v1/cart/address", json={"shipping_address": where}, headers=shopper)
        assert put.status_code == 200, put.text
        return [m["id"] for m in gateway.get("/api/v1/cart/shipping-methods", headers=shopper).json()["data"]]

    assert method["id"] in offered("IV2 3AB") and method["id"] not in offered("N1 9GU")
    off = gateway.patch(f"/admin/v1/shipping-methods/{method['id']}", json={"active": False}, headers=staff)
    assert off.status_code == 200 and method["id"] not in offered("IV2 3AB")
    assert (
        gateway.get("/admin/v1/shipping-zones", headers=platform.token_for(new_id("cus"))).status_code == 401
    )


def _tax(amount: int, rate: str, *, included: bool) -> int:
    r = Decimal(rate)
    exact = amount * r / (100 + r) if included else amount * r / 100
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_the_cart_follows_the_address_and_the_order_keeps_its_quote(platform, gateway):
    shopper = platform.token_for(new_id("cus"))
    sku = _sku(gateway, platform)
    cart = gateway.post("/api/v1/cart/items", json={"sku": sku, "quantity": 2}, headers=shopper).json()
    # Germany by default: VAT included, on the goods and on the delivery, at 19%.
    totals = cart["totals"]
    assert (cart["market"]["id"], cart["market"]["prices_include_tax"]) == ("eu", True)
    gross = totals["subtotal"]["amount"] + totals["shipping"]["amount"]
    assert totals["tax"]["amount"] == _tax(gross, "19", included=True) and totals["total"]["amount"] == gross

    new_york = ADDRESS | {"country": "US", "region": "NY", "city": "New York", "postal_code": "10001"}
    put = gateway.put("/api/v1/cart/address", json={"shipping_address": new_york}, headers=shopper)
    assert put.status_code == 200, put.text
    cart = put.json()
    totals = {name: money["amount"] for name, money in cart["totals"].items()}
    assert (cart["market"]["currency"], cart["market"]["prices_include_tax"]) == ("USD", False)
    price = gateway.get("/api/v1/products/classic-cotton-t-shirt", params={"country": "US"}).json()
    assert totals["subtotal"] == 2 * next(v for v in price["variants"] if v["sku"] == sku)["price"]["amount"]
    tax = _tax(totals["subtotal"] + totals["shipping"], "4", included=False)  # NY taxes delivery too
    assert (totals["tax"], totals["total"]) == (tax, totals["subtotal"] + totals["shipping"] + tax)
    assert [(t["rate"], t["label"]) for t in cart["tax_lines"]] == [("4", "Sales tax (NY)")]

    placed = gateway.post(
        "/api/v1/checkout",
        json={"payment_method": platform.card()},
        headers=shopper | {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["totals"] == cart["totals"] and order["tax_lines"] == cart["tax_lines"]
    assert order["shipping_method"]["id"] == cart["shipping_method"]["id"]
    assert order["payment"]["amount"] == cart["totals"]["total"]
