"""CSV bulk import: all rows checked first; all applied in one go, or none with a report of every
problem; importing the same file again changes nothing."""

from __future__ import annotations

import csv
import hashlib
import io

from sqlalchemy import select

from mercato.services.catalog.models import StockMovement
from tests.catalog.factories import (
    CSV_COLUMNS,
    MERCHANDISER,
    MERCHANDISER_ID,
    count_products,
    create_product,
    csv_file,
    csv_row,
    idempotency_key,
    import_csv,
    outbox_events,
    reserve,
)

TEE = [
    csv_row(slug="import-tee", sku="IMP-TEE-S", size="S"),
    csv_row(slug="import-tee", sku="IMP-TEE-M", size="M", price="21.50", stock="0"),
]
MUG = [csv_row(slug="import-mug", sku="IMP-MUG", product_name="Imported Mug", category_slug="home", size="")]


async def test_a_good_file_is_applied_published_audited_and_kept_in_the_history(catalog):
    data = csv_file([*TEE, *MUG])
    response = await import_csv(catalog, data, filename="spring.csv")

    assert response.status_code == 201, response.text
    result = response.json()
    assert result | {"import_id": None, "created_at": None} == {
        "import_id": None,
        "status": "applied",
        "file_name": "spring.csv",
        "file_sha256": hashlib.sha256(data).hexdigest(),
        "size_bytes": len(data),
        "staff_id": MERCHANDISER_ID,
        "created_at": None,
        "rows": 3,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "variants": {"created": 3, "updated": 0, "unchanged": 0},
        "error_count": 0,
    }
    tee = (await catalog.get("/api/v1/products/import-tee")).json()
    assert [(v["sku"], v["attributes"], v["price"]["amount"], v["available"]) for v in tee["variants"]] == [
        ("IMP-TEE-S", {"size": "S", "colour": "Black"}, 1999, 5),
        ("IMP-TEE-M", {"size": "M", "colour": "Black"}, 2150, 0),
    ]
    mug = (await catalog.get("/api/v1/products/import-mug")).json()
    assert (mug["category"]["slug"], mug["variants"][0]["attributes"]) == ("home", {"colour": "Black"})
    created = await outbox_events(catalog, "ProductCreated")
    assert sorted(e["payload"]["slug"] for e in created) == ["import-mug", "import-tee"]
    [audit] = await outbox_events(catalog, "StaffActionRecorded")
    assert (audit["payload"]["action"], audit["payload"]["target_id"]) == (
        "product_import.apply",
        result["import_id"],
    )

    history = (await catalog.get("/admin/v1/product-imports", headers=MERCHANDISER)).json()["data"]
    assert [(i["import_id"], i["status"], i["created"]) for i in history] == [
        (result["import_id"], "applied", 2)
    ]
    detail = (
        await catalog.get(f"/admin/v1/product-imports/{result['import_id']}", headers=MERCHANDISER)
    ).json()
    assert (detail["file_name"], detail["errors"]) == ("spring.csv", [])


async def test_importing_the_same_file_again_changes_nothing(catalog):
    data = csv_file([*TEE, *MUG])
    assert (await import_csv(catalog, data)).status_code == 201
    events = await outbox_events(catalog)

    again = await import_csv(catalog, data)

    assert again.status_code == 201
    assert (again.json()["created"], again.json()["updated"], again.json()["unchanged"]) == (0, 0, 2)
    assert again.json()["variants"] == {"created": 0, "updated": 0, "unchanged": 3}
    new_events = (await outbox_events(catalog))[len(events) :]
    assert [e["payload"]["action"] for e in new_events] == ["product_import.apply"]  # only the audit entry


async def test_one_bad_row_rejects_the_whole_file_naming_that_row_and_nothing_changes(catalog):
    products_before, events_before = await count_products(catalog), await outbox_events(catalog)
    rows = [*TEE, csv_row(slug="import-cap", sku="IMP-CAP", price="12,50"), *MUG]

    response = await import_csv(catalog, csv_file(rows), filename="bad.csv")

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"] == [
        {
            "row": 4,
            "column": "price",
            "message": "is not a price such as 19.99 (digits, a point, no currency sign)",
        }
    ]
    assert problem["error_count"] == 1
    assert await count_products(catalog) == products_before
    assert (await catalog.get("/api/v1/products/import-tee")).status_code == 404
    new_events = (await outbox_events(catalog))[len(events_before) :]
    assert [e["payload"]["action"] for e in new_events] == ["product_import.reject"]
    detail = await catalog.get(f"/admin/v1/product-imports/{problem['import_id']}", headers=MERCHANDISER)
    assert (detail.json()["status"], detail.json()["errors"]) == ("rejected", problem["errors"])


