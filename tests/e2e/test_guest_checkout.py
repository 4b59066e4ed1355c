"""Guest checkout end to end: a cart behind a cart token, checkout with an e-mail address, the order read
by its signed link, the guest cart merged into an account at sign-in (docs/guest-checkout.md). Real
Envoy, real service processes, the Stripe SDK against the provider sandbox, the SMTP sink."""

from __future__ import annotations

import concurrent.futures
import uuid

import httpx
import pytest

from mercato.platform.ids import new_id
from tests.e2e.staff import signed_in_staff
from tests.e2e.test_checkout import (
    ADDRESS,
    _intents_for,
    _recent_intents,
    _sku_with_stock,
    _wait_for_mail,
)


def _guest(gateway) -> dict[str, str]:
    created = gateway.post("/api/v1/carts")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["cart_id"].startswith("cart_") and len(body["cart_token"]) >= 40
    return {"X-Cart-Token": body["cart_token"]}


def _guest_checkout(
    gateway, auth: dict[str, str], payment_method: str, *, email: str | None, key: str | None = None
) -> httpx.Response:
    body = {"shipping_address": ADDRESS, "payment_method": payment_method}
    if email is not None:
        body["email"] = email
    return gateway.post(
        "/api/v1/checkout", json=body, headers=auth | {"Idempotency-Key": key or uuid.uuid4().hex}
    )


def _token_of(order_url: str) -> str:
    return httpx.URL(order_url).params["t"]


def test_a_guest_buys_without_an_account_and_reads_the_order_by_its_link(platform, gateway):
    guest = _guest(gateway)
    email = f"guest-{uuid.uuid4().hex[:8]}@example.com"
    sku = _sku_with_stock(platform, gateway, stock=5)
    added = gateway.post("/api/v1/cart/items", json={"sku": sku, "quantity": 2}, headers=guest)
    assert added.status_code == 200 and added.json()["item_count"] == 2, added.text

    no_email = _guest_checkout(gateway, guest, platform.card(), email=None)
    assert no_email.status_code == 422 and "email" in no_email.json()["errors"]
    declined = _guest_checkout(gateway, guest, platform.card("4000000000000002"), email=email)
    assert declined.status_code == 402 and declined.json()["decline_code"] == "generic_decline"
    assert gateway.get("/api/v1/cart", headers=guest).json()["item_count"] == 2  # kept to retry

    key, card = uuid.uuid4().hex, platform.card()
    paid = _guest_checkout(gateway, guest, card, email=email, key=key)
    assert paid.status_code == 201, paid.text
    order = paid.json()
    assert order["state"] == "placed" and order["email"] == email
    assert order["order_url"].startswith(f"{platform.topology.storefront_url}/orders/{order['id']}?t=")
    replayed = _guest_checkout(gateway, guest, card, email=email, key=key)
    assert replayed.status_code == 201 and replayed.json()["id"] == order["id"]
    assert len([i for i in _intents_for(platform, order["id"]) if i["status"] == "succeeded"]) == 1
    assert gateway.get("/api/v1/cart", headers=guest).json()["lines"] == []
    assert platform.available(sku) == 3

    link = {"X-Order-Token": _token_of(order["order_url"])}
    seen = gateway.get(f"/api/v1/orders/{order['id']}", headers=link)
    assert seen.status_code == 200 and seen.json()["number"] == order["number"]
    assert seen.json()["lines"][0]["sku"] == sku
    assert gateway.get(f"/api/v1/orders/{order['id']}").status_code == 401
    forged = {"X-Order-Token": _token_of(order["order_url"])[:-2] + "AA"}
    assert gateway.get(f"/api/v1/orders/{order['id']}", headers=forged).status_code == 401
    stranger = platform.token_for(new_id("cus"))
    assert gateway.get(f"/api/v1/orders/{order['id']}", headers=stranger).status_code == 404
    assert gateway.get("/api/v1/orders", headers=guest).status_code == 401  # a history needs an account

    confirmation = _wait_for_mail(platform, email, "is confirmed")  # to the guest's address
    assert confirmation["subject"] == f"Your order {order['number']} is confirmed"
    assert order["order_url"] in confirmation["text"]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="nothing"),
        pytest.param({"X-Cart-Token": "x" * 43}, id="a-token-of-no-cart"),
        pytest.param({"X-Cart-Token": "not a token!"}, id="garbage"),
    ],
)
def test_the_cart_without_an_account_or_a_cart_token_is_401(gateway, headers):
    assert gateway.get("/api/v1/cart", headers=headers).status_code == 401
    added = gateway.post("/api/v1/cart/items", json={"sku": "WTS-CCT01-BLK-M"}, headers=headers)
    assert added.status_code == 401


