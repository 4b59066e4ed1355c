"""Customers' data migrations, run on a database that holds rows from before them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from mercato.platform.crypto import is_ciphertext
from mercato.platform.db import Database
from mercato.platform.migrations import upgrade
from mercato.services.customers import repository as repo
from mercato.services.customers.models import StaffMember
from mercato.services.customers.settings import CustomersSettings


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

    await asyncio.to_thread(upgrade, "customers", url, "0004")

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


async def test_personal_data_is_encrypted_by_the_migration_and_found_through_the_blind_index(
    databases, backend, tmp_path, monkeypatch
):
    """0005: existing rows are encrypted with the settings' keys, blind indexes are filled in (two
    accounts that 0004 left unmerged stay apart), staff TOTP secrets move from their Fernet key."""
    for name, value in {
        "DATA_KEY_FILE": tmp_path / "data.keys",
        "BLIND_INDEX_KEY_FILE": tmp_path / "blind.key",
        "STAFF_TOTP_KEY_FILE": tmp_path / "totp.key",
    }.items():
        monkeypatch.setenv(f"MERCATO_CUSTOMERS_{name}", str(value))
    totp_key = Fernet.generate_key()
    (tmp_path / "totp.key").write_bytes(totp_key)
    url = await databases.empty("customers", backend)
    await asyncio.to_thread(upgrade, "customers", url, "0004")
    engine = create_async_engine(url)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    async with engine.begin() as connection:
        for row_id, email, name in [
            ("cus_1", "rene\u0301@example.com", "Ren\u00e9 One"),  # as 0004 left them: two addresses
            ("cus_2", "ren\u00e9@example.com", "Ren\u00e9 Two"),  # that normalise alike
        ]:
            await connection.execute(
                text(
                    "INSERT INTO customers (id, email, password_hash, name, phone, language, currency,"
                    " newsletter, opt_in_email, opt_in_sms, opt_in_push, status, created_at, updated_at)"
                    " VALUES (:id, :email, 'x', :name, '+4930123456', 'en', 'EUR', false, true, false,"
                    " false, 'active', :at, :at)"
                ),
                {"id": row_id, "email": email, "name": name, "at": t0},
            )
        await connection.execute(
            text(
                "INSERT INTO addresses (id, customer_id, name, line1, city, postal_code, country,"
                " is_default, created_at) VALUES ('adr_1', 'cus_2', 'Ren\u00e9 Two', '9 Quai Voltaire',"
                " 'Paris', '75007', 'FR', true, :at)"
            ),
            {"at": t0},
        )
        await connection.execute(
            text(
                "INSERT INTO staff (id, email, name, password_hash, password_temporary, password_set_at,"
                " roles, active, totp_secret, failed_attempts, created_at, updated_at) VALUES"
                " ('stf_1', 'olga@example.com', 'Olga', 'x', false, :at, '[]', true, :totp, 0, :at, :at)"
            ),
            {"at": t0, "totp": Fernet(totp_key).encrypt(b"JBSWY3DPEHPK3PXP").decode()},
        )
    await engine.dispose()

    await asyncio.to_thread(upgrade, "customers", url)

    settings = CustomersSettings(database_url=url)
    db = Database(url, keys=settings.keys())
    try:
        async with db.read() as session:
            raw = (await session.execute(text("SELECT email, name, phone FROM customers"))).all()
            raw += (await session.execute(text("SELECT name, line1, city FROM addresses"))).all()
            assert all(is_ciphertext(value) for row in raw for value in row)
            found = await repo.customer_by_email(session, "REN\u00c9@example.com")
            assert found is not None and found.id == "cus_2" and found.phone == "+4930123456"
            address = (await repo.addresses(session, "cus_2", after=None, limit=10))[0]
            assert (address.line1, address.city) == ("9 Quai Voltaire", "Paris")
            member = (await session.scalars(select(StaffMember))).one()
            assert member.totp_secret == "JBSWY3DPEHPK3PXP"
            indexes = (await session.execute(text("SELECT email_index FROM customers"))).scalars().all()
            assert len(set(indexes)) == 2
    finally:
        await db.dispose()
