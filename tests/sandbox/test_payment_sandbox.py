"""The Stripe-compatible payment sandbox, run as a real process and driven by the real `stripe` SDK.

Cards are tokenised with the publishable key over raw HTTP, as a browser does; everything else goes
through `stripe.StripeClient`, so these tests pin down that the official client code works against the
sandbox unchanged. A small stdlib HTTP server in the test receives the webhooks and checks their
signatures with `stripe.Webhook.construct_event`, the way Mercato's payments service will.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from mercato.topology import HOST, Topology
from tests.sandbox.processes import StandIn

SECRET_KEY = "sk_test_mercato_sandbox"
PUBLISHABLE_KEY = "pk_test_mercato_sandbox"
WEBHOOK_SECRET = "whsec_mercato_sandbox"
TOPOLOGY = Topology(offset=15000)  # ports below the ephemeral range (32768+)
RESTART_TOPOLOGY = Topology(offset=15010)
VISA = "4242424242424242"


# --- a webhook receiver that can be taken down and brought back on the same port --------------------


@dataclass
class Delivery:
    body: bytes
    signature: str

    def event(self) -> stripe.Event:
        return stripe.Webhook.construct_event(self.body, self.signature, WEBHOOK_SECRET)


@dataclass
class Receiver:
    port: int = 0
    deliveries: list[Delivery] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/webhooks/stripe"

    def start(self) -> None:
        deliveries = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                deliveries.append(Delivery(body, self.headers.get("Stripe-Signature", "")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()

    def events_for(self, object_id: str) -> list[stripe.Event]:
        events = [delivery.event() for delivery in list(self.deliveries)]
        return [event for event in events if _mentions(event, object_id)]

    def wait_for(self, object_id: str, event_type: str, timeout: float = 10.0) -> stripe.Event:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events_for(object_id):
                if event.type == event_type:
                    return event
            time.sleep(0.05)
        raise AssertionError(f"no {event_type} webhook for {object_id} within {timeout}s")


def _mentions(event: stripe.Event, object_id: str) -> bool:
    obj = event.data.object.to_dict()
    return object_id in (obj.get("id"), obj.get("payment_intent"), obj.get("charge"))


# --- the sandbox process ---------------------------------------------------------------------------


class Sandbox(StandIn):
    def __init__(
        self, topology: Topology, state_file: Path, log_file: Path, webhook_url: str | None = None
    ) -> None:
        env = {
            "MERCATO_PORT_OFFSET": str(topology.offset),
            "MERCATO_PAYMENT_SANDBOX_STATE_FILE": str(state_file),
        }
        if webhook_url:
            env["MERCATO_PAYMENT_SANDBOX_WEBHOOK_URL"] = webhook_url
        super().__init__(
            module="mercato.sandbox.payments",
            env=env,
            health_url=f"{topology.payment_sandbox_url}/_sandbox/health",
            log_file=log_file,
        )
        self.topology = topology
        self.state_file = state_file

    @property
    def url(self) -> str:
        return self.topology.payment_sandbox_url

    def client(self, key: str = SECRET_KEY, **options: Any) -> stripe.StripeClient:
        return stripe.StripeClient(key, base_addresses={"api": self.url}, max_network_retries=0, **options)

    def fault(self, **spec: Any) -> None:
        response = httpx.post(f"{self.url}/_sandbox/faults", json=spec, auth=(SECRET_KEY, ""))
        assert response.status_code == 201, response.text

    def tokenise(self, number: str = VISA, **card: str) -> str:
        """Create a PaymentMethod as a browser does: raw form POST with the publishable key."""
        response = httpx.post(
            f"{self.url}/v1/payment_methods",
            data={
                "type": "card",
                "card[number]": number,
                "card[exp_month]": card.get("exp_month", "12"),
                "card[exp_year]": card.get("exp_year", str(time.gmtime().tm_year + 2)),
                "card[cvc]": card.get("cvc", "123"),
            },
            headers={"Authorization": f"Bearer {PUBLISHABLE_KEY}", "Origin": "http://shop.example"},
        )
        assert response.status_code == 200, response.text
        return response.json()["id"]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def sandbox(receiver: Receiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    root = tmp_path_factory.mktemp("payment-sandbox")
    sandbox = Sandbox(TOPOLOGY, root / "payments.db", root / "sandbox.log", webhook_url=receiver.url)
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def client(sandbox: Sandbox) -> stripe.StripeClient:
    return sandbox.client()


def _authorise(client: stripe.StripeClient, payment_method: str, amount: int = 1000, **params: Any) -> Any:
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "eur",
            "payment_method": payment_method,
            "confirm": True,
            "capture_method": "manual",
            **params,
        }
    )


# --- tokenisation ----------------------------------------------------------------------------------


def test_browser_tokenises_a_card_with_the_publishable_key(sandbox: Sandbox) -> None:
    preflight = httpx.options(
        f"{sandbox.url}/v1/payment_methods",
        headers={
            "Origin": "http://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    assert "POST" in preflight.headers["access-control-allow-methods"]

    response = httpx.post(
        f"{sandbox.url}/v1/payment_methods",
        content="type=card&card[number]=4242424242424242&card[exp_month]=12&card[exp_year]=2031&card[cvc]=123",
        headers={
            "Authorization": f"Bearer {PUBLISHABLE_KEY}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "http://shop.example",
        },
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    method = response.json()
    assert method["id"].startswith("pm_") and method["object"] == "payment_method"
    assert method["livemode"] is False
    card = method["card"]
    assert (card["brand"], card["last4"], card["exp_month"], card["exp_year"]) == ("visa", "4242", 12, 2031)
    assert card["funding"] == "credit" and card["country"] == "US" and card["fingerprint"]
    assert VISA not in response.text

    # The secret key reads it back through the SDK; the full number was never kept.
    retrieved = sandbox.client().v1.payment_methods.retrieve(method["id"])
    assert retrieved.card.last4 == "4242" and retrieved.card.fingerprint == card["fingerprint"]
    for path in sandbox.state_file.parent.glob("payments.db*"):
        assert VISA.encode() not in path.read_bytes()


@pytest.mark.parametrize(
    ("card", "code", "param"),
    [
        ({"number": "4242424242424241"}, "incorrect_number", "card[number]"),
        ({"number": "4242-abcd"}, "invalid_number", "card[number]"),
        ({"exp_month": "13"}, "invalid_expiry_month", "card[exp_month]"),
        ({"exp_year": "2001"}, "invalid_expiry_year", "card[exp_year]"),
        ({"cvc": "12a"}, "invalid_cvc", "card[cvc]"),
    ],
)
def test_invalid_cards_are_refused_with_card_errors(
    sandbox: Sandbox, card: dict[str, str], code: str, param: str
) -> None:
    client = sandbox.client(PUBLISHABLE_KEY)
    params: dict[str, Any] = {"number": VISA, "exp_month": "12", "exp_year": "2031", "cvc": "123", **card}
    with pytest.raises(stripe.CardError) as raised:
        client.v1.payment_methods.create(params={"type": "card", "card": params})
    assert raised.value.http_status == 402
    assert (raised.value.code, raised.value.param) == (code, param)


# --- payment intents -------------------------------------------------------------------------------


def test_manual_capture(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    intent = _authorise(client, sandbox.tokenise(), metadata={"order_id": "ord_manual"})
    assert intent.object == "payment_intent" and intent.id.startswith("pi_")
    assert intent.status == "requires_capture"
    assert (intent.amount, intent.currency, intent.amount_capturable, intent.amount_received) == (
        1000,
        "eur",
        1000,
        0,
    )
    assert intent.latest_charge.startswith("ch_") and intent.payment_method.startswith("pm_")
    assert intent.metadata["order_id"] == "ord_manual" and intent.last_payment_error is None

    captured = client.v1.payment_intents.capture(intent.id)
    assert captured.status == "succeeded"
    assert (captured.amount_received, captured.amount_capturable) == (1000, 0)
    charge = client.v1.charges.retrieve(captured.latest_charge)
    assert charge.captured and charge.amount_captured == 1000 and charge.payment_intent == intent.id


def test_automatic_capture_with_a_separate_confirm(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(
        params={"amount": 2500, "currency": "EUR", "payment_method": sandbox.tokenise(), "description": "x"}
    )
    assert intent.status == "requires_confirmation" and intent.capture_method == "automatic"
    confirmed = client.v1.payment_intents.confirm(intent.id, params={"expand": ["latest_charge"]})
    assert confirmed.status == "succeeded" and confirmed.amount_received == 2500
    assert confirmed.latest_charge.object == "charge" and confirmed.latest_charge.captured is True
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.confirm(intent.id)
    assert raised.value.code == "payment_intent_unexpected_state"


def test_partial_capture_releases_the_rest(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    intent = _authorise(client, sandbox.tokenise())
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 1001})
    assert raised.value.param == "amount_to_capture"

    captured = client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 600})
    assert (captured.status, captured.amount_received, captured.amount_capturable) == ("succeeded", 600, 0)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 601})


def test_cancel_releases_an_authorisation(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    intent = _authorise(client, sandbox.tokenise())
    canceled = client.v1.payment_intents.cancel(intent.id, params={"cancellation_reason": "abandoned"})
    assert canceled.status == "canceled" and canceled.cancellation_reason == "abandoned"
    assert canceled.canceled_at and canceled.amount_capturable == 0
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.capture(intent.id)
    assert raised.value.code == "payment_intent_unexpected_state"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.cancel(intent.id)


@pytest.mark.parametrize(
    ("number", "code", "decline_code"),
    [
        ("4000000000000002", "card_declined", "generic_decline"),
        ("4000000000009995", "card_declined", "insufficient_funds"),
        ("4000000000000069", "expired_card", "expired_card"),
        ("4000000000000127", "incorrect_cvc", "incorrect_cvc"),
    ],
)
def test_declines_raise_card_errors_and_leave_the_intent_retryable(
    sandbox: Sandbox, client: stripe.StripeClient, number: str, code: str, decline_code: str
) -> None:
    with pytest.raises(stripe.CardError) as raised:
        _authorise(client, sandbox.tokenise(number))
    error = raised.value
    assert error.http_status == 402 and error.code == code
    assert error.error is not None and error.error.decline_code == decline_code
    assert error.user_message and error.error.charge.startswith("ch_")
    declined = error.error.payment_intent
    assert declined.status == "requires_payment_method"
    assert declined.last_payment_error.decline_code == decline_code

    intent = client.v1.payment_intents.retrieve(declined.id)
    assert intent.status == "requires_payment_method" and intent.latest_charge == error.error.charge
    assert client.v1.charges.retrieve(intent.latest_charge).status == "failed"
    retried = client.v1.payment_intents.confirm(intent.id, params={"payment_method": sandbox.tokenise()})
    assert retried.status == "requires_capture" and retried.last_payment_error is None
    assert retried.latest_charge != intent.latest_charge


# --- idempotency -----------------------------------------------------------------------------------


def test_idempotent_replay_and_mismatch(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    key = f"order-{uuid.uuid4()}"
    params: dict[str, Any] = {"amount": 1500, "currency": "eur", "metadata": {"order_id": key}}
    first = client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
    again = client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.last_response.headers
    assert again.last_response.body == first.last_response.body

    with pytest.raises(stripe.IdempotencyError) as raised:
        client.v1.payment_intents.create(params={**params, "amount": 1600}, options={"idempotency_key": key})
    assert raised.value.http_status == 400


def test_a_decline_is_replayed_too(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    key = f"decline-{uuid.uuid4()}"
    params = {"amount": 900, "currency": "eur", "payment_method": "pm_card_chargeDeclined", "confirm": True}
    errors = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as raised:
            client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
        errors.append(raised.value)
    assert errors[0].error.payment_intent.id == errors[1].error.payment_intent.id
    assert errors[1].headers["Idempotent-Replayed"] == "true"


def test_concurrent_requests_with_one_key_create_one_intent(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    key = f"burst-{uuid.uuid4().hex}"
    params: dict[str, Any] = {"amount": 700, "currency": "eur", "metadata": {"burst": key}}

    def create(_: int) -> str:
        return client.v1.payment_intents.create(params=params, options={"idempotency_key": key}).id

    with ThreadPoolExecutor(max_workers=20) as pool:
        ids = set(pool.map(create, range(20)))
    assert len(ids) == 1
    found = client.v1.payment_intents.search(params={"query": f"metadata['burst']:'{key}'"})
    assert [intent.id for intent in found.data] == list(ids)


# --- refunds ---------------------------------------------------------------------------------------


def test_partial_and_full_refunds(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create(
        params={"amount": 5000, "currency": "eur", "payment_method": sandbox.tokenise(), "confirm": True}
    )
    partial = client.v1.refunds.create(
        params={"payment_intent": intent.id, "amount": 1200, "reason": "requested_by_customer"}
    )
    assert partial.id.startswith("re_") and partial.object == "refund"
    assert (partial.status, partial.amount, partial.charge) == ("succeeded", 1200, intent.latest_charge)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (1200, False)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.refunds.create(params={"charge": intent.latest_charge, "amount": 3801})
    assert (raised.value.http_status, raised.value.param) == (400, "amount")

    rest = client.v1.refunds.create(params={"charge": intent.latest_charge, "metadata": {"why": "rest"}})
    assert rest.amount == 3800 and rest.payment_intent == intent.id and rest.metadata["why"] == "rest"
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (5000, True)
    assert client.v1.refunds.retrieve(partial.id).amount == 1200

    listed = client.v1.refunds.list(params={"payment_intent": intent.id})
    assert [refund.id for refund in listed.data] == [rest.id, partial.id]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1})

    event = _event_about(sandbox, intent.latest_charge, "charge.refunded")
    assert event.data.object.amount_refunded in (1200, 5000)


def _event_about(sandbox: Sandbox, object_id: str, event_type: str) -> stripe.Event:
    """The first webhook of a type about an object, fetched back through the events API."""
    events = sandbox.client().v1.events.list(params={"type": event_type, "limit": 100})
    for event in events.auto_paging_iter():
        if _mentions(event, object_id):
            return event
    raise AssertionError(f"no {event_type} event for {object_id}")


# --- lists and search ------------------------------------------------------------------------------


def test_list_pagination_and_metadata_search(client: stripe.StripeClient) -> None:
    batch = uuid.uuid4().hex[:12]
    created = [
        client.v1.payment_intents.create(
            params={
                "amount": 100 + i,
                "currency": "eur",
                "metadata": {"batch": batch, "order_id": f"{batch}-{i}"},
            }
        ).id
        for i in range(5)
    ]
    newest_first = created[::-1]

    page = client.v1.payment_intents.list(params={"limit": 2})
    assert page.object == "list" and page.url == "/v1/payment_intents" and page.has_more
    assert [intent.id for intent in page.data] == newest_first[:2]
    following = client.v1.payment_intents.list(params={"limit": 2, "starting_after": newest_first[1]})
    assert [intent.id for intent in following.data] == newest_first[2:4]
    before = client.v1.payment_intents.list(params={"limit": 2, "ending_before": newest_first[3]})
    assert [intent.id for intent in before.data] == newest_first[1:3] and before.has_more
    walked = [intent.id for intent in page.auto_paging_iter()]
    assert walked[:5] == newest_first and len(walked) == len(set(walked))

    one = client.v1.payment_intents.search(params={"query": f"metadata['order_id']:'{batch}-3'"})
    assert one.object == "search_result" and [intent.id for intent in one.data] == [created[3]]
    all_of_batch = client.v1.payment_intents.search(
        params={"query": f"metadata['batch']:'{batch}'", "limit": 3}
    )
    assert [intent.id for intent in all_of_batch.auto_paging_iter()] == newest_first
    narrowed = client.v1.payment_intents.search(
        params={"query": f"metadata['batch']:'{batch}' AND amount>=103 AND status:'requires_payment_method'"}
    )
    assert {intent.id for intent in narrowed.data} == set(created[3:])


# --- webhooks --------------------------------------------------------------------------------------


def test_webhooks_are_signed_like_stripe(
    sandbox: Sandbox, receiver: Receiver, client: stripe.StripeClient
) -> None:
    intent = _authorise(client, sandbox.tokenise())
    client.v1.payment_intents.capture(intent.id)
    authorised = receiver.wait_for(intent.id, "payment_intent.amount_capturable_updated")
    succeeded = receiver.wait_for(intent.id, "payment_intent.succeeded")
    assert authorised.object == "event" and authorised.id.startswith("evt_") and authorised.livemode is False
    assert authorised.data.object.status == "requires_capture" and authorised.api_version
    assert succeeded.data.object.amount_received == 1000 and succeeded.created

    delivery = next(d for d in receiver.deliveries if succeeded.id.encode() in d.body)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            delivery.body.replace(b"1000", b"9999"), delivery.signature, WEBHOOK_SECRET
        )
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery.body, delivery.signature, "whsec_wrong")

    declined_intent = client.v1.payment_intents.create(params={"amount": 300, "currency": "eur"})
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(
            declined_intent.id, params={"payment_method": "pm_card_chargeDeclined"}
        )
    failed = receiver.wait_for(declined_intent.id, "payment_intent.payment_failed")
    assert failed.data.object.last_payment_error.decline_code == "generic_decline"
    client.v1.payment_intents.cancel(declined_intent.id)
    receiver.wait_for(declined_intent.id, "payment_intent.canceled")


def test_webhooks_are_redelivered_after_the_receiver_was_down(
    sandbox: Sandbox, receiver: Receiver, client: stripe.StripeClient
) -> None:
    receiver.stop()
    try:
        intent = client.v1.payment_intents.create(  # a down receiver must not fail the API call
            params={"amount": 4200, "currency": "eur", "payment_method": "pm_card_visa", "confirm": True}
        )
        assert intent.status == "succeeded"
        time.sleep(1.0)  # a few attempts fail meanwhile
    finally:
        receiver.start()
    event = receiver.wait_for(intent.id, "payment_intent.succeeded", timeout=15)
    assert event.data.object.amount_received == 4200


def test_dispute_card_opens_a_dispute_after_capture(
    sandbox: Sandbox, receiver: Receiver, client: stripe.StripeClient
) -> None:
    intent = _authorise(client, sandbox.tokenise("4000000000000259"))
    time.sleep(0.2)
    assert not [e for e in receiver.events_for(intent.latest_charge) if e.type == "charge.dispute.created"]
    client.v1.payment_intents.capture(intent.id)
    event = receiver.wait_for(intent.latest_charge, "charge.dispute.created")
    dispute = event.data.object
    assert dispute.object == "dispute" and dispute.id.startswith("dp_")
    assert (dispute.charge, dispute.payment_intent, dispute.amount) == (intent.latest_charge, intent.id, 1000)
    assert client.v1.charges.retrieve(intent.latest_charge).disputed is True


# --- fault injection -------------------------------------------------------------------------------


def test_an_error_before_the_operation_changes_nothing(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    intent = _authorise(client, sandbox.tokenise())
    sandbox.fault(path_prefix=f"/v1/payment_intents/{intent.id}/capture", mode="error", status=500, count=1)
    key = f"capture-{intent.id}"
    with pytest.raises(stripe.APIError) as raised:
        client.v1.payment_intents.capture(intent.id, options={"idempotency_key": key})
    assert raised.value.http_status == 500
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"

    retried = client.v1.payment_intents.capture(intent.id, options={"idempotency_key": key})
    assert retried.status == "succeeded"
    assert "Idempotent-Replayed" not in retried.last_response.headers  # nothing was saved for the key


def test_a_hang_after_capture_times_out_the_client_but_the_capture_happened(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    intent = _authorise(client, sandbox.tokenise())
    sandbox.fault(path_prefix=f"/v1/payment_intents/{intent.id}/capture", mode="hang", after=True, count=1)
    impatient = sandbox.client(http_client=stripe.RequestsClient(timeout=1))
    key = f"capture-{intent.id}"
    started = time.monotonic()
    with pytest.raises(stripe.APIConnectionError):
        impatient.v1.payment_intents.capture(intent.id, options={"idempotency_key": key})
    assert time.monotonic() - started < 5
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"

    retried = client.v1.payment_intents.capture(intent.id, options={"idempotency_key": key})
    assert retried.status == "succeeded"
    assert retried.last_response.headers["Idempotent-Replayed"] == "true"


def test_faults_can_be_listed_delayed_and_cleared(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    sandbox.fault(path_prefix="/v1/payment_intents", method="GET", mode="delay", delay_ms=300)
    faults = httpx.get(f"{sandbox.url}/_sandbox/faults", headers={"Authorization": f"Bearer {SECRET_KEY}"})
    assert [fault["mode"] for fault in faults.json()["data"]] == ["delay"]
    started = time.monotonic()
    client.v1.payment_intents.list(params={"limit": 1})
    assert time.monotonic() - started >= 0.3
    assert httpx.delete(f"{sandbox.url}/_sandbox/faults", auth=(SECRET_KEY, "")).status_code == 200
    assert httpx.post(f"{sandbox.url}/_sandbox/faults", json={"mode": "hang"}).status_code == 401
    bad = httpx.post(f"{sandbox.url}/_sandbox/faults", json={"mode": "melt"}, auth=(SECRET_KEY, ""))
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"


# --- authentication and bad input ------------------------------------------------------------------


def test_keys(sandbox: Sandbox) -> None:
    with pytest.raises(stripe.AuthenticationError):
        sandbox.client("sk_test_wrong").v1.payment_intents.list()
    with pytest.raises(stripe.AuthenticationError) as raised:
        sandbox.client(PUBLISHABLE_KEY).v1.payment_intents.create(params={"amount": 100, "currency": "eur"})
    assert raised.value.error is not None and raised.value.error.code == "secret_key_required"
    missing = httpx.get(f"{sandbox.url}/v1/payment_intents")
    assert missing.status_code == 401 and missing.json()["error"]["type"] == "invalid_request_error"
    basic = httpx.get(f"{sandbox.url}/v1/payment_intents", auth=(SECRET_KEY, ""))
    assert basic.status_code == 200 and basic.json()["object"] == "list"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "param"),
    [
        ("POST", "/v1/payment_intents", "amount=abc&currency=eur", 400, "amount"),
        ("POST", "/v1/payment_intents", "currency=eur", 400, "amount"),
        ("POST", "/v1/payment_intents", "amount=100&currency=eur&colour=red", 400, "colour"),
        ("POST", "/v1/payment_intents", "amount=100&currency=eur&metadata=x&metadata[a]=b", 400, None),
        ("POST", "/v1/payment_intents", "amount=100&currency=euro", 400, "currency"),
        ("POST", "/v1/payment_intents", "amount=100&currency=eur&confirm=maybe", 400, "confirm"),
        (
            "POST",
            "/v1/payment_intents",
            "amount=100&currency=eur&payment_method=pm_nope",
            404,
            "payment_method",
        ),
        ("GET", "/v1/payment_intents/pi_nope", "", 404, "id"),
        ("GET", "/v1/payment_intents?limit=1000", "", 400, "limit"),
        ("GET", "/v1/payment_intents/search?query=amount%3D%3D1", "", 400, "query"),
        ("POST", "/v1/refunds", "payment_intent=pi_nope", 404, "payment_intent"),
        ("GET", "/v1/teapots", "", 404, None),
        ("POST", "/v1/payment_intents", b"amount=%ff%fe", 400, None),
    ],
)
def test_bad_input_gets_a_stripe_error_never_a_500(
    sandbox: Sandbox, method: str, path: str, body: str | bytes, status: int, param: str | None
) -> None:
    response = httpx.request(
        method,
        f"{sandbox.url}{path}",
        content=body or None,
        headers={
            "Authorization": f"Bearer {SECRET_KEY}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"]
    if param:
        assert error["param"] == param
    if status == 404 and param:
        assert error["code"] == "resource_missing"


def test_sdk_raises_not_found_for_unknown_ids(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.retrieve("pi_doesnotexist")
    assert (raised.value.http_status, raised.value.code) == (404, "resource_missing")


# --- durability ------------------------------------------------------------------------------------


def test_state_and_idempotency_keys_survive_a_restart(tmp_path: Path) -> None:
    sandbox = Sandbox(RESTART_TOPOLOGY, tmp_path / "payments.db", tmp_path / "sandbox.log")
    sandbox.start()
    try:
        client = sandbox.client()
        key = f"restart-{uuid.uuid4()}"
        params: dict[str, Any] = {"amount": 1234, "currency": "eur", "payment_method": "pm_card_visa"}
        params |= {"confirm": True, "capture_method": "manual"}
        intent = client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
    finally:
        sandbox.stop()
    sandbox.start()
    try:
        client = sandbox.client()
        assert client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"
        replay = client.v1.payment_intents.create(params=params, options={"idempotency_key": key})
        assert replay.id == intent.id and replay.last_response.headers["Idempotent-Replayed"] == "true"
        assert client.v1.payment_intents.capture(intent.id).status == "succeeded"
    finally:
        sandbox.stop()
