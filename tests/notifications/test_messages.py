"""What customers receive, as it arrives at the SMTP sink: welcome, order confirmation, shipping,
delivery, cancellation and refund e-mails, rendered from the events' data."""

from __future__ import annotations

from mercato.contracts.events import OrderTotals, TaxLine
from mercato.contracts.money import Money
from tests.notifications.factories import (
    email_address,
    line,
    placed,
    refunded,
    registered,
    status_changed,
)

SENDER = "Mercato <orders@mercato.localhost>"
TIMES = "\N{MULTIPLICATION SIGN}"  # what the templates put between quantity and name or price


async def _customer(notifications, mail_sink, **options):
    """A registered customer whose welcome e-mail has arrived."""
    customer = registered(email=email_address(), **options)
    await notifications.publish(customer)
    await mail_sink.wait_for(customer.email)
    return customer


async def test_a_new_customer_gets_a_welcome_email(notifications, mail_sink):
    to = email_address()
    customer = registered(email=to, name="Zoë Ñandú-Müller")

    await notifications.publish(customer)

    [mail] = await mail_sink.wait_for(to)
    assert mail["subject"] == "Welcome to Mercato, Zoë Ñandú-Müller"  # RFC 2047 on the wire, intact
    assert mail["to"] == [to]
    assert mail["from"] == SENDER
    assert "Hello Zoë Ñandú-Müller," in mail["text"]
    assert "Your account is ready: http://127.0.0.1:8000" in mail["text"]
    assert "Welcome, Zoë Ñandú-Müller!" in mail["html"]

    [logged] = await notifications.settled(customer_id=customer.customer_id)
    assert (logged["kind"], logged["channel"], logged["status"]) == ("welcome", "email", "sent")
    assert logged["to_address"] == to
    assert logged["attempts"] == 1
    assert logged["provider_id"] == mail["message_id"]  # the sent log names the very mail that arrived


async def test_the_order_confirmation_lists_lines_and_total_in_text_and_html(notifications, mail_sink):
    customer = await _customer(notifications, mail_sink, name="Ada")
    order = placed(
        customer_id=customer.customer_id,
        lines=[
            line(name="<b>Tee</b>", quantity=2, amount=2999, sku="TEE-BLK-M"),
            line(name="Merino Socks", quantity=1, amount=1200, sku="SOCK-GRY-42"),
        ],
    )

    await notifications.publish(order)

    mails = await mail_sink.wait_for(customer.email, count=2)
    confirmation = mails[0]
    assert confirmation["subject"] == f"Your order {order.order_id} is confirmed"
    assert confirmation["to"] == [customer.email]
    assert confirmation["from"] == SENDER

    text = confirmation["text"]
    assert "Hello Ada," in text
    assert f"2 {TIMES} <b>Tee</b> (TEE-BLK-M)  €29.99" in text  # plain text is not HTML: nothing escaped
    assert f"1 {TIMES} Merino Socks (SOCK-GRY-42)  €12.00" in text
    assert "Total: €71.98" in text
    assert f"http://127.0.0.1:8000/orders/{order.order_id}" in text

    html = confirmation["html"]
    assert html.lstrip().startswith("<!doctype html>")
    assert "&lt;b&gt;Tee&lt;/b&gt;" in html  # the product name is escaped ...
    assert "<b>Tee</b>" not in html  # ... never markup
    assert "Merino Socks" in html
    assert f"2 {TIMES} €29.99" in html and f"1 {TIMES} €12.00" in html
    assert "€71.98" in html
    assert f"<strong>{order.order_id}</strong>" in html

    [logged] = [m for m in await notifications.settled(order_id=order.order_id)]
    assert (logged["kind"], logged["status"], logged["subject"]) == (
        "order_confirmation",
        "sent",
        confirmation["subject"],
    )


