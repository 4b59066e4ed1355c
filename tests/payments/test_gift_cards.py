"""Gift cards as a tender, through payments' API on a real database and the provider sandbox: issued by
staff, their balance, paying part or all of an order, a declined card giving the debit back, retries,
two orders racing for one balance, refunds to the gift card first, and the append-only ledger."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text, update

from mercato.platform.ids import new_id
from mercato.services.payments.giftcards.models import GiftCard
from tests.payments.factories import staff_headers
from tests.payments.test_events import _events
from tests.payments.test_payments import SECRET, _card

CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


async def _issue(payments, *, amount: int = 5000, currency: str = "EUR", **body) -> dict:
    response = await payments.post(
        "/admin/v1/gift-cards",
        json={"amount": {"amount": amount, "currency": currency}, **body},
        headers=staff_headers(roles=("support",)),
    )
    assert response.status_code == 201, response.text
    return response.json()


def _order(
    payments, *, amount: int, gift_cards: list[str], card: str | None = "4242424242424242", order_id=None
) -> dict:
    body = {
        "order_id": order_id or new_id("ord"),
        "customer_id": new_id("cus"),
        "amount": {"amount": amount, "currency": "EUR"},
        "gift_cards": gift_cards,
    }
    if card:
        body["payment_method"] = _card(payments.sandbox, card)
    return body


async def _balance(payments, code: str) -> int:
    response = await payments.get(f"/api/v1/gift-cards/{code}")
    assert response.status_code == 200, response.text
    return response.json()["balance"]["amount"]


async def _ledger(payments, card_id: str) -> list[tuple[str, int, int]]:
    detail = (await payments.get(f"/admin/v1/gift-cards/{card_id}", headers=staff_headers())).json()
    return [(e["kind"], e["amount"], e["balance_after"]) for e in detail["entries"]]


def _tenders(paid: dict) -> list[tuple[str, str | None, int, int]]:
    return [(t["kind"], t["last4"], t["amount"]["amount"], t["refunded"]["amount"]) for t in paid["tenders"]]


async def test_a_card_is_issued_with_its_code_shown_once_and_its_balance_asked_by_code(payments):
    card = await _issue(payments, amount=2500, note="Apology for order M-10001")
    assert CODE.match(card["code"]) and card["last4"] == card["code"][-4:]
    assert (card["balance"], card["state"], card["note"]) == (
        {"amount": 2500, "currency": "EUR"},
        "active",
        "Apology for order M-10001",
    )
    # Typed any way: lower case, without dashes, with spaces.
    for typed in (
        card["code"],
        card["code"].lower(),
        card["code"].replace("-", ""),
        card["code"].replace("-", " "),
    ):
        answer = await payments.get(f"/api/v1/gift-cards/{typed}")
        assert answer.status_code == 200, typed
        assert answer.json() == {
            "last4": card["last4"],
            "balance": {"amount": 2500, "currency": "EUR"},
            "expires_at": None,
            "state": "active",
        }
        assert answer.headers["cache-control"] == "no-store"
    assert (await payments.get("/api/v1/gift-cards/AAAA-BBBB-CCCC-DDDD")).status_code == 404
    assert (await payments.get("/api/v1/gift-cards/not-a-code")).status_code == 404
    # The back office never shows the code again.
    detail = (await payments.get(f"/admin/v1/gift-cards/{card['id']}", headers=staff_headers())).json()
    assert "code" not in detail and card["code"] not in str(detail)
    assert await _ledger(payments, card["id"]) == [("issued", 2500, 2500)]


async def test_the_code_is_stored_encrypted_and_found_by_its_hash(payments):
    card = await _issue(payments)
    async with payments.app.state.db.read() as session:
        stored = (await session.execute(text("SELECT code, code_hash FROM gift_cards"))).one()
    plain = card["code"].replace("-", "")
    assert stored.code.startswith("enc1:") and plain not in stored.code
    assert len(stored.code_hash) == 64 and plain not in stored.code_hash
    internal = (await payments.get(f"/internal/gift-cards/{card['id']}/code")).json()
    assert internal["code"] == card["code"]


async def test_part_by_gift_card_and_the_rest_by_card(payments):
    card = await _issue(payments, amount=3000)
    body = _order(payments, amount=5000, gift_cards=[card["code"]])
    response = await payments.post("/internal/payments", json=body)
    assert response.status_code == 201, response.text
    paid = response.json()
    assert paid["status"] == "captured" and paid["captured"]["amount"] == 5000
    assert _tenders(paid) == [("gift_card", card["last4"], 3000, 0), ("card", "4242", 2000, 0)]
    intent = httpx.get(f"{payments.sandbox}/v1/payment_intents/{paid['provider_intent_id']}", headers=SECRET)
    assert intent.json()["amount_received"] == 2000  # the card was charged the rest only
    assert await _balance(payments, card["code"]) == 0
    assert await _ledger(payments, card["id"]) == [("issued", 3000, 3000), ("redeemed", -3000, 0)]
    [redeemed] = await _events(payments, "GiftCardRedeemed")
    assert redeemed["payload"]["gift_card_id"] == card["id"]
    assert redeemed["payload"]["amount"] == {"amount": 3000, "currency": "EUR"}
    assert redeemed["payload"]["balance"] == {"amount": 0, "currency": "EUR"}
    [captured] = await _events(payments, "PaymentCaptured")
    assert captured["payload"]["amount"]["amount"] == 5000


async def test_gift_cards_pay_it_all_without_a_card_in_the_order_given(payments):
    first, second = await _issue(payments, amount=1000), await _issue(payments, amount=5000)
    body = _order(payments, amount=2500, gift_cards=[first["code"], second["code"]], card=None)
    response = await payments.post("/internal/payments", json=body)
    assert response.status_code == 201, response.text
    paid = response.json()
    assert paid["status"] == "captured" and paid["provider_intent_id"] is None
    assert _tenders(paid) == [("gift_card", first["last4"], 1000, 0), ("gift_card", second["last4"], 1500, 0)]
    assert (await _balance(payments, first["code"]), await _balance(payments, second["code"])) == (0, 3500)
    assert len(await _events(payments, "GiftCardRedeemed")) == 2


async def test_the_rest_needs_a_card_when_the_gift_cards_do_not_cover_it(payments):
    card = await _issue(payments, amount=1000)
    body = _order(payments, amount=2500, gift_cards=[card["code"]], card=None)
    response = await payments.post("/internal/payments", json=body)
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"payment_method"}
    assert await _balance(payments, card["code"]) == 1000  # nothing debited
    assert (await payments.get(f"/internal/payments/{body['order_id']}")).status_code == 404


async def test_a_declined_card_gives_the_gift_card_its_balance_back(payments):
    card = await _issue(payments, amount=1000)
    body = _order(payments, amount=2500, gift_cards=[card["code"]], card="4000000000009995")
    response = await payments.post("/internal/payments", json=body)
    assert response.status_code == 402
    assert response.json()["decline_code"] == "insufficient_funds"
    assert await _balance(payments, card["code"]) == 1000
    assert await _ledger(payments, card["id"]) == [
        ("issued", 1000, 1000),
        ("redeemed", -1000, 0),
        ("reversed", 1000, 1000),
    ]
    assert await _events(payments, "GiftCardRedeemed") == []
    again = await payments.post("/internal/payments", json=body)  # a retry is declined the same way
    assert again.status_code == 402 and await _balance(payments, card["code"]) == 1000


async def test_a_retry_answers_the_same_tenders_and_never_debits_twice(payments):
    card = await _issue(payments, amount=1000)
    body = _order(payments, amount=2500, gift_cards=[card["code"]])
    first = await payments.post("/internal/payments", json=body)
    again = await payments.post("/internal/payments", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["tenders"] == first.json()["tenders"]
    assert await _balance(payments, card["code"]) == 0
    assert [kind for kind, _, _ in await _ledger(payments, card["id"])] == ["issued", "redeemed"]
    assert len(await _events(payments, "GiftCardRedeemed")) == 1


async def test_orders_racing_for_one_card_never_take_more_than_it_holds(payments):
    """Eight orders of 30.00 at once on a 100.00 card: the first ones take 30.00 each, one takes the
    10.00 left (its card pays the rest); the others find it empty (a 422 naming it) or, having seen it
    before it emptied, pay all by card. Never more than 100.00 taken, the ledger adding up."""
    card = await _issue(payments, amount=10000)
    bodies = [_order(payments, amount=3000, gift_cards=[card["code"]]) for _ in range(8)]
    answers = await asyncio.gather(*(payments.post("/internal/payments", json=b) for b in bodies))
    paid = [a.json() for a in answers if a.status_code == 201]
    refused = [a.json() for a in answers if a.status_code != 201]
    assert all(p["reasons"] == {"gift_cards[0]": "empty"} for p in refused), refused
    from_card = [sum(t["amount"]["amount"] for t in p["tenders"] if t["kind"] == "gift_card") for p in paid]
    assert sum(from_card) == 10000 and all(p["captured"]["amount"] == 3000 for p in paid)
    assert sorted(from_card, reverse=True)[:4] == [3000, 3000, 3000, 1000]
    assert await _balance(payments, card["code"]) == 0
    ledger = await _ledger(payments, card["id"])
    assert sum(amount for _, amount, _ in ledger) == 0
    assert [after for _, _, after in ledger] == [10000, 7000, 4000, 1000, 0]


async def test_refunds_go_to_the_gift_cards_first_then_the_card(payments):
    card = await _issue(payments, amount=3000)
    body = _order(payments, amount=5000, gift_cards=[card["code"]])
    paid = (await payments.post("/internal/payments", json=body)).json()
    order_id = body["order_id"]

    part = await payments.post(
        f"/internal/payments/{order_id}/refunds", json={"refund_key": "r1", "amount": 4000}
    )
    assert part.status_code == 200, part.text
    assert _tenders(part.json()) == [("gift_card", card["last4"], 3000, 3000), ("card", "4242", 2000, 1000)]
    assert part.json()["refunded"]["amount"] == 4000
    assert await _balance(payments, card["code"]) == 3000
    again = await payments.post(
        f"/internal/payments/{order_id}/refunds", json={"refund_key": "r1", "amount": 4000}
    )
    assert again.json()["refunded"]["amount"] == 4000 and await _balance(payments, card["code"]) == 3000

    rest = await payments.post(f"/internal/payments/{order_id}/refunds", json={"refund_key": "r2"})
    assert rest.json()["status"] == "refunded"
    assert _tenders(rest.json()) == [("gift_card", card["last4"], 3000, 3000), ("card", "4242", 2000, 2000)]
    provider = httpx.get(
        f"{payments.sandbox}/v1/refunds",
        headers=SECRET,
        params={"payment_intent": paid["provider_intent_id"]},
    ).json()["data"]
    assert sorted(r["amount"] for r in provider) == [1000, 1000]  # the card got only its part back
    assert [kind for kind, _, _ in await _ledger(payments, card["id"])] == ["issued", "redeemed", "refunded"]
    refunded = await _events(payments, "PaymentRefunded")
    assert [e["payload"]["total_refunded"]["amount"] for e in refunded] == [4000, 5000]


async def test_a_gift_card_only_payment_is_refunded_and_voided_onto_the_card(payments):
    card = await _issue(payments, amount=5000)
    body = _order(payments, amount=2000, gift_cards=[card["code"]], card=None)
    await payments.post("/internal/payments", json=body)
    refunded = await payments.post(
        f"/internal/payments/{body['order_id']}/refunds", json={"refund_key": "a", "amount": 500}
    )
    assert refunded.status_code == 200, refunded.text
    assert await _balance(payments, card["code"]) == 3500
    voided = await payments.post(f"/internal/payments/{body['order_id']}/void")
    assert voided.json()["status"] == "refunded"
    assert await _balance(payments, card["code"]) == 5000
    assert [kind for kind, _, _ in await _ledger(payments, card["id"])] == [
        "issued",
        "redeemed",
        "refunded",
        "reversed",
    ]


async def test_refunds_racing_on_a_gift_card_payment_are_recorded_once_and_never_exceed_it(payments):
    """A double-clicked refund (one key, six requests at once) is recorded once; refunds with their own
    keys racing for what is left never give the gift card more than it paid (PostgreSQL locks the
    payment; SQLite serialises writers)."""
    card = await _issue(payments, amount=5000)
    body = _order(payments, amount=2000, gift_cards=[card["code"]], card=None)
    await payments.post("/internal/payments", json=body)
    url = f"/internal/payments/{body['order_id']}/refunds"
    same = await asyncio.gather(
        *(payments.post(url, json={"refund_key": "twice", "amount": 500}) for _ in range(6))
    )
    assert [r.status_code for r in same] == [200] * 6, [r.text for r in same]
    assert await _balance(payments, card["code"]) == 3500
    racing = await asyncio.gather(
        *(payments.post(url, json={"refund_key": f"k{i}", "amount": 600}) for i in range(5))
    )
    statuses = sorted(r.status_code for r in racing)
    assert statuses.count(200) == 2 and all(s in (409, 422) for s in statuses[2:]), statuses
    assert await _balance(payments, card["code"]) == 3500 + 1200
    assert [kind for kind, _, _ in await _ledger(payments, card["id"])].count("refunded") == 3


async def test_a_card_that_cannot_pay_is_named_and_nothing_is_debited(payments):
    good = await _issue(payments, amount=5000)
    pounds = await _issue(payments, amount=5000, currency="GBP")
    disabled = await _issue(payments, amount=5000)
    assert (
        await payments.post(f"/admin/v1/gift-cards/{disabled['id']}/disable", headers=staff_headers())
    ).status_code == 200
    expired = await _issue(payments, amount=5000)
    empty = await _issue(payments, amount=100)
    async with payments.app.state.db.unit_of_work() as session:
        await session.execute(
            update(GiftCard)
            .where(GiftCard.id == expired["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(days=1))
        )
    await payments.post(
        "/internal/payments", json=_order(payments, amount=100, gift_cards=[empty["code"]], card=None)
    )

    codes = [
        good["code"],
        "ZZZZ-ZZZZ-ZZZZ-ZZZZ",
        pounds["code"],
        disabled["code"],
        expired["code"],
        empty["code"],
        "x",
    ]
    response = await payments.post(
        "/internal/payments", json=_order(payments, amount=2500, gift_cards=codes[1:6])
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"].endswith("gift-card-invalid"), problem
    assert problem["reasons"] == {
        "gift_cards[0]": "unknown",
        "gift_cards[1]": "wrong-currency",
        "gift_cards[2]": "disabled",
        "gift_cards[3]": "expired",
        "gift_cards[4]": "empty",
    }
    assert problem["errors"]["gift_cards[1]"] == "is in GBP; this order is in EUR"
    assert await _balance(payments, good["code"]) == 5000
    twice = await payments.post(
        "/internal/payments", json=_order(payments, amount=2500, gift_cards=[good["code"]] * 2)
    )
    assert twice.json()["reasons"] == {"gift_cards[1]": "repeated"}
    six = await payments.post(
        "/internal/payments", json=_order(payments, amount=2500, gift_cards=[good["code"]] * 6)
    )
    assert six.status_code == 422
    unknown = await payments.post(
        "/internal/payments", json=_order(payments, amount=2500, gift_cards=[codes[6]])
    )
    assert unknown.json()["reasons"] == {"gift_cards[0]": "unknown"}


async def test_a_rest_below_the_providers_minimum_is_left_on_the_gift_card(payments):
    card = await _issue(payments, amount=4980)
    body = _order(payments, amount=5000, gift_cards=[card["code"]])
    paid = (await payments.post("/internal/payments", json=body)).json()
    assert _tenders(paid) == [("gift_card", card["last4"], 4950, 0), ("card", "4242", 50, 0)]
    assert await _balance(payments, card["code"]) == 30


async def test_staff_issue_find_and_disable_cards_audited_by_role(payments):
    for roles, status in (
        (("merchandising",), 403),
        (("support",), 201),
        (("operations",), 201),
        (("admin",), 201),
    ):
        response = await payments.post(
            "/admin/v1/gift-cards",
            json={"amount": {"amount": 1000, "currency": "EUR"}, "recipient_email": "friend@example.com"},
            headers=staff_headers(roles=roles),
        )
        assert response.status_code == status, roles
    card = response.json()
    bad = await payments.post(
        "/admin/v1/gift-cards", json={"amount": {"amount": 0, "currency": "EUR"}}, headers=staff_headers()
    )
    assert bad.status_code == 422 and "amount.amount" in bad.json()["errors"]
    past = await payments.post(
        "/admin/v1/gift-cards",
        json={"amount": {"amount": 100, "currency": "EUR"}, "expires_at": "2020-01-01T00:00:00Z"},
        headers=staff_headers(),
    )
    assert past.status_code == 422 and "expires_at" in past.json()["errors"]
    found = (
        await payments.get(f"/admin/v1/gift-cards?last4={card['last4']}", headers=staff_headers())
    ).json()
    assert card["id"] in [c["id"] for c in found["data"]]
    assert (
        await payments.get("/admin/v1/gift-cards", headers=staff_headers(roles=("merchandising",)))
    ).status_code == 403
    staff_id = new_id("stf")
    disabled = await payments.post(
        f"/admin/v1/gift-cards/{card['id']}/disable",
        headers=staff_headers(roles=("support",), staff_id=staff_id),
    )
    assert disabled.json()["state"] == "disabled"
    assert (await payments.get(f"/api/v1/gift-cards/{card['code']}")).json()["state"] == "disabled"
    audit = [e["payload"] for e in await _events(payments, "StaffActionRecorded")]
    assert [a["action"] for a in audit] == ["gift_card.issue"] * 3 + ["gift_card.disable"]
    assert audit[-1]["staff_id"] == staff_id and audit[-1]["target_id"] == card["id"]
    assert "code" not in str(audit) or card["code"] not in str(audit)
    issued = await _events(payments, "GiftCardIssued")
    assert issued[-1]["payload"]["email"] == "friend@example.com" and card["code"] not in str(issued)


@pytest.mark.parametrize("kind", ["UPDATE gift_card_entries SET amount = 0", "DELETE FROM gift_card_entries"])
async def test_the_ledger_refuses_changes(payments, kind):
    await _issue(payments)
    with pytest.raises(Exception, match="append-only"):
        async with payments.app.state.db.unit_of_work() as session:
            await session.execute(text(kind))


async def test_an_order_placed_twice_issues_its_bought_cards_once(payments):
    """One card per unit of each gift-card line, holding the unit price; the same event again (a
    redelivery past the inbox) issues nothing more: the cards' ids derive from order, SKU and unit."""
    from mercato.contracts.events import OrderLineSnapshot, OrderPlaced
    from mercato.contracts.money import Money
    from mercato.services.payments.giftcards.cards import issue_bought

    def line(sku: str, kind: str, quantity: int, price: int) -> OrderLineSnapshot:
        unit = Money(amount=price, currency="GBP")
        return OrderLineSnapshot(
            sku=sku, product_id="prd_1", name=sku, quantity=quantity, unit_price=unit, kind=kind
        )

    event = OrderPlaced(
        order_id=new_id("ord"),
        customer_id=new_id("cus"),
        total=Money(amount=17500, currency="GBP"),
        lines=(line("GIFT-50", "gift_card", 3, 5000), line("SHIRT", "physical", 1, 2500)),
        placed_at=datetime.now(UTC),
        email="buyer@example.com",
    )
    async with payments.app.state.db.unit_of_work() as session:
        assert await issue_bought(session, event) == 3
    async with payments.app.state.db.unit_of_work() as session:
        assert await issue_bought(session, event) == 0
    cards = (await payments.get("/admin/v1/gift-cards", headers=staff_headers())).json()["data"]
    assert (
        sorted((c["balance"]["amount"], c["balance"]["currency"], c["order_id"]) for c in cards)
        == [(5000, "GBP", event.order_id)] * 3
    )
    issued = [e["payload"] for e in await _events(payments, "GiftCardIssued")]
    assert len(issued) == 3 and {i["email"] for i in issued} == {"buyer@example.com"}
    assert all("code" not in i for i in issued)
