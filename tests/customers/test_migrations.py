"""Customers' data migrations, run on a database that holds rows from before them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from mercato.platform.migrations import upgrade


async def test_stored_email_addresses_are_rewritten_in_their_normal_form(databases, backend):
    url = await databases.empty("customers", backend)
    await asyncio.to_thread(upgrade, "customers", url, "0003")
    engine = create_async_engine(url)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    customers = [
        ("cus_1", "jose\u0301@example.com", t0),  # decomposed: normalised
        ("cus_2", "Ada@Example.COM", t0 + timedelta(1)),  # case: normalised
        ("cus_3", "ines@xn--bcher-kva.de", t0 + timedelta(2)),  # punycode domain: normalised
        ("cus_4", "rene\u0301@example.com", t0 + timedelta(3)),  # collides with cus_5, which is normal
        ("cus_5", "ren\u00e9@example.com", t0 + timedelta(4)),
        ("cus_6", "zoe\u0308@example.com", t0 + timedelta(5)),  # two spellings of one address: the
        ("cus_7", "ZOE\u0308@example.com", t0 + timedelta(6)),  # older one gets the normal form
    ]
    async with engine.begin() as connection:
        for row_id, email, created in customers:
            await connection.execute(
                text(
                    "INSERT INTO customers (id, email, password_hash, name, language, currency, newsletter,"
                    " opt_in_email, opt_in_sms, opt_in_push, status, created_at, updated_at) VALUES"
                    " (:id, :email, 'x', 'n', 'en', 'EUR', false, true, false, false, 'active', :at, :at)"
                ),
                {"id": row_id, "email": email, "at": created},
            )
        await connection.execute(
            text(
                "INSERT INTO staff (id, email, name, password_hash, password_temporary, password_set_at,"
                " roles, active, failed_attempts, created_at, updated_at) VALUES"
                " ('stf_1', 'Chlo\u0308e@Example.com', 'n', 'x', false, :at, '[]', true, 0, :at, :at)"
            ),
            {"at": t0},
        )

    await asyncio.to_thread(upgrade, "customers", url)

    async with engine.connect() as connection:
        stored = dict((await connection.execute(text("SELECT id, email FROM customers"))).all())
        staff = (await connection.execute(text("SELECT email FROM staff"))).scalar_one()
    await engine.dispose()
    assert stored == {
        "cus_1": "jos\u00e9@example.com",
        "cus_2": "ada@example.com",
        "cus_3": "ines@b\u00fccher.de",
        "cus_4": "rene\u0301@example.com",  # left as stored: no two people's accounts are merged
        "cus_5": "ren\u00e9@example.com",
        "cus_6": "zo\u00eb@example.com",
        "cus_7": "ZOE\u0308@example.com",
    }
    assert staff == "chl\u00f6e@example.com"