async def test_the_order_confirmation_shows_shipping_and_the_tax_lines(notifications, mail_sink):
    customer = await _customer(notifications, mail_sink, name="Ada")
    tee, book = line(name="Tee", quantity=2, amount=1999), line(name="Book", quantity=1, amount=1000)
    order = placed(customer_id=customer.customer_id, lines=[tee, book]).model_copy(
        update={
            "total": Money(amount=5493, currency="EUR"),
            "totals": OrderTotals(
                subtotal=Money(amount=4998, currency="EUR"),
                discount=Money(amount=0, currency="EUR"),
                shipping=Money(amount=495, currency="EUR"),
                tax=Money(amount=782, currency="EUR"),
                total=Money(amount=5493, currency="EUR"),
            ),
            "tax_lines": (
                TaxLine(rate="19", label="VAT", amount=Money(amount=717, currency="EUR")),
                TaxLine(rate="7", label="VAT", amount=Money(amount=65, currency="EUR")),
            ),
            "prices_include_tax": True,
            "shipping_method": "Standard delivery",
            "market_id": "eu",
        }
    )

    await notifications.publish(order)

    confirmation = (await mail_sink.wait_for(customer.email, count=2))[0]
    text = confirmation["text"]
    assert "Subtotal: €49.98" in text
    assert "Shipping (Standard delivery): €4.95" in text
    assert "incl. VAT 19%: €7.17" in text and "incl. VAT 7%: €0.65" in text
    assert "Total: €54.93" in text
    html = confirmation["html"]
    assert "Standard delivery" in html and "incl. VAT 19%" in html and "€7.17" in html and "€54.93" in html


async def test_large_totals_and_other_currencies_are_formatted_as_money(notifications, mail_sink):
    customer = await _customer(notifications, mail_sink)
    euros = placed(customer_id=customer.customer_id, lines=[line(quantity=3, amount=41152)])  # 3 at €411.52
    yen = placed(customer_id=customer.customer_id, lines=[line(amount=1500, currency="JPY")])

    await notifications.publish(euros, yen)

    await mail_sink.wait_for(customer.email, count=3)
    by_order = {m["subject"]: m for m in await mail_sink.messages(customer.email)}
    assert "Total: €1,234.56" in by_order[f"Your order {euros.order_id} is confirmed"]["text"]
    assert "Total: ¥1,500" in by_order[f"Your order {yen.order_id} is confirmed"]["text"]


async def test_shipping_delivery_and_cancellation_emails(notifications, mail_sink):
    customer = await _customer(notifications, mail_sink)
    order = placed(customer_id=customer.customer_id, lines=[line(name="Rain Jacket", amount=8900)])
    await notifications.publish(order)
    await mail_sink.wait_for(customer.email, count=2)

    await notifications.publish(
        status_changed(
            customer_id=customer.customer_id,
            order_id=order.order_id,
            from_state="processing",
            to_state="shipped",
            carrier="dhl",  # a code: the e-mail names the carrier as its table does
            tracking_number="JJD000390007881234567",
        )
    )
    shipped = (await mail_sink.wait_for(customer.email, count=3))[0]
    assert shipped["subject"] == f"Your order {order.order_id} is on its way"
    assert "Carrier: DHL" in shipped["text"]
    assert "Tracking number: JJD000390007881234567" in shipped["text"]
    dhl = "https://www.dhl.com/global-en/home/tracking.html?tracking-id=JJD000390007881234567&submit=1"
    assert f"Track your parcel: {dhl}" in shipped["text"]
    assert "Carrier: <strong>DHL</strong>" in shipped["html"]
    html_link = dhl.replace("&", "&amp;")
    assert (
        f'Tracking number: <a href="{html_link}"><strong>JJD000390007881234567</strong></a>'
        in shipped["html"]
    )
    assert f'<a href="{html_link}" style=' in shipped["html"]  # the button goes to the carrier, not back here
    assert "Track your parcel with DHL" in shipped["html"]
    assert "Rain Jacket" in shipped["html"]  # the lines, from the order's summary

    await notifications.publish(
        status_changed(
            customer_id=customer.customer_id,
            order_id=order.order_id,
            from_state="shipped",
            to_state="delivered",
        )
    )
    delivered = (await mail_sink.wait_for(customer.email, count=4))[0]
    assert delivered["subject"] == f"Your order {order.order_id} was delivered"
    assert "was delivered" in delivered["text"]

    other = placed(customer_id=customer.customer_id, lines=[line(amount=4550)])
    await notifications.publish(
        other,
        status_changed(
            customer_id=customer.customer_id,
            order_id=other.order_id,
            to_state="cancelled",
            reason="requested by the customer",
        ),
    )
    mails = await mail_sink.wait_for(customer.email, count=6)
    [cancelled] = [m for m in mails if m["subject"] == f"Your order {other.order_id} was cancelled"]
    assert "was cancelled (requested by the customer)" in cancelled["text"]
    assert "The payment of €45.50 will be refunded" in cancelled["text"]
    assert "€45.50" in cancelled["html"]

    log = await notifications.settled(customer_id=customer.customer_id)
    assert sorted(m["kind"] for m in log) == sorted(
        [
            "welcome",
            "order_confirmation",
            "order_shipped",
            "order_delivered",
            "order_confirmation",
            "order_cancelled",
        ]
    )
    assert {m["status"] for m in log} == {"sent"}


