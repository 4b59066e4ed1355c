"""The order confirmation of an order sold with promotions and paid partly by gift card: each line's
sale and discount, the Discount row with the promotions (and their codes) it is made of, and how it was
paid — in the text and the HTML part, as they arrive at the SMTP sink."""

from __future__ import annotations

from mercato.contracts.events import AppliedPromotion, OrderTotals, TaxLine, Tender
from mercato.contracts.money import Money
from tests.notifications.factories import email_address, line, placed, registered


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


async def test_the_confirmation_shows_the_discounts_and_the_gift_card_payment(notifications, mail_sink):
    customer = registered(email=email_address(), name="Ada")
    await notifications.publish(customer)
    await mail_sink.wait_for(customer.email)
    tee = line(name="Tee", quantity=2, amount=2400, sku="TEE-M").model_copy(
        update={"list_unit_price": eur(3000), "discount": eur(480)}
    )
    mug = line(name="Mug", quantity=1, amount=1000, sku="MUG-1")
    order = placed(customer_id=customer.customer_id, lines=[tee, mug]).model_copy(
        update={
            "total": eur(5815),
            "totals": OrderTotals(
                subtotal=eur(5800), discount=eur(480), shipping=eur(495), tax=eur(928), total=eur(5815)
            ),
            "tax_lines": (TaxLine(rate="19", label="VAT", amount=eur(928)),),
            "prices_include_tax": True,
            "shipping_method": "Standard delivery",
            "promotions": (
                AppliedPromotion(promotion_id="prm_1", name="Ten off tees", code="TEN", amount=eur(480)),
            ),
            "tenders": (
                Tender(kind="gift_card", amount=eur(2000), last4="ABCD"),
                Tender(kind="card", amount=eur(3815), last4="4242"),
            ),
        }
    )

    await notifications.publish(order)

    confirmation = (await mail_sink.wait_for(customer.email, count=2))[0]
    text = confirmation["text"]
    assert "2 \u00d7 Tee (TEE-M)  €24.00 (was €30.00)  \u2212€4.80 discount" in text
    assert "1 \u00d7 Mug (MUG-1)  €10.00\n" in text  # no discount, no sale: nothing more said
    assert "Subtotal: €58.00\nDiscount: \u2212€4.80\n  Ten off tees (code TEN): \u2212€4.80\nShipping" in text
    assert "Total: €58.15\nPaid by gift card ••••ABCD: €20.00\nPaid by card ending 4242: €38.15\n" in text
    html = confirmation["html"]
    assert '<s style="color:#71717a;">€30.00</s> €24.00' in html and "\u2212€4.80 discount" in html
    assert "Ten off tees (code TEN)" in html and "\u2212€4.80" in html
    assert "Paid by gift card ••••ABCD" in html and "€20.00" in html
    assert "Paid by card ending 4242" in html and "€38.15" in html


async def test_an_order_without_promotions_says_nothing_of_them(notifications, mail_sink):
    customer = registered(email=email_address(), name="Ada")
    await notifications.publish(customer)
    await mail_sink.wait_for(customer.email)
    order = placed(customer_id=customer.customer_id, lines=[line(name="Tee", amount=2400)]).model_copy(
        update={
            "totals": OrderTotals(
                subtotal=eur(2400), discount=eur(0), shipping=eur(0), tax=eur(383), total=eur(2400)
            ),
            "total": eur(2400),
        }
    )

    await notifications.publish(order)

    confirmation = (await mail_sink.wait_for(customer.email, count=2))[0]
    for part in (confirmation["text"], confirmation["html"]):
        assert "Discount" not in part and "discount" not in part and "Paid by" not in part
    assert "Total: €24.00\n\nYour order:" in confirmation["text"]