def test_signing_in_with_a_cart_token_merges_the_guest_cart_into_the_account(platform, gateway):
    both = _sku_with_stock(platform, gateway, stock=50, index=0)
    guest_only = _sku_with_stock(platform, gateway, stock=50, index=1)
    account_only = _sku_with_stock(platform, gateway, stock=50, index=2)
    guest, account = _guest(gateway), platform.token_for(new_id("cus"))
    gateway.post("/api/v1/cart/items", json={"sku": account_only}, headers=account)
    gateway.post("/api/v1/cart/items", json={"sku": both, "quantity": 1}, headers=account)
    gateway.post("/api/v1/cart/items", json={"sku": both, "quantity": 2}, headers=guest)
    gateway.post("/api/v1/cart/items", json={"sku": guest_only, "quantity": 4}, headers=guest)

    merged = gateway.get("/api/v1/cart", headers=account | guest)

    assert merged.status_code == 200, merged.text
    quantities = {line["sku"]: line["quantity"] for line in merged.json()["lines"]}
    assert quantities == {account_only: 1, both: 3, guest_only: 4}
    assert gateway.get("/api/v1/cart", headers=guest).json()["lines"] == []
    again = gateway.get("/api/v1/cart", headers=account | guest).json()  # merging twice adds nothing
    assert {line["sku"]: line["quantity"] for line in again["lines"]} == quantities


def test_a_merge_caps_a_line_at_the_most_one_order_may_hold(platform, gateway):
    sku = _sku_with_stock(platform, gateway, stock=500)
    guest, account = _guest(gateway), platform.token_for(new_id("cus"))
    gateway.post("/api/v1/cart/items", json={"sku": sku, "quantity": 60}, headers=account)
    gateway.post("/api/v1/cart/items", json={"sku": sku, "quantity": 60}, headers=guest)
    merged = gateway.get("/api/v1/cart", headers=account | guest).json()
    assert [line["quantity"] for line in merged["lines"]] == [99]


@pytest.mark.parametrize("attempt", range(4))
def test_a_guest_paying_in_one_tab_while_signing_in_in_another_is_one_order_and_one_charge(
    platform, gateway, attempt
):
    """The guest checks out in one tab while another tab signs in (its cart request carries both the
    shopper token and the guest's cart token, so the guest cart is merged). Whichever wins, the items
    are bought once: paid by the guest checkout, or moved to the account's cart (the guest checkout then
    refuses, uncharged) and bought from there."""
    sku = _sku_with_stock(platform, gateway, stock=50, index=3)
    guest, account = _guest(gateway), platform.token_for(new_id("cus"))
    assert (
        gateway.post("/api/v1/cart/items", json={"sku": sku, "quantity": 2}, headers=guest).status_code == 200
    )
    before = {i["id"] for i in _recent_intents(platform)}
    email = f"racer-{uuid.uuid4().hex[:8]}@example.com"

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        paying = pool.submit(_guest_checkout, gateway, guest, platform.card(), email=email)
        merging = pool.submit(gateway.get, "/api/v1/cart", headers=account | guest)
        paid, merged = paying.result(), merging.result()

    assert paid.status_code in (201, 409, 422), paid.text
    assert merged.status_code == 200, merged.text
    in_account = {
        line["sku"]: line["quantity"] for line in gateway.get("/api/v1/cart", headers=account).json()["lines"]
    }
    if paid.status_code == 201:
        assert in_account == {}  # the lines the checkout held were not merged
    else:
        assert in_account == {sku: 2}
        bought = _guest_checkout(gateway, account, platform.card(), email=None)
        assert bought.status_code == 201, bought.text
    charged = [i for i in _recent_intents(platform) if i["id"] not in before and i["amount_received"]]
    assert len(charged) == 1
    assert platform.available(sku) == 48
    assert gateway.get("/api/v1/cart", headers=account | guest).json()["lines"] == []


# --- registering later: claiming the guest's orders ------------------------------------------------


def _guest_order(platform, gateway, email: str) -> dict:
    guest = _guest(gateway)
    sku = _sku_with_stock(platform, gateway, stock=20, index=4)
    gateway.post("/api/v1/cart/items", json={"sku": sku}, headers=guest)
    paid = _guest_checkout(gateway, guest, platform.card(), email=email)
    assert paid.status_code == 201, paid.text
    return paid.json()


def _register(gateway, email: str) -> dict[str, str]:
    registered = gateway.post(
        "/api/v1/customers", json={"email": email, "password": "correct horse battery", "name": "Later"}
    )
    assert registered.status_code == 201, registered.text
    tokens = gateway.post("/api/v1/auth/token", json={"email": email, "password": "correct horse battery"})
    return {"Authorization": f"Bearer {tokens.json()['access_token']}"}


