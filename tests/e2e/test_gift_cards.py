"""Gift cards at checkout, end to end: real Envoy, real service processes, the provider sandbox. A card
issued by staff pays part of an order (the card the rest) or all of it; a code that cannot pay is named
before anything is charged; a declined card gives the gift card its balance back; a cancelled order's
refund goes to the gift card first."""

from __future__ import annotations

import re
import time
import uuid

import httpx

from tests.e2e.test_checkout import ADDRESS, _customer, _intents_for, _sku_with_stock
from tests.e2e.test_guest_checkout import _guest


def issue(platform, amount: int, currency: str = "EUR", **body) -> dict:
    """A card issued in the back office (on payments' own port: the gateway's staff door has its tests)."""
    response = httpx.post(
        f"{platform.service_url('payments')}/admin/v1/gift-cards",
        json={"amount": {"amount": amount, "currency": currency}, **body},
        headers=platform.staff_headers("support"),
    )
    assert response.status_code == 201, response.text
    return response.json()


def balance(gateway, code: str) -> int:
    response = gateway.get(f"/api/v1/gift-cards/{code}")
    assert response.status_code == 200, response.text
    return response.json()["balance"]["amount"]


def checkout(gateway, auth, *, gift_cards: list[str], payment_method: str | None) -> httpx.Response:
    body: dict = {"shipping_address": ADDRESS, "gift_cards": gift_cards}
    if payment_method:
        body["payment_method"] = payment_method
    return gateway.post("/api/v1/checkout", json=body, headers=auth | {"Idempotency-Key": uuid.uuid4().hex})


def _cart(platform, gateway, *, stock: int = 5) -> tuple[dict, str]:
    auth = _customer(platform)
    sku = _sku_with_stock(platform, gateway, stock=stock)
    gateway.post("/api/v1/cart/items", json={"sku": sku}, headers=auth)
    return auth, sku


def _tenders(order: dict) -> list[tuple[str, str | None, int]]:
    return [(t["kind"], t["last4"], t["amount"]["amount"]) for t in order["tenders"]]


def test_a_gift_card_pays_part_and_the_card_the_rest(platform, gateway):
    card = issue(platform, 1000)
    auth, sku = _cart(platform, gateway)

    response = checkout(gateway, auth, gift_cards=[card["code"].lower()], payment_method=platform.card())

    assert response.status_code == 201, response.text
    order = response.json()
    total = order["total"]["amount"]
    assert _tenders(order) == [("gift_card", card["last4"], 1000), ("card", "4242", total - 1000)]
    assert gateway.get(f"/api/v1/orders/{order['id']}", headers=auth).json()["tenders"] == order["tenders"]
    [intent] = _intents_for(platform, order["id"])
    assert intent["amount_received"] == total - 1000
    assert balance(gateway, card["code"]) == 0
    assert platform.available(sku) == 4


def test_gift_cards_pay_it_all_without_a_card(platform, gateway):
    first, second = issue(platform, 1500), issue(platform, 50000)
    auth, _ = _cart(platform, gateway)

    response = checkout(gateway, auth, gift_cards=[first["code"], second["code"]], payment_method=None)

    assert response.status_code == 201, response.text
    order = response.json()
    total = order["total"]["amount"]
    assert _tenders(order) == [
        ("gift_card", first["last4"], 1500),
        ("gift_card", second["last4"], total - 1500),
    ]
    assert order["payment"]["card_last4"] is None and _intents_for(platform, order["id"]) == []
    assert balance(gateway, second["code"]) == 50000 - (total - 1500)


def test_a_code_that_cannot_pay_is_named_and_nothing_is_charged(platform, gateway):
    good, pounds = issue(platform, 1000), issue(platform, 1000, "GBP")
    auth, sku = _cart(platform, gateway, stock=3)

    response = checkout(
        gateway,
        auth,
        gift_cards=[good["code"], pounds["code"], "ABCD-EFGH-JKMN-PQRS"],
        payment_method=platform.card(),
    )

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"].endswith("/gift-card-invalid")
    assert set(problem["errors"]) == {"gift_cards[1]", "gift_cards[2]"}
    assert problem["errors"]["gift_cards[1]"] == "is in GBP; this order is in EUR"
    assert balance(gateway, good["code"]) == 1000 and platform.available(sku) == 3
    assert gateway.get("/api/v1/orders", headers=auth).json()["data"] == []
    assert gateway.get("/api/v1/cart", headers=auth).json()["item_count"] == 1  # kept, to try again

    not_enough = checkout(gateway, auth, gift_cards=[good["code"]], payment_method=None)
    assert not_enough.status_code == 422 and set(not_enough.json()["errors"]) == {"payment_method"}
    assert balance(gateway, good["code"]) == 1000
    nothing = checkout(gateway, auth, gift_cards=[], payment_method=None)
    assert nothing.status_code == 422 and set(nothing.json()["errors"]) == {"payment_method"}
    paid = checkout(gateway, auth, gift_cards=[good["code"]], payment_method=platform.card())
    assert paid.status_code == 201, paid.text  # the cart, kept, is bought with a card for the rest


