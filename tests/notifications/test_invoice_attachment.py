"""The order confirmation carries the invoice: fetched from orders (a real orders service on its own
database, over HTTP) when the e-mail is sent, attached as a PDF that says the number, the buyer and the
tax; retried while orders is down, and sent without it on the last attempt rather than never."""

from __future__ import annotations

import email
import email.policy
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from mercato.platform.ids import new_id
from mercato.services.orders.main import build_app as build_orders
from mercato.services.orders.settings import OrdersSettings
from tests.notifications.conftest import eventually
from tests.notifications.factories import email_address, placed, registered
from tests.orders.invoicing.factories import BERLIN, add_invoiced_order, pdf_text
from tests.servers import closed_port_url, free_port, served


@pytest.fixture
async def orders(databases, backend, tmp_path) -> AsyncIterator[FastAPI]:
    """Orders on its own real database (started, not yet listening: a test serves it when it wants)."""
    app = build_orders(
        OrdersSettings(
            environment="test",
            database_url=await databases.fresh("orders", backend),
            document_dir=tmp_path / "documents",
            cursor_secret="s",
            order_link_secret="test-order-links",
            reconcile_every_seconds=3600,
            catalog_url=closed_port_url(),
            payments_url=closed_port_url(),
        )
    )
    async with app.router.lifespan_context(app):
        yield app


async def _invoiced(orders: FastAPI) -> tuple[str, str, str, str]:
    """(customer id, their address, order id, invoice number) of a placed, invoiced order."""
    customer_id, address, number = new_id("cus"), email_address(), "EU-2026-00007"
    order_id = await add_invoiced_order(orders, invoice_number=number, customer_id=customer_id)
    return customer_id, address, order_id, number


async def _confirmations(mail_sink, address: str) -> list[dict]:
    return [m for m in await mail_sink.messages(address) if m["subject"].startswith("Your order")]


async def _confirmation(mail_sink, address: str) -> dict:
    """The order's confirmation (after the welcome e-mail of the registration)."""
    [confirmation] = await eventually(
        lambda: _confirmations(mail_sink, address), lambda found: len(found) == 1, what="the confirmation"
    )
    return confirmation


async def _attachment(mail_sink, message: dict) -> bytes:
    async with httpx.AsyncClient(base_url=mail_sink.web_url) as client:
        raw = (await client.get(f"/api/messages/{message['id']}/raw")).content
    [part] = email.message_from_bytes(raw, policy=email.policy.default).iter_attachments()
    assert part.get_content_type() == "application/pdf"
    return part.get_payload(decode=True)


async def test_the_confirmation_attaches_the_invoice_pdf(orders, running_notifications, mail_sink):
    customer_id, address, order_id, number = await _invoiced(orders)
    async with served(orders) as orders_url, running_notifications(orders_url=orders_url) as service:
        await service.publish(registered(email=address, customer_id=customer_id, name="Grace Hopper"))
        await service.publish(placed(customer_id=customer_id, order_id=order_id, invoice_number=number))
        confirmation = await _confirmation(mail_sink, address)

    assert [a["filename"] for a in confirmation["attachments"]] == [f"{number}.pdf"]
    text = pdf_text(await _attachment(mail_sink, confirmation))
    for expected in (
        f"Invoice Number: {number}",
        BERLIN["name"],  # the buyer
        BERLIN["line1"],
        "VAT 19 % 50.40 9.58",  # each rate: net and tax
        "VAT 7 % 14.02 0.98",
        "Tax included 10.56 EUR",
        "Total 74.98 EUR",
    ):
        assert expected in text, (expected, text)


async def test_orders_down_the_e_mail_waits_and_then_goes_with_the_invoice(
    orders, running_notifications, mail_sink
):
    customer_id, address, order_id, number = await _invoiced(orders)
    port = free_port()
    async with running_notifications(orders_url=f"http://127.0.0.1:{port}") as service:
        await service.publish(registered(email=address, customer_id=customer_id))
        await service.publish(placed(customer_id=customer_id, order_id=order_id, invoice_number=number))
        [waiting] = await eventually(
            lambda: service.messages(order_id=order_id),
            lambda rows: rows and rows[0]["attempts"] >= 1,
            what="a first attempt",
        )
        assert waiting["status"] == "pending" and "orders" in waiting["last_error"]
        assert await _confirmations(mail_sink, address) == []  # not without its invoice while it may come

        async with served(orders, port):
            confirmation = await _confirmation(mail_sink, address)
    assert [a["filename"] for a in confirmation["attachments"]] == [f"{number}.pdf"]


async def test_its_last_attempt_goes_without_the_invoice_rather_than_never(
    orders, running_notifications, mail_sink
):
    customer_id, address, order_id, number = await _invoiced(orders)
    async with running_notifications(orders_url=closed_port_url(), dispatch_max_attempts=2) as service:
        await service.publish(registered(email=address, customer_id=customer_id))
        await service.publish(placed(customer_id=customer_id, order_id=order_id, invoice_number=number))
        confirmation = await _confirmation(mail_sink, address)
        [sent] = await service.settled(order_id=order_id)
    assert confirmation["attachments"] == [] and (sent["status"], sent["attempts"]) == ("sent", 2)