async def test_every_problem_is_reported_row_by_row_not_just_the_first(catalog):
    other = await create_product(catalog, stock=4)
    taken_sku = other["variants"][0]["sku"]
    mine = await create_product(catalog, stock=4)
    held_sku = mine["variants"][1]["sku"]
    await reserve(catalog, lines=[(held_sku, 3)])
    rows = [
        csv_row(slug="tee-a", sku="A-1"),  # row 2: fine
        csv_row(slug="tee-a", sku="A-2", size="L", product_name="Another Name"),  # 3: differs from row 2
        csv_row(slug="tee-b", sku="A-1", size="XL"),  # 4: SKU repeated
        csv_row(slug="tee-c", sku="C-1", category_slug="no-such-category"),  # 5
        csv_row(slug="tee-d", sku="D-1", price="19.999", status="gone"),  # 6: two problems
        csv_row(slug="tee-e", sku="e-lower", stock="lots"),  # 7: two problems
        csv_row(slug="tee-f", sku=taken_sku),  # 8: another product's SKU
        csv_row(slug=mine["slug"], sku=held_sku, size="M", stock="2"),  # 9: below the 3 reserved
        csv_row(slug="tee-a", sku="A-3", size="XL", currency="USD"),  # 10: fine (sold in the US only)
        csv_row(slug="tee-a", sku="A-4", size="M"),  # 11: the same attributes as row 2
    ]
    before = await count_products(catalog)

    response = await import_csv(catalog, csv_file(rows))

    assert response.status_code == 422
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [
        (3, "product_name"),
        (4, "sku"),
        (5, "category_slug"),
        (6, "status"),
        (6, "price"),
        (7, "sku"),
        (7, "stock"),
        (8, "sku"),
        (9, "stock"),
        (11, None),
    ]
    messages = {(e["row"], e["column"]): e["message"] for e in response.json()["errors"]}
    assert messages[(4, "sku")] == "repeats the SKU of row 2"
    assert messages[(8, "sku")] == f"belongs to another product, {other['slug']}"
    assert messages[(9, "stock")] == "is below the 3 units reserved for orders being paid for"
    assert await count_products(catalog) == before


async def test_a_wrong_header_is_reported_before_any_row(catalog):
    columns = [c for c in CSV_COLUMNS if c not in ("price", "brand")] + ["colour_code"]
    response = await import_csv(catalog, csv_file(TEE, columns=columns))
    assert response.status_code == 422
    assert [(e["row"], e["column"], e["message"]) for e in response.json()["errors"]] == [
        (1, "colour_code", "is not a known column"),
        (1, "brand", "is a required column and is missing"),
        (1, "price", "is a required column and is missing"),
    ]
    for data, message in [(b"", "The file is empty"), (b"\xff\xfe\x00bad", "is not UTF-8 text")]:
        response = await import_csv(catalog, data)
        assert response.status_code == 422
        assert message in response.json()["errors"][0]["message"]


