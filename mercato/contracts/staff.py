"""The staff realm's vocabulary, shared by customers (which issues staff tokens), the services that
check roles, the gateway and the admin app.

A staff access token is a JWT signed with the staff key (not the shoppers'), issuer
`mercato-customers`, audience `mercato-admin`, and these claims:

- `sub`: the staff member's id (`stf_…`)
- `roles`: a list drawn from `ROLES`
- `mfa`: true once the second factor (TOTP or a recovery code) was verified in this login; the gateway
  refuses admin routes to a token without it
- `amr`: the methods used, e.g. `["pwd", "otp"]` (RFC 8176)

The gateway verifies the token and forwards its payload, base64url-encoded JSON, to the service in
`x-mercato-staff-claims` (see `mercato.platform.staff`).
"""

from __future__ import annotations

from typing import Final, Literal

Role = Literal["merchandising", "operations", "support", "admin"]
ROLES: Final[tuple[Role, ...]] = ("merchandising", "operations", "support", "admin")
"""`admin` may do everything, including managing staff; the others are what API.md says they are."""

STAFF_AUDIENCE: Final = "mercato-admin"
STAFF_CLAIMS_HEADER: Final = "x-mercato-staff-claims"
