"""Bulk single-use codes: asked for, made in the background with their progress in the batch, every one
unique (collisions drawn again), exported as CSV; a batch a stopped process left running is finished
when orders starts again."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select

from mercato.platform.ids import new_id
from mercato.services.orders.promotions import codes
from mercato.services.orders.promotions.models import PromotionCode, PromotionCodeBatch
from tests.catalog.factories import create_product
from tests.orders.factories import ADDRESS, card_token, outbox_events, staff_headers
from tests.orders.promotions.backoffice import MERCHANDISING, create, office

__all__ = ["office"]  # the fixture


async def _finished(office, promotion_id: str, batch_id: str) -> tuple[dict, list[int]]:
    """The batch once done (or failed), and the progress seen on the way."""
    seen = []
    for _ in range(1200):
        answer = await office.get(
            f"/admin/v1/promotions/{promotion_id}/code-batches/{batch_id}", headers=MERCHANDISING
        )
        assert answer.status_code == 200, answer.text
        batch = answer.json()
        seen.append(batch["generated"])
        if batch["state"] != "running":
            return batch, seen
        await asyncio.sleep(0.05)
    raise AssertionError(f"the batch is still running: {batch}")


async def _csv(office, promotion_id: str, batch_id: str) -> list[dict[str, str]]:
    answer = await office.get(
        f"/admin/v1/promotions/{promotion_id}/code-batches/{batch_id}/codes.csv", headers=MERCHANDISING
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(answer.text)))


async def test_ten_thousand_unique_codes_are_made_with_their_progress_and_exported(office):
    promotion = await create(office, codes=["SHARED10"])
    asked = await office.post(
        f"/admin/v1/promotions/{promotion['id']}/code-batches",
        json={"count": 10_000, "prefix": "xmas"},
        headers=MERCHANDISING,
    )
    assert asked.status_code == 202, asked.text
    assert (asked.json()["requested"], asked.json()["prefix"], asked.json()["state"]) == (
        10_000,
        "XMAS",
        "running",
    )
    batch, seen = await _finished(office, promotion["id"], asked.json()["id"])
    assert (batch["state"], batch["generated"], batch["requested"]) == ("done", 10_000, 10_000)
    assert batch["finished_at"] is not None
    assert seen == sorted(seen)  # the bar only moves forward

    rows = await _csv(office, promotion["id"], batch["id"])
    found = [row["code"] for row in rows]
    assert len(found) == len(set(found)) == 10_000
    assert all(re.fullmatch(r"XMAS-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{10}", code) for code in found)
    assert {row["used"] for row in rows} == {"0"}
    async with office.app.state.db.read() as session:
        stored = set(
            await session.scalars(select(PromotionCode.code).where(PromotionCode.batch_id == batch["id"]))
        )
        limits = set(
            await session.scalars(
                select(PromotionCode.usage_limit).where(PromotionCode.batch_id == batch["id"]).distinct()
            )
        )
    assert stored == set(found) and limits == {1}  # single use

    shown = (await office.get(f"/admin/v1/promotions/{promotion['id']}", headers=MERCHANDISING)).json()
    assert shown["codes"] == ["SHARED10"]  # the batch's codes are in its CSV, not in the promotion
    assert [b["id"] for b in shown["batches"]] == [batch["id"]]
    audit = await outbox_events(office.app, "StaffActionRecorded")
    assert audit[-1]["action"] == "promotion.codes_generated"
    assert audit[-1]["details"] == {"batch_id": batch["id"], "count": 10_000, "prefix": "XMAS"}


async def test_collisions_are_drawn_again_until_the_batch_is_whole(office, monkeypatch):
    monkeypatch.setattr(codes, "RANDOM_LENGTH", 3)  # 27000 possible codes: hundreds of draws collide
    drawn = []
    draw = codes.draw
    monkeypatch.setattr(codes, "draw", lambda prefix: drawn.append(draw(prefix)) or drawn[-1])
    promotion = await create(office, codes=[])
    batches = []
    for count in (3000, 3500):
        asked = await office.post(
            f"/admin/v1/promotions/{promotion['id']}/code-batches",
            json={"count": count},
            headers=MERCHANDISING,
        )
        batches.append((await _finished(office, promotion["id"], asked.json()["id"]))[0])
    assert [(b["generated"], b["state"]) for b in batches] == [(3000, "done"), (3500, "done")]
    together = [r["code"] for b in batches for r in await _csv(office, promotion["id"], b["id"])]
    assert len(together) == len(set(together)) == 6500
    assert len(drawn) > 6500 + 100  # collisions there were, and each was drawn again


async def test_a_batch_left_running_is_finished_when_orders_starts(office):
    promotion = await create(office, codes=[])
    async with office.app.state.db.unit_of_work() as session:  # as a process stopped mid-batch leaves it
        session.add(
            PromotionCodeBatch(
                id="pcb_left",
                promotion_id=promotion["id"],
                prefix="",
                requested=2500,
                generated=0,
                state="running",
                staff_id=None,
                created_at=datetime.now(UTC),
                finished_at=None,
            )
        )
    await codes.resume(office.app.state.db)
    await codes.resume(office.app.state.db)  # once per process, however often asked
    batch, _ = await _finished(office, promotion["id"], "pcb_left")
    assert (batch["state"], batch["generated"]) == ("done", 2500)
    async with office.app.state.db.read() as session:
        made = await session.scalar(
            select(func.count()).select_from(PromotionCode).where(PromotionCode.batch_id == "pcb_left")
        )
    assert made == 2500
    assert len(await _csv(office, promotion["id"], "pcb_left")) == 2500


async def test_batches_are_refused_where_they_make_no_sense(office):
    by_code = await create(office, codes=[])
    automatic = await create(office, name="Auto", trigger="automatic", codes=[])
    path = f"/admin/v1/promotions/{by_code['id']}/code-batches"
    for body in [{"count": 0}, {"count": 100_001}, {"count": "10"}, {"count": 5, "prefix": "BAD PREFIX"}]:
        refused = await office.post(path, json=body, headers=MERCHANDISING)
        assert refused.status_code == 422, (body, refused.text)
    wrong = await office.post(
        f"/admin/v1/promotions/{automatic['id']}/code-batches", json={"count": 5}, headers=MERCHANDISING
    )
    assert wrong.status_code == 409 and wrong.json()["type"].endswith("/not-a-code-promotion")
    missing = await office.post(
        "/admin/v1/promotions/prm_nope/code-batches", json={"count": 5}, headers=MERCHANDISING
    )
    assert missing.status_code == 404
    elsewhere = await office.get(
        f"/admin/v1/promotions/{automatic['id']}/code-batches/pcb_nope", headers=MERCHANDISING
    )
    assert elsewhere.status_code == 404
    support = staff_headers(roles=("support",))
    assert (await office.post(path, json={"count": 5}, headers=support)).status_code == 403


async def test_a_generated_code_is_used_once_and_the_csv_and_the_report_say_so(back_office):
    orders = back_office.orders
    created = await orders.post(
        "/admin/v1/promotions",
        json={"name": "Partner 5", "trigger": "code", "action": {"type": "fixed", "amounts": {"EUR": 500}}},
        headers=MERCHANDISING,
    )
    promotion_id = created.json()["id"]
    asked = await orders.post(
        f"/admin/v1/promotions/{promotion_id}/code-batches", json={"count": 3}, headers=MERCHANDISING
    )
    batch, _ = await _finished(orders, promotion_id, asked.json()["id"])
    code = (await _csv(orders, promotion_id, batch["id"]))[0]["code"]

    first, second = ({"x-mercato-customer-id": new_id("cus")} for _ in range(2))
    sku = (await create_product(back_office.catalog, price=2000, stock=20))["variants"][0]["sku"]
    for shopper in (first, second):
        added = await orders.post("/api/v1/cart/items", json={"sku": sku, "quantity": 2}, headers=shopper)
        assert added.status_code == 200, added.text
    entered = await orders.post("/api/v1/cart/codes", json={"code": code.lower()}, headers=first)
    assert entered.json()["codes"][0]["applied"] is True, entered.text
    placed = await orders.post(
        "/api/v1/checkout",
        json={"shipping_address": ADDRESS, "payment_method": card_token(sandbox=back_office.sandbox)},
        headers=first | {"Idempotency-Key": str(uuid.uuid4())},
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["totals"]["discount"] == {"amount": 2 * 500, "currency": "EUR"}  # 5 off each unit

    again = await orders.post("/api/v1/cart/codes", json={"code": code}, headers=second)
    [outcome] = again.json()["codes"]
    assert (outcome["applied"], outcome["reason"]) == (False, "usage-exhausted")
    used = {row["code"]: row["used"] for row in await _csv(orders, promotion_id, batch["id"])}
    assert used.pop(code) == "1" and set(used.values()) == {"0"}

    report = await orders.get("/admin/v1/reports/promotions", headers=MERCHANDISING)
    [row] = report.json()["data"]
    assert (row["promotion_id"], row["orders"], row["revenue"], row["discount"]) == (
        promotion_id,
        1,
        order["total"],
        order["totals"]["discount"],
    )