def test_a_declined_card_gives_the_gift_card_its_balance_back(platform, gateway):
    card = issue(platform, 1000)
    auth, sku = _cart(platform, gateway, stock=2)

    response = checkout(
        gateway, auth, gift_cards=[card["code"]], payment_method=platform.card("4000000000000002")
    )

    assert response.status_code == 402, response.text
    assert balance(gateway, card["code"]) == 1000 and platform.available(sku) == 2


def test_a_cancelled_orders_refund_goes_to_the_gift_card_first(platform, gateway):
    card = issue(platform, 1000)
    auth, _ = _cart(platform, gateway)
    order = checkout(gateway, auth, gift_cards=[card["code"]], payment_method=platform.card()).json()
    assert balance(gateway, card["code"]) == 0

    cancelled = gateway.post(f"/api/v1/orders/{order['id']}/cancel", headers=auth)

    assert cancelled.status_code == 200, cancelled.text
    assert balance(gateway, card["code"]) == 1000
    [intent] = _intents_for(platform, order["id"])
    refunds = httpx.get(
        f"{platform.sandbox}/v1/refunds",
        headers={"Authorization": "Bearer sk_test_mercato_sandbox"},
        params={"payment_intent": intent["id"]},
    ).json()["data"]
    assert [r["amount"] for r in refunds] == [order["total"]["amount"] - 1000]


def test_a_bought_gift_card_is_issued_and_its_code_e_mailed_and_it_pays(platform, gateway):
    """A guest buys two 25.00 gift cards (the demo catalog's digital product): payments issues one card per
    unit once the order is placed, and notifications e-mails each code, fetched from payments as it is
    sent. The code works: it has 25.00 on it and pays part of the next order."""
    guest = _guest(gateway)
    email = f"gift-{uuid.uuid4().hex[:8]}@example.com"
    gateway.post("/api/v1/cart/items", json={"sku": "GIFT-25", "quantity": 2}, headers=guest)
    bought = gateway.post(
        "/api/v1/checkout",
        json={"shipping_address": ADDRESS, "payment_method": platform.card(), "email": email},
        headers=guest | {"Idempotency-Key": uuid.uuid4().hex},
    )
    assert bought.status_code == 201, bought.text
    assert [line["kind"] for line in bought.json()["lines"]] == ["gift_card"]

    mails = _mails(platform, email, "gift card", count=2)
    codes = {re.search(r"Code: ([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})", m["text"]).group(1) for m in mails}
    assert len(codes) == 2 and "[[gift-card-code]]" not in str(mails)
    for code in codes:
        answer = gateway.get(f"/api/v1/gift-cards/{code}").json()
        assert answer["balance"] == {"amount": 2500, "currency": "EUR"} and answer["state"] == "active"

    auth, _ = _cart(platform, gateway)
    code = sorted(codes)[0]
    paid = checkout(gateway, auth, gift_cards=[code], payment_method=platform.card())
    assert paid.status_code == 201, paid.text
    assert paid.json()["tenders"][0]["amount"]["amount"] == min(2500, paid.json()["total"]["amount"])


def _mails(platform, email: str, subject: str, *, count: int, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    found: list[dict] = []
    while time.monotonic() < deadline:
        found = httpx.get(
            f"{platform.topology.mail_sink_web_url}/api/messages", params={"to": email, "subject": subject}
        ).json()["data"]
        if len(found) >= count:
            return found
        time.sleep(0.25)
    raise AssertionError(f"{len(found)} e-mails to {email} about {subject!r}, not {count}")


def test_a_card_staff_issue_for_someone_is_e_mailed_to_them(platform):
    email = f"friend-{uuid.uuid4().hex[:8]}@example.com"
    card = issue(platform, 3000, recipient_email=email)
    [mail] = _mails(platform, email, "gift card for you", count=1)
    assert card["code"] in mail["text"] and "30.00 EUR" in mail["text"]


def test_a_customer_gets_the_card_they_bought_at_their_accounts_address(platform, gateway):
    email = f"buyer-{uuid.uuid4().hex[:8]}@example.com"
    gateway.post(
        "/api/v1/customers", json={"email": email, "password": "correct horse battery", "name": "Ada"}
    )
    token = gateway.post(
        "/api/v1/auth/token", json={"email": email, "password": "correct horse battery"}
    ).json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    gateway.post("/api/v1/cart/items", json={"sku": "GIFT-50"}, headers=auth)
    bought = checkout(gateway, auth, gift_cards=[], payment_method=platform.card())
    assert bought.status_code == 201, bought.text

    [mail] = _mails(platform, email, "gift card", count=1)
    assert mail["text"].startswith("Hello Ada,") and "50.00 EUR" in mail["text"]
    code = re.search(r"Code: (\S+)", mail["text"]).group(1)
    assert balance(gateway, code) == 5000
