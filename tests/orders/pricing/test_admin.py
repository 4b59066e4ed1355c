"""Merchandising manages shipping zones and methods, and reads the tax rates; what they change is what
the next quote offers, in this process at once."""

from __future__ import annotations

from tests.orders.factories import staff_headers

MERCHANDISING = staff_headers(roles=("merchandising",))


async def test_the_seeded_tax_rates_are_listed(shop):
    orders, _ = shop
    listed = await orders.get("/admin/v1/tax-rates", headers=MERCHANDISING)
    assert listed.status_code == 200, listed.text
    rates = {(r["country"], r["region"], r["tax_class"]): r["rate"] for r in listed.json()["data"]}
    assert rates[("DE", "", "standard")] == "19" and rates[("DE", "", "reduced")] == "7"
    assert rates[("FI", "", "standard")] == "25.5" and rates[("FI", "", "reduced")] == "13.5"
    assert rates[("GB", "", "reduced")] == "5"
    assert rates[("US", "NY", "standard")] == "4"


async def test_a_zone_and_its_method_are_created_edited_and_deactivated(shop):
    orders, _ = shop
    zone = await orders.post(
        "/admin/v1/shipping-zones",
        json={"name": "Scottish Highlands", "countries": ["gb"], "postal_patterns": ["iv*", "KW*"]},
        headers=MERCHANDISING,
    )
    assert zone.status_code == 201, zone.text
    assert zone.json()["countries"] == ["GB"] and zone.json()["postal_patterns"] == ["IV*", "KW*"]
    zone_id = zone.json()["id"]
    method = await orders.post(
        "/admin/v1/shipping-methods",
        json={
            "zone_id": zone_id,
            "name": "Highlands courier",
            "kind": "standard",
            "currency": "GBP",
            "rate_type": "weight",
            "bands": [{"up_to": 2000, "amount": 995}, {"up_to": None, "amount": 1995}],
            "min_days": 3,
            "max_days": 6,
        },
        headers=MERCHANDISING,
    )
    assert method.status_code == 201, method.text
    method_id = method.json()["id"]
    assert method.json()["bands"][1] == {"up_to": None, "amount": 1995}

    edited = await orders.patch(
        f"/admin/v1/shipping-methods/{method_id}", json={"free_from": 10000}, headers=MERCHANDISING
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["free_from"] == {"amount": 10000, "currency": "GBP"}
    off = await orders.patch(
        f"/admin/v1/shipping-zones/{zone_id}", json={"active": False}, headers=MERCHANDISING
    )
    assert off.status_code == 200 and off.json()["active"] is False
    listed = await orders.get(
        "/admin/v1/shipping-methods", params={"zone_id": zone_id}, headers=MERCHANDISING
    )
    assert [m["id"] for m in listed.json()["data"]] == [method_id]


async def test_bad_configuration_is_refused(shop):
    orders, _ = shop
    base = {
        "zone_id": "shz_eu",
        "name": "X",
        "kind": "standard",
        "currency": "EUR",
        "min_days": 1,
        "max_days": 2,
    }
    for body, status in [
        (base | {"rate_type": "value"}, 422),  # bands needed
        (
            base
            | {"rate_type": "value", "bands": [{"up_to": 5000, "amount": 1}, {"up_to": 1000, "amount": 1}]},
            422,
        ),
        (
            base
            | {"rate_type": "value", "bands": [{"up_to": None, "amount": 1}, {"up_to": 1000, "amount": 1}]},
            422,
        ),
        (base | {"min_days": 5}, 422),
        (base | {"zone_id": "shz_nowhere"}, 422),
        (base | {"amount": -1}, 422),
    ]:
        refused = await orders.post("/admin/v1/shipping-methods", json=body, headers=MERCHANDISING)
        assert refused.status_code == status, (body, refused.text)
    assert (
        await orders.patch("/admin/v1/shipping-zones/shz_eu", json={"name": None}, headers=MERCHANDISING)
    ).status_code == 422
    assert (
        await orders.patch("/admin/v1/shipping-methods/shm_nope", json={"name": "Y"}, headers=MERCHANDISING)
    ).status_code == 404


async def test_only_merchandising_manages_shipping(shop):
    orders, _ = shop
    operations = staff_headers(roles=("operations",))
    assert (await orders.get("/admin/v1/shipping-zones", headers=operations)).status_code == 403
    assert (await orders.get("/admin/v1/shipping-zones")).status_code == 401
