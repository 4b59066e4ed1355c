"""`mercato keys rotate` on a real database: a new key first in the key file, every row re-encrypted under
it, the old key retired once nothing uses it — while a running service's keyring (loaded before the
rotation) keeps reading every row, old and new."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from typer.testing import CliRunner

from mercato.cli import app as cli
from mercato.cli_keys import console
from mercato.platform.crypto import DataKeys, Keyring, key_id_of, parse_keys
from mercato.platform.db import Database
from mercato.services.customers.models import Address, Customer
from mercato.services.customers.settings import CustomersSettings


async def test_rotate_reencrypts_every_row_and_retires_the_old_key(databases, backend, tmp_path, monkeypatch):
    url = await databases.fresh("customers", backend)
    key_file = tmp_path / "customers-data.keys"
    for name, value in {
        "DATABASE_URL": url,
        "DATA_KEY_FILE": str(key_file),
        "BLIND_INDEX_KEY_FILE": str(tmp_path / "customers-blind-index.key"),
    }.items():
        monkeypatch.setenv(f"MERCATO_CUSTOMERS_{name}", value)
    monkeypatch.setattr(console, "width", 200)
    settings = CustomersSettings()
    running = Database(url, keys=settings.keys())  # a service that was running all along
    try:
        async with running.unit_of_work() as session:
            session.add(Customer(id="cus_1", email="ada@example.com", password_hash="!", name="Ada Lovelace"))
            await session.flush()
            session.add(
                Address(
                    id="adr_1",
                    customer_id="cus_1",
                    name="Ada",
                    line1="12 St James's Square",
                    city="London",
                    postal_code="SW1Y 4JH",
                    country="GB",
                )
            )
        (old_key,) = [key_id for key_id, _ in parse_keys(key_file.read_text())]

        rotated = await asyncio.to_thread(
            CliRunner().invoke, cli, ["keys", "rotate", "customers", "--retire"]
        )
        assert rotated.exit_code == 0, rotated.output
        (new_key,) = [key_id for key_id, _ in parse_keys(key_file.read_text())]
        assert new_key != old_key and f"retired {old_key}" in rotated.output
        assert oct(key_file.stat().st_mode & 0o777) == "0o600"

        async with running.read() as session:
            stored = [*(await session.execute(text("SELECT email, name FROM customers"))).one()]
            stored += (await session.execute(text("SELECT line1, city FROM addresses"))).one()
            assert {key_id_of(value) for value in stored} == {new_key}
            # The running service never restarted: its keyring reads the file again for the new key.
            assert (await session.get(Customer, "cus_1")).name == "Ada Lovelace"
        assert running.keys.keyring.primary == new_key  # and encrypts with it from now on

        fresh = DataKeys(keyring=Keyring.from_file(key_file, create=False))
        assert fresh.keyring.key_ids == [new_key]  # the old key is gone: nothing needed it any more

        status = await asyncio.to_thread(CliRunner().invoke, cli, ["keys", "status", "customers"])
        assert status.exit_code == 0, status.output
        assert new_key in status.output and "encrypts" in status.output and old_key not in status.output
    finally:
        await running.dispose()
