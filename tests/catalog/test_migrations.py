"""Catalog's data migrations, run on a database that holds rows from before them."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from mercato.platform.migrations import upgrade


async def test_each_variants_one_price_becomes_its_price_list(databases, backend):
    url = await databases.empty("catalog", backend)
    await asyncio.to_thread(upgrade, "catalog", url, "0005")
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO categories (id, slug, name, position) VALUES ('cat_1', 'tees', 'Tees', 0)")
        )
        await connection.execute(
            text(
                "INSERT INTO products (id, slug, name, brand, description, category_id, status, attributes,"
                " created_at, updated_at) VALUES ('prod_1', 'tee', 'Tee', 'B', '', 'cat_1', 'active', '{}',"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        for variant, sku, amount, currency in [("var_1", "TEE-S", 1999, "EUR"), ("var_2", "TEE-M", 0, "EUR")]:
            await connection.execute(
                text(
                    "INSERT INTO variants (id, product_id, sku, attributes, price_amount, currency, position,"
                    " active) VALUES (:id, 'prod_1', :sku, '{}', :amount, :currency, 0, true)"
                ),
                {"id": variant, "sku": sku, "amount": amount, "currency": currency},
            )

    await asyncio.to_thread(upgrade, "catalog", url, "0006")

    async with engine.connect() as connection:
        prices = (await connection.execute(text("SELECT * FROM variant_prices ORDER BY variant_id"))).all()
        tax_class = (await connection.execute(text("SELECT tax_class FROM products"))).scalar_one()
        weights = (await connection.execute(text("SELECT weight_grams FROM variants"))).scalars().all()
        columns = (await connection.execute(text("SELECT * FROM variants"))).keys()
        markets = (await connection.execute(text("SELECT id, currency FROM markets ORDER BY position"))).all()
    await engine.dispose()
    assert [tuple(row) for row in prices] == [("var_1", "EUR", 1999), ("var_2", "EUR", 0)]
    assert "price_amount" not in columns and "currency" not in columns  # one home for prices
    assert (tax_class, weights) == ("standard", [0, 0])
    assert [tuple(row) for row in markets] == [("eu", "EUR"), ("uk", "GBP"), ("us", "USD")]


async def test_existing_variants_are_physical_and_no_sale_is_known_yet(databases, backend):
    url = await databases.empty("catalog", backend)
    await asyncio.to_thread(upgrade, "catalog", url, "0006")
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO categories (id, slug, name, position) VALUES ('cat_1', 'tees', 'Tees', 0)")
        )
        await connection.execute(
            text(
                "INSERT INTO products (id, slug, name, brand, description, category_id, status, attributes,"
                " created_at, updated_at) VALUES ('prod_1', 'tee', 'Tee', 'B', '', 'cat_1', 'active', '{}',"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO variants (id, product_id, sku, attributes, position, active)"
                " VALUES ('var_1', 'prod_1', 'TEE-S', '{}', 0, true)"
            )
        )

    await asyncio.to_thread(upgrade, "catalog", url, "0007")

    async with engine.connect() as connection:
        kinds = (await connection.execute(text("SELECT kind FROM variants"))).scalars().all()
        sales = (await connection.execute(text("SELECT id, next_flip_at FROM catalogue_promotions"))).all()
    await engine.dispose()
    assert kinds == ["physical"]
    assert [tuple(row) for row in sales] == [("current", None)]  # an empty set until orders publishes one
