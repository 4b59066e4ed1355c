"""The staff realm: back-office accounts, their sign-in (password, then TOTP), staff management, and the
audit log of what staff did in any service. Same shape as the service around it; see docs/staff.md."""
