"""Merchandising defines promotions in the back office: created, listed, edited, archived; every refusal
names its field; a code belongs to one promotion; every write is on the audit trail; a sale's change
tells catalog the whole set of sales; the cart sees a change at once (this process's cache)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from mercato.services.orders.promotions.models import PromotionRow
from tests.orders.factories import outbox_events, staff_headers, staff_id_of
from tests.orders.promotions.backoffice import MERCHANDISING, create, office, promotion

__all__ = ["office"]  # the fixture


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


async def test_a_promotion_by_code_is_created_listed_shown_and_audited(office):
    created = await create(
        office,
        name="  Summer ten ",
        description="Ten percent off\nall shirts",
        codes=["summer10", "Sun-10"],
        conditions={"markets": ["EU"], "min_subtotal": {"EUR": 5000}, "category_ids": ["cat_shirts"]},
        per_customer_limit=1,
        usage_limit=100,
        priority=5,
        combines=False,
    )
    assert created["name"] == "Summer ten" and created["trigger"] == "code"
    assert created["codes"] == ["SUMMER10", "SUN-10"]  # kept upper case, in order
    assert created["conditions"]["markets"] == ["eu"]
    assert created["conditions"]["min_subtotal"] == {"EUR": 5000}
    assert created["action"] == {
        "type": "percentage",
        "target": "lines",
        "percent": "10",
        "amounts": {},
        "buy": 0,
        "get": 0,
        "tiers": [],
    }
    assert (created["status"], created["used"], created["batches"]) == ("live", 0, [])
    assert (created["usage_limit"], created["per_customer_limit"], created["combines"]) == (100, 1, False)

    shown = await office.get(f"/admin/v1/promotions/{created['id']}", headers=MERCHANDISING)
    assert shown.status_code == 200 and shown.json() == created
    second = await create(
        office, name="Free shipping", trigger="automatic", codes=[], action={"type": "free_shipping"}
    )
    listed = await office.get("/admin/v1/promotions", headers=MERCHANDISING)
    assert [p["id"] for p in listed.json()["data"]] == [second["id"], created["id"]]  # newest first
    only_codes = await office.get("/admin/v1/promotions", params={"trigger": "code"}, headers=MERCHANDISING)
    assert [p["id"] for p in only_codes.json()["data"]] == [created["id"]]

    audit = await outbox_events(office.app, "StaffActionRecorded")
    assert [(a["action"], a["target_type"], a["target_id"]) for a in audit] == [
        ("promotion.created", "promotion", created["id"]),
        ("promotion.created", "promotion", second["id"]),
    ]
    assert audit[0]["staff_id"] == staff_id_of(MERCHANDISING)
    # the cart weighs it without waiting for the periodic refresh
    assert office.app.state.deps.promotions.get(second["id"]).name == "Free shipping"
    assert await outbox_events(office.app, "CataloguePromotionsChanged") == []  # no sale was touched


async def test_the_list_pages_with_a_cursor_bound_to_its_filters(office):
    made = [(await create(office, name=f"P{n}", codes=[f"CODE{n}"]))["id"] for n in range(5)]
    first = (await office.get("/admin/v1/promotions", params={"limit": 3}, headers=MERCHANDISING)).json()
    assert [p["id"] for p in first["data"]] == made[::-1][:3]
    rest = await office.get(
        "/admin/v1/promotions", params={"limit": 3, "cursor": first["next_cursor"]}, headers=MERCHANDISING
    )
    assert [p["id"] for p in rest.json()["data"]] == made[::-1][3:] and rest.json()["next_cursor"] is None
    other = await office.get(
        "/admin/v1/promotions",
        params={"limit": 3, "cursor": first["next_cursor"], "trigger": "sale"},
        headers=MERCHANDISING,
    )
    assert other.status_code == 400


async def test_an_edit_changes_what_it_names_and_archiving_keeps_it(office):
    created = await create(office, codes=["OLD10", "KEEP10"], usage_limit=50)
    edited = await office.patch(
        f"/admin/v1/promotions/{created['id']}",
        json={"name": "Ten off, again", "codes": ["keep10", "NEW10"], "usage_limit": None},
        headers=MERCHANDISING,
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["name"], body["codes"], body["usage_limit"]) == ("Ten off, again", ["KEEP10", "NEW10"], None)
    assert body["action"] == created["action"] and body["updated_at"] > created["updated_at"]
    # OLD10 is free again: another promotion may take it
    await create(office, name="Other", codes=["OLD10"])

    archived = await office.patch(
        f"/admin/v1/promotions/{created['id']}", json={"active": False}, headers=MERCHANDISING
    )
    assert (archived.json()["active"], archived.json()["status"]) == (False, "archived")
    listed = await office.get("/admin/v1/promotions", params={"active": "false"}, headers=MERCHANDISING)
    assert [p["id"] for p in listed.json()["data"]] == [created["id"]]
    actions = [a["action"] for a in await outbox_events(office.app, "StaffActionRecorded")]
    assert actions == ["promotion.created", "promotion.updated", "promotion.created", "promotion.updated"]


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"trigger": "automatic"}, "trigger"),
        ({"name": None}, "name"),
        ({"action": {"type": "percentage"}}, "action.percent"),
        ({"ends_at": "2020-01-01T00:00:00Z", "starts_at": "2021-01-01T00:00:00Z"}, "ends_at"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_an_edit_that_makes_it_wrong_is_refused_and_changes_nothing(office, patch, field):
    created = await create(office)
    refused = await office.patch(f"/admin/v1/promotions/{created['id']}", json=patch, headers=MERCHANDISING)
    assert refused.status_code == 422, refused.text
    assert field in refused.json()["errors"], refused.json()
    assert (
        await office.get(f"/admin/v1/promotions/{created['id']}", headers=MERCHANDISING)
    ).json() == created


SALE = {"trigger": "sale", "codes": [], "action": {"type": "percentage", "percent": "20"}}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "A\nB"}, "name"),
        ({"trigger": "voucher"}, "trigger"),
        ({"action": {"type": "percentage"}}, "action.percent"),
        ({"action": {"type": "percentage", "percent": "0"}}, "action.percent"),
        ({"action": {"type": "percentage", "percent": "100.01"}}, "action.percent"),
        ({"action": {"type": "percentage", "percent": 10}}, "action.percent"),
        ({"action": {"type": "percentage", "percent": "ten"}}, "action.percent"),
        ({"action": {"type": "percentage", "percent": "10", "amounts": {"EUR": 5}}}, "action.amounts"),
        ({"action": {"type": "fixed"}}, "action.amounts"),
        ({"action": {"type": "fixed", "amounts": {"EUR": 0}}}, "action.amounts.EUR"),
        ({"action": {"type": "fixed", "amounts": {"EUR": -5}}}, "action.amounts.EUR"),
        ({"action": {"type": "fixed", "amounts": {"EUR": "5"}}}, "action.amounts.EUR"),
        ({"action": {"type": "fixed", "amounts": {"XXX": 5}}}, "action.amounts.XXX.[key]"),
        ({"action": {"type": "buy_x_get_y", "buy": 2}}, "action.get"),
        ({"action": {"type": "buy_x_get_y", "buy": 0, "get": 1}}, "action.buy"),
        ({"action": {"type": "buy_x_get_y", "buy": 2, "get": 1, "target": "order"}}, "action.target"),
        ({"action": {"type": "tiered"}}, "action.tiers"),
        (
            {
                "action": {
                    "type": "tiered",
                    "tiers": [{"percent": "10", "min_quantity": 5}, {"percent": "15", "min_quantity": 3}],
                }
            },
            "action.tiers.1",
        ),
        (
            {
                "action": {
                    "type": "tiered",
                    "tiers": [{"percent": "10", "min_quantity": 3}, {"percent": "5", "min_quantity": 5}],
                }
            },
            "action.tiers.1.percent",
        ),
        ({"action": {"type": "tiered", "tiers": [{"percent": "10"}]}}, "action.tiers.0"),
        ({"action": {"type": "free_shipping", "percent": "10"}}, "action.percent"),
        ({"codes": ["AB"]}, "codes.0"),
        ({"codes": ["SUMMER 10"]}, "codes.0"),
        ({"codes": ["summer10", "SUMMER10"]}, "codes"),
        ({"trigger": "automatic"}, "codes"),  # codes only for trigger code
        ({"starts_at": "2026-12-24T00:00:00Z", "ends_at": "2026-12-24T00:00:00Z"}, "ends_at"),
        ({"starts_at": "2026-12-24T00:00:00"}, "starts_at"),
        ({"starts_at": 1766534400}, "starts_at"),
        ({"usage_limit": 0}, "usage_limit"),
        ({"conditions": {"min_quantity": -1}}, "conditions.min_quantity"),
        ({"conditions": {"skus": ["lower-case"]}}, "conditions.skus.0"),
        ({"conditions": {"first_order": "yes"}}, "conditions.first_order"),
        (SALE | {"action": {"type": "free_shipping"}}, "action.type"),
        (SALE | {"action": {"type": "fixed", "amounts": {"EUR": 500}, "target": "order"}}, "action.target"),
        (SALE | {"conditions": {"min_subtotal": {"EUR": 5000}}}, "conditions.min_subtotal"),
        (SALE | {"conditions": {"first_order": True}}, "conditions.first_order"),
        (SALE | {"usage_limit": 10}, "usage_limit"),
        (SALE | {"per_customer_limit": 1}, "per_customer_limit"),
        (SALE | {"codes": ["SALE10"]}, "codes"),
    ],
)
async def test_a_wrong_promotion_is_refused_with_the_field_named(office, fields, field):
    refused = await office.post("/admin/v1/promotions", json=promotion(**fields), headers=MERCHANDISING)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert field in refused.json()["errors"], refused.json()
    listed = await office.get("/admin/v1/promotions", headers=MERCHANDISING)
    assert listed.json()["data"] == []  # nothing half-written


async def test_a_code_belongs_to_one_promotion(office):
    first = await create(office, codes=["SUMMER10"])
    taken = await office.post(
        "/admin/v1/promotions", json=promotion(codes=["FREE5", "summer10"]), headers=MERCHANDISING
    )
    assert taken.status_code == 409, taken.text
    assert (taken.json()["type"].rsplit("/", 1)[-1], taken.json()["errors"]) == (
        "code-taken",
        {"codes.1": "is already taken"},
    )
    other = await create(office, name="Other", codes=["FREE5"])
    clash = await office.patch(
        f"/admin/v1/promotions/{other['id']}", json={"codes": ["FREE5", "SUMMER10"]}, headers=MERCHANDISING
    )
    assert clash.status_code == 409
    # a promotion keeps its own codes through an edit
    kept = await office.patch(
        f"/admin/v1/promotions/{first['id']}", json={"codes": ["SUMMER10"]}, headers=MERCHANDISING
    )
    assert kept.status_code == 200 and kept.json()["codes"] == ["SUMMER10"]


async def test_a_create_retried_with_its_idempotency_key_makes_one_promotion(office):
    headers = MERCHANDISING | {"Idempotency-Key": "create-1"}
    first = await office.post("/admin/v1/promotions", json=promotion(), headers=headers)
    again = await office.post("/admin/v1/promotions", json=promotion(), headers=headers)
    assert first.status_code == 201 and again.status_code == 201
    assert again.headers.get("idempotent-replayed") == "true" and again.json()["id"] == first.json()["id"]
    other = await office.post("/admin/v1/promotions", json=promotion(name="Else"), headers=headers)
    assert other.status_code == 409
    assert len((await office.get("/admin/v1/promotions", headers=MERCHANDISING)).json()["data"]) == 1


async def test_a_sale_change_tells_catalog_every_current_and_scheduled_sale(office):
    now = datetime.now(UTC)
    running = await create(
        office,
        name="Winter sale",
        **SALE,
        conditions={"category_ids": ["cat_coats"], "markets": ["eu"]},
        ends_at=_iso(now + timedelta(days=7)),
        priority=2,
    )
    scheduled = await create(
        office,
        name="Spring sale",
        trigger="sale",
        codes=[],
        action={"type": "fixed", "amounts": {"EUR": 500, "GBP": 400}},
        conditions={"skus": ["SHIRT-M"]},
        starts_at=_iso(now + timedelta(days=30)),
    )
    await create(office, name="Over", **SALE, ends_at=_iso(now - timedelta(days=1)))  # ended: not sent
    await create(office, name="Code", codes=["CODE10"])  # not a sale: no event

    sent = await outbox_events(office.app, "CataloguePromotionsChanged")
    assert len(sent) == 3
    latest = {p["id"]: p for p in sent[-1]["promotions"]}
    assert set(latest) == {running["id"], scheduled["id"]}
    assert latest[running["id"]] | {"ends_at": None} == {
        "id": running["id"],
        "name": "Winter sale",
        "priority": 2,
        "starts_at": None,
        "ends_at": None,
        "markets": ["eu"],
        "product_ids": [],
        "category_ids": ["cat_coats"],
        "skus": [],
        "percent": "20",
        "amounts": {},
    }
    assert (latest[scheduled["id"]]["percent"], latest[scheduled["id"]]["amounts"]) == (
        None,
        {"EUR": 500, "GBP": 400},
    )
    assert latest[scheduled["id"]]["starts_at"] is not None

    await office.patch(f"/admin/v1/promotions/{running['id']}", json={"active": False}, headers=MERCHANDISING)
    [*_, archived] = await outbox_events(office.app, "CataloguePromotionsChanged")
    assert [p["id"] for p in archived["promotions"]] == [scheduled["id"]]


async def test_only_a_promotion_never_used_can_be_deleted(office):
    unused = await create(office, codes=["GONE10"])
    deleted = await office.delete(f"/admin/v1/promotions/{unused['id']}", headers=MERCHANDISING)
    assert deleted.status_code == 204
    assert (
        await office.get(f"/admin/v1/promotions/{unused['id']}", headers=MERCHANDISING)
    ).status_code == 404
    await create(office, name="Again", codes=["GONE10"])  # its code went with it

    used = await create(office, name="Used", codes=["USED10"])
    async with office.app.state.db.unit_of_work() as session:  # as a checkout's conditional UPDATE does
        await session.execute(update(PromotionRow).where(PromotionRow.id == used["id"]).values(used=1))
    refused = await office.delete(f"/admin/v1/promotions/{used['id']}", headers=MERCHANDISING)
    assert refused.status_code == 409 and refused.json()["type"].endswith("/promotion-used")


async def test_unknown_promotions_are_404(office):
    for method, path, body in [
        ("GET", "/admin/v1/promotions/prm_nope", None),
        ("PATCH", "/admin/v1/promotions/prm_nope", {"name": "X"}),
        ("DELETE", "/admin/v1/promotions/prm_nope", None),
    ]:
        answer = await office.request(method, path, json=body, headers=MERCHANDISING)
        assert answer.status_code == 404, (method, answer.text)


async def test_only_merchandising_manages_promotions(office):
    operations = staff_headers(roles=("operations",))
    assert (await office.get("/admin/v1/promotions", headers=operations)).status_code == 403
    refused = await office.post("/admin/v1/promotions", json=promotion(), headers=operations)
    assert refused.status_code == 403
    assert (await office.get("/admin/v1/promotions")).status_code == 401
    admin = staff_headers(roles=("admin",))
    assert (await office.post("/admin/v1/promotions", json=promotion(), headers=admin)).status_code == 201
