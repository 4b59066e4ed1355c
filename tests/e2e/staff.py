"""Staff members of a running platform, made the way an operator makes them: `mercato staff create`
prints a temporary password; signing in replaces it and enrols a real TOTP authenticator (pyotp)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import httpx
import jwt
import pyotp
from cryptography.hazmat.primitives import serialization

PASSWORD = "staff password for tests"
TEMPORARY = re.compile(r"temporary password: (\S+)")


@dataclass
class StaffMember:
    id: str
    email: str
    password: str
    secret: str | None = None

    def code(self, *, steps_ahead: int = 0) -> str:
        """A TOTP code; `steps_ahead=1` is the next 30-second step's (accepted for clock drift), for a
        second sign-in right after one whose code may not be used again."""
        assert self.secret, "not enrolled yet"
        return pyotp.TOTP(self.secret).at(time.time() + 30 * steps_ahead)


def create_staff(platform, *, roles: tuple[str, ...], name: str = "Test Staff") -> StaffMember:
    email = f"staff-{uuid.uuid4().hex[:10]}@example.com"
    role_args = [arg for role in roles for arg in ("--role", role)]
    done = subprocess.run(
        [sys.executable, "-m", "mercato", "staff", "create", email, "--name", name, *role_args],
        env=platform.env | {"COLUMNS": "200", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    staff_id = re.search(r"(stf_[0-9A-Z]{26})", done.stdout).group(1)
    return StaffMember(id=staff_id, email=email, password=TEMPORARY.search(done.stdout).group(1))


def enrol(gateway: httpx.Client, member: StaffMember) -> dict:
    """The first sign-in through the gateway: password, own password, authenticator. Returns tokens."""
    step = gateway.post("/admin/v1/auth/login", json={"email": member.email, "password": member.password})
    assert step.status_code == 200 and step.json()["status"] == "enrolment_required", step.text
    member.secret = step.json()["secret"]
    tokens = gateway.post(
        "/admin/v1/auth/enrol",
        json={"challenge": step.json()["challenge"], "code": member.code(), "new_password": PASSWORD},
    )
    assert tokens.status_code == 200, tokens.text
    member.password = PASSWORD
    return tokens.json()


def signed_in_staff(platform, gateway: httpx.Client, *roles: str) -> tuple[StaffMember, dict[str, str]]:
    member = create_staff(platform, roles=roles)
    tokens = enrol(gateway, member)
    return member, {"Authorization": f"Bearer {tokens['access_token']}"}


def forged_staff_token(platform, *, staff_id: str, roles: list[str], mfa: bool) -> dict[str, str]:
    """A token signed with the platform's real staff key, with whatever claims a test needs (e.g. no
    second factor): what a password-only sign-in would get if the realm ever issued one."""
    key = serialization.load_pem_private_key(
        (platform.var_dir / "keys" / "customers-staff-ed25519.pem").read_bytes(), password=None
    )
    kid = httpx.get(f"{platform.service_url('customers')}/internal/staff/jwks.json").json()["keys"][0]["kid"]
    now = int(time.time())
    claims = {
        "iss": "mercato-customers",
        "aud": "mercato-admin",
        "sub": staff_id,
        "roles": roles,
        "mfa": mfa,
        "amr": ["pwd"],
        "iat": now,
        "exp": now + 300,
    }
    return {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm='EdDSA', headers={'kid': kid})}"}