async def test_a_file_updates_what_it_says_and_leaves_the_rest(catalog):
    product = await create_product(catalog, stock=4)
    small, medium = product["variants"]
    etag = (await catalog.get(f"/admin/v1/products/{product['id']}", headers=MERCHANDISER)).headers["etag"]
    await catalog.patch(
        f"/admin/v1/products/{product['id']}",
        json={"attributes": {"material": "Cotton"}},
        headers=MERCHANDISER | {"If-Match": etag},
    )
    events_before = await outbox_events(catalog)
    # Only the small variant, no description, images or active column: those stay as they are.
    columns = [c for c in CSV_COLUMNS if c not in ("description", "images", "active")]
    row = csv_row(
        slug=product["slug"],
        sku=small["sku"],
        product_name=product["name"],
        brand="Testbrand",
        size="S",
        colour="",
        price="24.00",
        stock="9",
    )

    response = await import_csv(catalog, csv_file([row], columns=columns))

    assert response.status_code == 201, response.text
    assert (response.json()["updated"], response.json()["variants"]) == (
        1,
        {"created": 0, "updated": 1, "unchanged": 0},
    )
    shown = (await catalog.get(f"/api/v1/products/{product['id']}")).json()
    assert {v["sku"]: (v["price"]["amount"], v["available"]) for v in shown["variants"]} == {
        small["sku"]: (2400, 9),
        medium["sku"]: (medium["price"]["amount"], 4),
    }
    assert (shown["description"], shown["properties"]) == (product["description"], {"material": "Cotton"})
    new = (await outbox_events(catalog))[len(events_before) :]
    assert [e["type"] for e in new] == ["ProductUpdated", "InventoryChanged", "StaffActionRecorded"]
    assert (new[1]["payload"]["sku"], new[1]["payload"]["on_hand"]) == (small["sku"], 9)
    async with catalog.app.state.db.read() as session:
        movement = (
            await session.scalars(
                select(StockMovement).where(StockMovement.sku == small["sku"]).order_by(StockMovement.id)
            )
        ).all()[-1]
    assert (movement.delta, movement.reason, movement.staff_id) == (5, "count", MERCHANDISER_ID)
    assert movement.note == f"import {response.json()['import_id']}"


async def test_an_uploaded_image_can_be_attached_by_name(catalog):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    name = (
        await catalog.post(
            "/admin/v1/images", files={"file": ("a.png", png, "image/png")}, headers=MERCHANDISER
        )
    ).json()["name"]
    missing = "0123456789abcdef0123456789abcdef.png"

    refused = await import_csv(catalog, csv_file([csv_row(images=f"{name} {missing}")]))
    applied = await import_csv(catalog, csv_file([csv_row(images=name)]))

    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"row": 2, "column": "images", "message": f"{missing} is not an uploaded image"}
    ]
    assert applied.status_code == 201
    shown = (await catalog.get("/api/v1/products/import-tee")).json()
    assert [(i["url"].rsplit("/", 1)[1], i["alt"]) for i in shown["images"]] == [(name, "Imported Tee")]


async def test_a_retry_with_the_same_idempotency_key_is_answered_from_the_first_import(catalog):
    data, key = csv_file(TEE), idempotency_key()
    first = await import_csv(catalog, data, headers=MERCHANDISER | key)
    retry = await import_csv(catalog, data, headers=MERCHANDISER | key)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json() and retry.headers["idempotent-replayed"] == "true"
    history = (await catalog.get("/admin/v1/product-imports", headers=MERCHANDISER)).json()["data"]
    assert len(history) == 1
    other_file = await import_csv(catalog, csv_file(MUG), headers=MERCHANDISER | key)
    assert other_file.status_code == 409


async def test_too_large_a_file_is_413_and_spreadsheet_habits_are_fine(catalog):
    settings = catalog.app.state.settings
    settings.import_max_rows = 2
    too_many = await import_csv(catalog, csv_file([*TEE, *MUG]))
    assert too_many.status_code == 413 and "more than 2 rows" in too_many.json()["detail"]
    settings.import_max_bytes = 100
    too_big = await import_csv(catalog, csv_file(TEE))
    assert too_big.status_code == 413 and too_big.json()["errors"] == {"file": "is over 100 bytes"}
    assert await count_products(catalog) == 0

    settings.import_max_bytes = 10_000
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # a BOM, blank lines, and a header in another case and order
    writer.writerow(["SKU", "Product_Slug", "product_name", "brand", "category_slug", "price", "currency"])
    writer.writerow(["EXCEL-1", "excel-tee", "Excel Tee", "Sheetwear", "tshirts", "10", "EUR"])
    writer.writerow([])
    applied = await import_csv(catalog, "\ufeff".encode() + buffer.getvalue().encode())
    assert applied.status_code == 201, applied.text
    shown = (await catalog.get("/api/v1/products/excel-tee")).json()
    assert (shown["variants"][0]["price"]["amount"], shown["variants"][0]["available"]) == (1000, 0)