def _claim_token(mail: dict) -> str:
    link = next(word for word in mail["text"].split() if "/account/claim-orders?t=" in word)
    return httpx.URL(link).params["t"]


def test_registering_later_with_the_address_claims_the_guest_orders_through_the_e_mailed_link(
    platform, gateway
):
    email = f"later-{uuid.uuid4().hex[:8]}@example.com"
    order = _guest_order(platform, gateway, email)
    account = _register(gateway, email.upper())  # the same address, however it is typed
    assert gateway.get("/api/v1/orders", headers=account).json()["data"] == []  # not before the link

    mail = _wait_for_mail(platform, email, "Add your earlier order")
    token = _claim_token(mail)
    someone_else = platform.token_for(new_id("cus"))
    refused = gateway.post("/api/v1/order-claims", json={"token": token}, headers=someone_else)
    assert refused.status_code == 403
    claimed = gateway.post("/api/v1/order-claims", json={"token": token}, headers=account)
    assert claimed.status_code == 200 and claimed.json() == {"claimed": 1}, claimed.text
    history = gateway.get("/api/v1/orders", headers=account).json()["data"]
    assert [o["id"] for o in history] == [order["id"]]
    assert gateway.get(f"/api/v1/orders/{order['id']}", headers=account).status_code == 200
    again = gateway.post("/api/v1/order-claims", json={"token": token}, headers=account)
    assert again.json() == {"claimed": 0}
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert gateway.post("/api/v1/order-claims", json={"token": tampered}, headers=account).status_code == 422


def test_registering_someone_elses_address_does_not_give_their_orders(platform, gateway):
    """No address is verified at registration: an account registered with a victim's address gets
    nothing by it. The link goes to the victim's mailbox, and it only works for the account it names,
    which the victim cannot sign in to (and which the attacker cannot read the mail of)."""
    victim = f"victim-{uuid.uuid4().hex[:8]}@example.com"
    order = _guest_order(platform, gateway, victim)
    attacker = _register(gateway, victim)

    mail = _wait_for_mail(platform, victim, "Add your earlier order")  # in the victim's mailbox only
    assert gateway.get("/api/v1/orders", headers=attacker).json()["data"] == []
    assert gateway.get(f"/api/v1/orders/{order['id']}", headers=attacker).status_code == 404
    victims_own_account = platform.token_for(new_id("cus"))
    taken = gateway.post(
        "/api/v1/order-claims", json={"token": _claim_token(mail)}, headers=victims_own_account
    )
    assert taken.status_code == 403


# --- GDPR: support exports and erases a guest by e-mail ---------------------------------------------


def test_support_exports_and_erases_a_guest_by_e_mail(platform, gateway):
    email = f"gdpr-{uuid.uuid4().hex[:8]}@example.com"
    order = _guest_order(platform, gateway, email)
    _wait_for_mail(platform, email, "is confirmed")
    _, support = signed_in_staff(platform, gateway, "support")
    _, operations = signed_in_staff(platform, gateway, "operations")
    assert (
        gateway.post("/admin/v1/guests/export", json={"email": email}, headers=operations).status_code == 403
    )

    exported = gateway.post("/admin/v1/guests/export", json={"email": email.upper()}, headers=support)
    assert exported.status_code == 200, exported.text
    body = exported.json()
    assert [o["id"] for o in body["orders"]] == [order["id"]]
    assert (
        body["orders"][0]["email"] == email and body["orders"][0]["shipping_address"]["line1"] == "1 Main St"
    )
    assert [m["kind"] for m in body["messages"]] == ["order_confirmation"]
    assert body["messages"][0]["to_address"] == email

    erased = gateway.post("/admin/v1/guests/erasure", json={"email": email}, headers=support)
    assert erased.status_code == 200 and erased.json() == {"erased": 1}, erased.text
    after = gateway.get(f"/admin/v1/orders/{order['id']}", headers=operations).json()
    assert after["shipping_address"] == {"country": "DE", "erased": True} and after["email"] is None
    assert after["total"] == order["total"]  # the sale stays in the books
    assert (
        gateway.post("/admin/v1/guests/export", json={"email": email}, headers=support).json()["orders"] == []
    )
    assert (
        gateway.get(
            f"/api/v1/orders/{order['id']}", headers={"X-Order-Token": _token_of(order["order_url"])}
        ).json()["email"]
        is None
    )
    audit = gateway.get("/admin/v1/audit", headers=signed_in_staff(platform, gateway, "admin")[1]).json()[
        "data"
    ]
    assert {"guest.exported", "guest.erased"} <= {entry["action"] for entry in audit}