async def test_messages_about_an_order_name_it_by_its_short_number(notifications, mail_sink):
    customer = await _customer(notifications, mail_sink)
    order = placed(customer_id=customer.customer_id, number="M-10042")
    await notifications.publish(order)
    confirmation = (await mail_sink.wait_for(customer.email, count=2))[0]
    assert confirmation["subject"] == "Your order M-10042 is confirmed"
    assert "thank you for your order M-10042." in confirmation["text"]
    assert f"/orders/{order.order_id}" in confirmation["text"]  # the link still goes by id

    await notifications.publish(
        status_changed(
            customer_id=customer.customer_id,
            order_id=order.order_id,
            from_state="processing",
            to_state="shipped",
            carrier="DHL",
            tracking_number="JJD000390007",
        )
    )
    shipped = (await mail_sink.wait_for(customer.email, count=3))[0]
    assert shipped["subject"] == "Your order M-10042 is on its way"  # from the order's summary
    assert "<strong>M-10042</strong>" in shipped["html"]


async def test_a_return_gets_an_email(notifications, mail_sink):
    customer = await _customer(notifications, mail_sink)
    order = placed(customer_id=customer.customer_id)
    await notifications.publish(order)
    await mail_sink.wait_for(customer.email, count=2)

    await notifications.publish(
        status_changed(
            customer_id=customer.customer_id,
            order_id=order.order_id,
            from_state="delivered",
            to_state="returned",
        )
    )

    returned = (await mail_sink.wait_for(customer.email, count=3))[0]
    assert returned["subject"] == f"Your return of order {order.order_id} is registered"
    assert "e-mail you when the refund is issued." in returned["text"]


async def test_state_changes_nobody_needs_to_hear_about_send_nothing(notifications, mail_sink):
    customer = await _customer(notifications, mail_sink)
    order = placed(customer_id=customer.customer_id)
    await notifications.publish(order)
    await mail_sink.wait_for(customer.email, count=2)

    await notifications.publish(
        status_changed(customer_id=customer.customer_id, order_id=order.order_id, to_state="processing"),
        status_changed(customer_id=customer.customer_id, order_id=order.order_id, to_state="refunded"),
    )

    log = await notifications.settled(customer_id=customer.customer_id)
    assert sorted(m["kind"] for m in log) == ["order_confirmation", "welcome"]
    assert len(await mail_sink.messages(customer.email)) == 2


async def test_a_refund_email_tells_the_amount(notifications, mail_sink):
    customer = await _customer(notifications, mail_sink)
    order = placed(customer_id=customer.customer_id, lines=[line(quantity=2, amount=2500)])
    await notifications.publish(order)
    await mail_sink.wait_for(customer.email, count=2)

    await notifications.publish(
        refunded(customer_id=customer.customer_id, order_id=order.order_id, amount=1999, total_refunded=1999)
    )
    full = (await mail_sink.wait_for(customer.email, count=3))[0]
    assert full["subject"] == f"Refund of €19.99 for order {order.order_id}"
    assert f"we refunded €19.99 for your order {order.order_id}." in full["text"]
    assert "<strong>€19.99</strong>" in full["html"]
    assert "refunded in all" not in full["text"]

    # a second, partial refund of the same order is its own message, with the running total
    await notifications.publish(
        refunded(customer_id=customer.customer_id, order_id=order.order_id, amount=1001, total_refunded=3000)
    )
    partial = (await mail_sink.wait_for(customer.email, count=4))[0]
    assert partial["subject"] == f"Refund of €10.01 for order {order.order_id}"
    assert "(€30.00 refunded in all)" in partial["text"]


async def test_the_refund_of_a_failed_checkout_sends_nothing(notifications, mail_sink):
    customer = await _customer(notifications, mail_sink)
    order_id = "ord_checkout_failed_" + customer.customer_id[-8:]

    await notifications.publish(
        refunded(customer_id=customer.customer_id, order_id=order_id, amount=2999, reason="checkout_failed")
    )
    # Something that does send, after it: once it arrived, the refund had its turn.
    await notifications.publish(
        status_changed(customer_id=customer.customer_id, order_id=order_id, to_state="cancelled")
    )

    mails = await mail_sink.wait_for(customer.email, count=2)
    assert [m["subject"] for m in mails] == [
        f"Your order {order_id} was cancelled",
        "Welcome to Mercato, Ada Lovelace",
    ]
    log = await notifications.settled(customer_id=customer.customer_id)
    assert "payment_refunded" not in {m["kind"] for m in log}
    assert len(await mail_sink.messages(customer.email)) == 2
