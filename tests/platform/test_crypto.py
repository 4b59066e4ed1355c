"""The kernel's data keys: authenticated encryption under a keyring, rotation without downtime (old
ciphertexts still decrypt; re-encryption moves them to the newest key), blind indexes."""

from __future__ import annotations

import importlib

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from mercato.platform.crypto import (
    BlindIndex,
    DataKeys,
    Keyring,
    Undecryptable,
    key_id_of,
    new_key,
    parse_keys,
)
from mercato.platform.db import Database
from mercato.platform.keyrotation import encrypted_tables, key_usage, reencrypt_database
from mercato.platform.tables import platform_metadata
from mercato.services.customers.models import Base, Customer


def _keyring(*entries: str) -> Keyring:
    return Keyring(parse_keys(",".join(entries)))


def test_a_ciphertext_names_its_key_and_any_tampering_is_detected():
    first, second = new_key(), new_key()
    keyring = _keyring(first, second)
    token = keyring.encrypt(b"Ada Lovelace")
    assert key_id_of(token) == first.split(":")[0] and "Ada" not in token
    assert keyring.decrypt(token) == b"Ada Lovelace"
    assert keyring.encrypt(b"Ada Lovelace") != token  # a fresh nonce each time

    prefix, key_id, blob = token.split(":")
    flipped = blob[:-2] + ("A" if blob[-2] != "A" else "B") + blob[-1]
    other_key = second.split(":")[0]
    for forged in (
        f"{prefix}:{key_id}:{flipped}",  # a changed byte
        f"{prefix}:{key_id}:{blob[:-4]}",  # truncated
        f"{prefix}:{other_key}:{blob}",  # relabelled as another key's
        f"{prefix}:0badc0de:{blob}",  # a key nobody has
        "Ada Lovelace",  # not a ciphertext at all
    ):
        with pytest.raises(Undecryptable):
            keyring.decrypt(forged)
    with pytest.raises(Undecryptable):
        _keyring(new_key()).decrypt(token)  # the right format, the wrong key


def test_a_blind_index_is_keyed_and_separates_purposes():
    key = parse_keys(new_key())[0][1]
    index = BlindIndex(key)
    assert index.of("ada@example.com", purpose="email") == BlindIndex(key).of(
        "ada@example.com", purpose="email"
    )
    assert index.of("ada@example.com", purpose="email") != index.of("ada@example.com", purpose="name")
    assert index.of("ada@example.com", purpose="email") != BlindIndex(parse_keys(new_key())[0][1]).of(
        "ada@example.com", purpose="email"
    )


async def test_rotation_keeps_old_rows_readable_and_reencryption_moves_them_to_the_new_key(
    databases, backend, tmp_path
):
    key_file = tmp_path / "customers-data.keys"
    old = new_key()
    key_file.write_text(old + "\n")
    keys = DataKeys(
        keyring=Keyring.from_file(key_file), blind_index=BlindIndex.from_file(tmp_path / "blind.key")
    )
    db = Database(await databases.fresh("customers", backend), keys=keys)
    try:
        async with db.unit_of_work() as session:
            session.add(
                Customer(
                    id="cus_1",
                    email="ada@example.com",
                    password_hash="!",
                    name="Ada Lovelace",
                    phone="+44 20",
                )
            )
        old_id = old.split(":")[0]
        assert await key_usage(db, [Base.metadata, platform_metadata]) == {old_id: 3}

        new = new_key()  # what `mercato keys rotate` does to the file: the new key first
        key_file.write_text(f"{new}\n{old}\n")
        keys.keyring.reload()
        new_id = new.split(":")[0]
        async with db.read() as session:  # the old ciphertexts still decrypt
            assert (await session.get(Customer, "cus_1")).name == "Ada Lovelace"

        rewritten = await reencrypt_database(db, [Base.metadata, platform_metadata])
        assert rewritten["customers"] == 1
        assert await key_usage(db, [Base.metadata, platform_metadata]) == {new_id: 3}
        async with db.read() as session:
            raw = (await session.execute(text("SELECT name FROM customers"))).scalar_one()
            assert key_id_of(raw) == new_id
        assert (await reencrypt_database(db, [Base.metadata, platform_metadata]))["customers"] == 0

        key_file.write_text(f"{new}\n")  # the old key retired: nothing needs it any more
        keys.keyring.reload()
        async with db.read() as session:
            customer = (await session.scalars(select(Customer))).one()
            assert (customer.email, customer.name, customer.phone) == (
                "ada@example.com",
                "Ada Lovelace",
                "+44 20",
            )

        async with db.unit_of_work() as session:  # a value changed in the database is refused, not misread
            await session.execute(
                text("UPDATE customers SET name = :forged"),
                {"forged": raw[:-3] + ("x" if raw[-3] != "x" else "y") + raw[-2:]},
            )
        with pytest.raises(Undecryptable):
            async with db.read() as session:
                await session.get(Customer, "cus_1")
    finally:
        await db.dispose()


@pytest.mark.parametrize("service", ["customers", "orders", "notifications"])
async def test_every_encrypted_column_is_unbounded_text_in_the_migrated_database(databases, backend, service):
    """A ciphertext is longer than what it hides: a VARCHAR(n) left under an encrypted column would refuse
    a long value on PostgreSQL. The migrations widen every one (the models and the kernel's tables)."""
    models = importlib.import_module(f"mercato.services.{service}.models")
    engine = create_async_engine(await databases.fresh(service, backend))
    try:
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: {
                    (table, column["name"]): column["type"]
                    for table in inspect(sync).get_table_names()
                    for column in inspect(sync).get_columns(table)
                }
            )
    finally:
        await engine.dispose()
    bounded = [
        f"{target.name}.{column.name}: {columns[(target.name, column.name)]}"
        for target in encrypted_tables([models.Base.metadata, platform_metadata])
        for column in target.columns
        if (target.name, column.name) in columns
        and getattr(columns[(target.name, column.name)], "length", None) is not None
    ]
    assert bounded == []
