"""Categories in the back office: the tree stays a tree, and products follow their category's moves."""

from __future__ import annotations

from tests.catalog.factories import MERCHANDISER, create_product, outbox_events


async def _categories(catalog) -> dict[str, dict]:
    response = await catalog.get("/admin/v1/categories", headers=MERCHANDISER)
    assert response.status_code == 200, response.text
    return {c["slug"]: c for c in response.json()["data"]}


async def test_the_list_is_the_tree_depth_first_with_product_counts(catalog):
    await create_product(catalog, category="tshirts")
    listed = (await catalog.get("/admin/v1/categories", headers=MERCHANDISER)).json()["data"]
    assert [(c["slug"], c["depth"], c["products"]) for c in listed] == [
        ("apparel", 0, 0),
        ("tops", 1, 0),
        ("tshirts", 2, 1),
        ("shoes", 1, 0),
        ("home", 0, 0),
    ]


async def test_a_new_category_appears_in_the_shops_tree_and_is_audited(catalog):
    created = await catalog.post(
        "/admin/v1/categories",
        json={"slug": "hoodies", "name": "Hoodies", "parent": "tops", "position": 5},
        headers=MERCHANDISER,
    )
    assert created.status_code == 201, created.text
    assert (created.json()["depth"], created.json()["parent_id"]) == (
        2,
        (await _categories(catalog))["tops"]["id"],
    )
    tree = (await catalog.get("/api/v1/categories")).json()["data"]
    tops = next(c for c in tree[0]["children"] if c["slug"] == "tops")
    assert [c["slug"] for c in tops["children"]] == ["tshirts", "hoodies"]
    [audit] = await outbox_events(catalog, "StaffActionRecorded")
    assert (audit["payload"]["action"], audit["payload"]["target_id"]) == (
        "category.create",
        created.json()["id"],
    )

    again = await catalog.post(
        "/admin/v1/categories", json={"slug": "hoodies", "name": "H"}, headers=MERCHANDISER
    )
    orphan = await catalog.post(
        "/admin/v1/categories", json={"slug": "x", "name": "X", "parent": "nope"}, headers=MERCHANDISER
    )
    assert (again.status_code, orphan.status_code) == (409, 422)


async def test_moving_a_category_republishes_every_product_under_it_with_its_new_path(catalog):
    shirt = await create_product(catalog, category="tshirts")
    mug = await create_product(catalog, category="home")

    moved = await catalog.patch("/admin/v1/categories/tops", json={"parent": "home"}, headers=MERCHANDISER)

    assert moved.status_code == 200, moved.text
    assert moved.json()["depth"] == 1
    [updated] = await outbox_events(catalog, "ProductUpdated")  # the shirt; the mug's path is unchanged
    assert (updated["aggregate_id"], updated["payload"]["category_path"]) == (
        shirt["id"],
        ["home", "tops", "tshirts"],
    )
    breadcrumbs = (await catalog.get(f"/api/v1/products/{shirt['id']}")).json()["breadcrumbs"]
    assert [c["slug"] for c in breadcrumbs] == ["home", "tops", "tshirts"]
    assert mug["id"] != updated["aggregate_id"]

    renamed = await catalog.patch("/admin/v1/categories/tshirts", json={"slug": "tees"}, headers=MERCHANDISER)
    assert renamed.json()["slug"] == "tees"
    assert (await outbox_events(catalog, "ProductUpdated"))[-1]["payload"]["category_path"] == [
        "home",
        "tops",
        "tees",
    ]
    retitled = await catalog.patch("/admin/v1/categories/tees", json={"name": "Tees"}, headers=MERCHANDISER)
    assert retitled.json()["name"] == "Tees"
    assert len(await outbox_events(catalog, "ProductUpdated")) == 2  # a name is not in the path


async def test_a_category_cannot_move_under_itself_or_its_own_children(catalog):
    for parent in ("apparel", "tops", "tshirts"):
        response = await catalog.patch(
            "/admin/v1/categories/apparel", json={"parent": parent}, headers=MERCHANDISER
        )
        assert response.status_code == 409, parent
    assert (await _categories(catalog))["apparel"]["parent_id"] is None
    to_top = await catalog.patch("/admin/v1/categories/tops", json={"parent": None}, headers=MERCHANDISER)
    assert (to_top.status_code, to_top.json()["depth"]) == (200, 0)


async def test_only_an_empty_category_can_be_deleted(catalog):
    await create_product(catalog, category="shoes")
    with_products = await catalog.delete("/admin/v1/categories/shoes", headers=MERCHANDISER)
    with_children = await catalog.delete("/admin/v1/categories/tops", headers=MERCHANDISER)
    assert (with_products.status_code, with_products.json()["products"]) == (409, 1)
    assert (with_children.status_code, with_children.json()["sub_categories"]) == (409, 1)

    empty = await catalog.delete("/admin/v1/categories/home", headers=MERCHANDISER)
    assert empty.status_code == 204
    assert "home" not in await _categories(catalog)
    assert (await catalog.delete("/admin/v1/categories/home", headers=MERCHANDISER)).status_code == 404
    actions = [e["payload"]["action"] for e in await outbox_events(catalog, "StaffActionRecorded")]
    assert actions == ["product.create", "category.delete"]
