"""`mercato staff …`: an operator manages staff accounts on the customers database directly (no admin
needed, e.g. before the first admin exists or when every admin is locked out); each change is on the
audit trail as done by `cli`. The running customers app sees the changes at once."""

from __future__ import annotations

import asyncio
import re

import pytest
from typer.testing import CliRunner, Result

from mercato.cli import app as cli
from mercato.cli import console
from tests.customers.factories import (
    ADMIN,
    STAFF_PASSWORD,
    Authenticator,
    audit,
    challenge,
    deliver_staff_actions,
    login,
    wait_for_a_fresh_totp_step,
)


@pytest.fixture
async def both(databases, backend, tmp_path, monkeypatch, start_customers):
    """The customers app and the CLI's environment on one database."""
    url = await databases.fresh("customers", backend)
    for name, value in {
        "ENVIRONMENT": "test",
        "DATABASE_URL": url,
        "SIGNING_KEY_FILE": str(tmp_path / "customers.pem"),
        "STAFF_SIGNING_KEY_FILE": str(tmp_path / "customers-staff.pem"),
        "STAFF_TOTP_KEY_FILE": str(tmp_path / "customers-staff-totp.key"),
        "DATA_KEY_FILE": str(tmp_path / "customers-data.keys"),
        "BLIND_INDEX_KEY_FILE": str(tmp_path / "customers-blind-index.key"),
        "CURSOR_SECRET": "test-cursor-secret",
        "ARGON2_TIME_COST": "2",
        "ARGON2_MEMORY_KIB": "19456",
    }.items():
        monkeypatch.setenv(f"MERCATO_CUSTOMERS_{name}", value)
    monkeypatch.setattr(console, "width", 250)  # tables unabridged
    return await start_customers(database_url=url)


async def staff(*args: str) -> Result:
    """`mercato staff …` (in a thread: the command runs its own event loop)."""
    return await asyncio.to_thread(CliRunner().invoke, cli, ["staff", *args])


async def test_an_operator_creates_lists_unlocks_and_resets_staff(both):
    customers = both
    created = await staff(
        "create", "Olga@Example.com", "--name", "Olga", "--role", "operations", "-r", "support"
    )
    assert created.exit_code == 0, created.output
    password = re.search(r"temporary password: (\S+)", created.output).group(1)
    staff_id = re.search(r"(stf_\w+)", created.output).group(1)

    await wait_for_a_fresh_totp_step()
    started = await challenge(customers, email="olga@example.com", password=password)
    phone = Authenticator(started["secret"])
    enrolled = await customers.post(
        "/admin/v1/auth/enrol",
        json={"challenge": started["challenge"], "code": phone.next_code(), "new_password": STAFF_PASSWORD},
    )
    assert enrolled.status_code == 200, enrolled.text

    for _ in range(5):
        await login(customers, email="olga@example.com", password="not the password")
    listed = await staff("list")
    assert listed.exit_code == 0
    assert "olga@example.com" in listed.output and "locked" in listed.output
    assert "operations, support" in listed.output

    assert (await staff("unlock", "olga@example.com")).exit_code == 0
    assert (await challenge(customers, email="olga@example.com"))["status"] == "mfa_required"

    assert (await staff("reset-mfa", staff_id)).exit_code == 0
    assert (await challenge(customers, email="olga@example.com"))["status"] == "enrolment_required"

    reset = await staff("reset-password", "olga@example.com")
    assert reset.exit_code == 0, reset.output
    temporary = re.search(r"temporary password: (\S+)", reset.output).group(1)
    assert (await login(customers, email="olga@example.com")).status_code == 401
    assert (await challenge(customers, email="olga@example.com", password=temporary))[
        "password_change_required"
    ]

    await deliver_staff_actions(customers)
    by_cli = await audit(customers, staff_id="cli")
    assert [e["action"] for e in reversed(by_cli)] == [
        "staff.create",
        "staff.unlock",
        "staff.reset_mfa",
        "staff.reset_password",
    ]
    assert all(e["target_id"] == staff_id and "(command line)" in e["source_ip"] for e in by_cli)
    shown = (await customers.get(f"/admin/v1/staff/{staff_id}", headers=ADMIN)).json()
    assert shown["roles"] == ["operations", "support"] and shown["name"] == "Olga"


async def test_the_operator_is_told_what_went_wrong(both):
    assert (await staff("create", "a@example.com", "--name", "A", "--role", "admin")).exit_code == 0
    duplicate = await staff("create", "a@example.com", "--name", "A", "--role", "admin")
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    bad_role = await staff("create", "b@example.com", "--name", "B", "--role", "owner")
    assert bad_role.exit_code == 2 and "roles" in bad_role.output
    unknown = await staff("unlock", "nobody@example.com")
    assert unknown.exit_code == 1 and "No staff member nobody@example.com" in unknown.output
