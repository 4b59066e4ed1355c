"""Promotions through the real gateway of a running platform: merchandising creates a code promotion,
and `mercato promotions codes` signs in as they do (password, authenticator), generates a batch with a
progress bar and saves its CSV; the report answers; other roles are turned away."""

from __future__ import annotations

import csv
import re
import subprocess
import sys

import pytest

from tests.e2e.staff import signed_in_staff

pytestmark = pytest.mark.e2e


def _cli(platform, *args: str, stdin: str = "", token: str | None = None) -> subprocess.CompletedProcess:
    env = (
        platform.env | {"COLUMNS": "200", "NO_COLOR": "1"} | ({"MERCATO_STAFF_TOKEN": token} if token else {})
    )
    return subprocess.run(
        [sys.executable, "-m", "mercato", "promotions", "codes", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_command_line_generates_a_batch_and_saves_its_codes(platform, gateway, tmp_path):
    member, merchandising = signed_in_staff(platform, gateway, "merchandising")
    created = gateway.post(
        "/admin/v1/promotions",
        json={
            "name": "Partner codes",
            "trigger": "code",
            "action": {"type": "fixed", "amounts": {"EUR": 500}},
        },
        headers=merchandising,
    )
    assert created.status_code == 201, created.text
    promotion_id = created.json()["id"]

    output = tmp_path / "partner.csv"
    signed_in = f"{member.email}\n{member.password}\n{member.code(steps_ahead=1)}\n"
    done = _cli(
        platform, "--promotion", promotion_id, "--count", "3000", "--prefix", "partner", "-o", str(output),
        stdin=signed_in,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3000/3000" in done.stdout and "3000 codes in" in done.stdout

    with output.open() as file:
        rows = list(csv.DictReader(file))
    codes = [row["code"] for row in rows]
    assert len(codes) == len(set(codes)) == 3000 and {row["used"] for row in rows} == {"0"}
    assert all(re.fullmatch(r"PARTNER-[2-9A-HJKMNP-TV-Z]{10}", code) for code in codes)
    shown = gateway.get(f"/admin/v1/promotions/{promotion_id}", headers=merchandising).json()
    assert [(b["requested"], b["generated"], b["state"]) for b in shown["batches"]] == [(3000, 3000, "done")]
    report = gateway.get("/admin/v1/reports/promotions", headers=merchandising)
    assert report.status_code == 200, report.text


def test_the_command_line_says_why_it_cannot(platform, gateway, tmp_path):
    _, support = signed_in_staff(platform, gateway, "support")
    token = support["Authorization"].removeprefix("Bearer ")
    refused = _cli(
        platform, "--promotion", "prm_nope", "--count", "5", "-o", str(tmp_path / "x.csv"), token=token
    )
    assert refused.returncode == 1 and "merchandising" in refused.stdout
    assert gateway.get("/admin/v1/promotions", headers=support).status_code == 403
    assert gateway.get("/admin/v1/promotions").status_code == 401
    _, merchandising = signed_in_staff(platform, gateway, "merchandising")
    token = merchandising["Authorization"].removeprefix("Bearer ")
    missing = _cli(
        platform, "--promotion", "prm_nope", "--count", "5", "-o", str(tmp_path / "y.csv"), token=token
    )
    assert missing.returncode == 1 and "no such promotion" in missing.stdout
    assert not (tmp_path / "y.csv").exists()
