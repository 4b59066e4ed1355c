"""A guest's orders: bought without an account (docs/guest-checkout.md) — read by a signed link, claimed
by the account registered later with the same address, exported and erased by e-mail on request."""
