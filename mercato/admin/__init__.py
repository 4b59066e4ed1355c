"""The back office: merchandising, operations, customer support and reports, for staff only.

A separate application from the storefront — its own port and host name, its own cookies and session
secret, its own sign-in (password and TOTP, against the staff realm) — and, like the storefront, a client
of the gateway only: it reaches the services through the gateway's `/admin/v1` routes, which check the
staff token, its second factor and the source address again.
"""
