"""What can go wrong talking to the gateway, as the screens need to tell it apart."""

from __future__ import annotations


class Offline(Exception):
    """The gateway could not be reached (or did not answer) after the retries: show the offline banner."""


class ApiError(Exception):
    """The gateway answered with a problem (problem+json): 402 declined, 409 sold out, 422 invalid…"""

    def __init__(self, status: int, title: str, detail: str | None = None, body: dict | None = None):
        super().__init__(f"{status} {title}: {detail or ''}".strip())
        self.status, self.title, self.detail, self.body = status, title, detail, body or {}

    @property
    def sold_out(self) -> bool:
        """Checkout's 409 when stock ran out (problem type …/out-of-stock), not any conflict."""
        return str(self.body.get("type", "")).endswith("out-of-stock") or "unavailable" in self.body

    @property
    def message(self) -> str:
        """What the shopper reads: plain words, never a status code alone."""
        if self.status == 402:
            return f"Your card was declined. Nothing was charged. {self.detail or ''}".strip()
        if self.status == 409 and self.sold_out:
            return "Sorry, something in your cart has sold out. You have not been charged."
        if self.status == 401:
            return "Please sign in again."
        if self.status == 429:
            return "Too many tries. Please wait a moment and try again."
        return self.detail or self.title or f"Something went wrong ({self.status})."


class SignedOut(Exception):
    """The screen needs a signed-in shopper."""
