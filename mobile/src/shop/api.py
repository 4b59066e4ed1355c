"""The gateway, as the app sees it: /mobile/v1 for the screens (docs/mobile.md, the contract), /api/v1 for
the account, and the payment provider's tokenisation endpoint (the card goes there, never to Mercato).

Reads fall back to the offline cache; writes carry an Idempotency-Key kept until answered (retry.py); an
expired access token is refreshed once with the refresh token and the call repeated."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from shop.errors import ApiError, Offline, SignedOut
from shop.offline import Store, cache_name
from shop.retry import Backoff, PendingWrites, send_with_retries
from shop.storage import SecureStore
from shop.wallets import WalletPayment, apple_pay_token_form, google_pay_token_id

MOBILE = "/mobile/v1"
API = "/api/v1"
BROWSE = tuple(f"{MOBILE}/{screen}" for screen in ("home", "products", "suggestions"))
"""The reads priced in the shopper's market: each carries the country chosen on this device."""
# Shopping needs no account: the cart and checkout screens take a guest's cart token instead of a sign-in
# (POST /api/v1/carts, kept in the secure store); signed in with one still kept, the next cart call sends
# both and orders merges the guest's cart into the account's.
GUEST_PATHS = (f"{MOBILE}/cart", f"{MOBILE}/checkout")
CART_TOKEN = "cart_token"  # noqa: S105 - the secure store's key, not a secret


def problem(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    return ApiError(
        response.status_code, body.get("title") or response.reason_phrase, body.get("detail"), body
    )


class Gateway:
    def __init__(
        self,
        base_url: str,
        data_dir: Path,
        secrets: SecureStore,
        backoff: Backoff | None = None,
        on_connectivity: Callable[[bool], None] | None = None,
        timeout: float = 8.0,
    ):
        self.base_url = base_url.rstrip("/")
        self.data_dir = Path(data_dir)
        self.cache = Store(Path(data_dir) / "cache")
        self.pending = PendingWrites(Store(Path(data_dir) / "state"))
        self.settings = Store(Path(data_dir) / "settings")
        self.secrets = secrets
        self.backoff = backoff or Backoff()
        self.on_connectivity = on_connectivity or (lambda online: None)
        self.http = httpx.AsyncClient(
            base_url=self.base_url, timeout=timeout, headers={"Accept": "application/json"}
        )
        self.online = True

    async def close(self) -> None:
        await self.http.aclose()

    def _connectivity(self, online: bool) -> None:
        if online != self.online:
            self.online = online
            self.on_connectivity(online)

    def image_url(self, path: str | None) -> str | None:
        if not path:
            return None
        return path if path.startswith("http") else f"{self.base_url}{path}"

    # --- tokens ------------------------------------------------------------------------------------
    @property
    def signed_in(self) -> bool:
        return self.secrets.get("access_token") is not None

    def _auth(self) -> dict[str, str]:
        token = self.secrets.get("access_token")
        return {"Authorization": f"Bearer {token}"} if token else {}

    def keep_tokens(self, tokens: dict) -> None:
        self.secrets.set("access_token", tokens["access_token"])
        self.secrets.set("refresh_token", tokens["refresh_token"])

    def forget_tokens(self) -> None:
        self.secrets.delete("access_token")
        self.secrets.delete("refresh_token")

    async def _refresh(self) -> bool:
        refresh_token = self.secrets.get("refresh_token")
        if not refresh_token:
            return False
        response = await self.http.post(f"{API}/auth/refresh", json={"refresh_token": refresh_token})
        if response.status_code != 200:
            self.forget_tokens()
            return False
        self.keep_tokens(response.json())
        return True

    async def _cart_token(self) -> str:
        """The guest's cart token; a new cart the first time."""
        token = self.secrets.get(CART_TOKEN)
        if token is None:
            response = await self.http.post(f"{API}/carts")
            if response.status_code != 201:
                raise problem(response)
            token = response.json()["cart_token"]
            self.secrets.set(CART_TOKEN, token)
        return token

    async def _send(self, method: str, path: str, *, auth: bool, **kwargs) -> httpx.Response:
        """One request (with one refresh-and-repeat on a 401); network errors propagate."""
        guest = auth and not self.signed_in and path.startswith(GUEST_PATHS)
        if auth and not self.signed_in and not guest:
            raise SignedOut()
        headers = kwargs.pop("headers", {}) | (self._auth() if auth else {})
        if guest:
            headers["X-Cart-Token"] = await self._cart_token()
        elif auth and path.startswith(GUEST_PATHS) and (token := self.secrets.get(CART_TOKEN)):
            headers["X-Cart-Token"] = token  # signed in since: orders merges that cart into the account's
        response = await self.http.request(method, path, headers=headers, **kwargs)
        if response.status_code == 401 and guest:
            self.secrets.delete(CART_TOKEN)  # a cart that is gone (erased, expired): a new one next time
            return response
        if response.status_code == 401 and auth and await self._refresh():
            headers |= self._auth()
            response = await self.http.request(method, path, headers=headers, **kwargs)
        if response.status_code == 401 and auth:
            self.forget_tokens()
            raise SignedOut()
        if not guest and "X-Cart-Token" in headers and response.status_code < 400:
            self.secrets.delete(CART_TOKEN)  # merged
        return response

    # --- the shopper's market: kept on this device ---------------------------------------------------
    @property
    def market(self) -> dict | None:
        """The market chosen on this device ({country, currency, prices_include_tax}); None: the shop's
        default market."""
        return self.settings.read("market")

    def choose_market(self, country: str, market: dict) -> None:
        self.settings.write(
            "market",
            {
                "country": country,
                "currency": market["currency"],
                "prices_include_tax": market["prices_include_tax"],
            },
        )

    # --- reads: the gateway, else the cache ----------------------------------------------------------
    async def get(self, path: str, params: dict | None = None, *, auth: bool = False, cache: bool = True):
        """(data, fresh): fresh is False when the answer came from the offline cache. Browsing reads
        (BROWSE) are asked for in the market chosen on this device, and cached per market."""
        if path.startswith(BROWSE) and (market := self.market):
            params = {**(params or {}), "country": market["country"]}
        name = cache_name(path, params)
        try:
            response = await self._send("GET", path, auth=auth, params=params)
        except httpx.TransportError as error:
            self._connectivity(False)
            cached = self.cache.read(name) if cache else None
            if cached is None:
                raise Offline(str(error)) from error
            return cached, False
        if (
            response.status_code in (502, 503, 504)
            and cache
            and (cached := self.cache.read(name)) is not None
        ):
            self._connectivity(False)
            return cached, False
        self._connectivity(True)
        if response.status_code >= 400:
            raise problem(response)
        data = response.json()
        if cache:
            self.cache.write(name, data)
        return data, True

    # --- documents: the shopper's own PDFs (invoices, credit notes), fetched with the token ----------------
    def on_gateway(self, url: str) -> bool:
        """A path on the gateway (or its full URL): the only place the shopper's token is ever sent."""
        return url.startswith("/") or url.startswith(self.base_url + "/")

    async def download(self, url: str, name: str) -> Path:
        """Fetch a document from the gateway into `documents/` of the data directory; its path."""
        try:
            response = await self._send("GET", url, auth=True, headers={"Accept": "application/pdf"})
        except httpx.TransportError as error:
            self._connectivity(False)
            raise Offline(str(error)) from error
        self._connectivity(True)
        if response.status_code >= 400:
            raise problem(response)
        folder = self.data_dir / "documents"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
        path.write_bytes(response.content)
        return path

    # --- writes: Idempotency-Key kept until answered ------------------------------------------------
    async def write(
        self, method: str, path: str, body: Any = None, *, auth: bool = True, remember: bool = True
    ):
        """remember=False for calls whose body must not touch the disk (a password), safe to repeat."""
        key = self.pending.key_for(method, path, body) if remember else uuid.uuid4().hex

        async def send() -> httpx.Response:
            extra = {"json": body} if body is not None else {}
            return await self._send(method, path, auth=auth, headers={"Idempotency-Key": key}, **extra)

        try:
            response = await send_with_retries(send, self.backoff)
        except Offline:
            self._connectivity(False)
            raise
        self._connectivity(True)
        if remember:
            self.pending.answered(method, path, body)
        if response.status_code >= 400:
            raise problem(response)
        return response.json() if response.content else None

    # --- the payment provider: the card goes there directly ----------------------------------------
    async def tokenise_card(self, payment: dict, number: str, exp_month: str, exp_year: str, cvc: str) -> str:
        form = {
            "type": "card",
            "card[number]": number.replace(" ", ""),
            "card[exp_month]": exp_month,
            "card[exp_year]": exp_year,
            "card[cvc]": cvc,
        }
        return (await self._provider(payment, "/v1/payment_methods", form))["id"]

    async def tokenise_wallet(self, payment: dict, paid: WalletPayment) -> str:
        """A wallet's payment → a card token at the provider → a card PaymentMethod (card.wallet.type)."""
        if paid.wallet == "apple_pay":  # what Stripe's iOS SDK does with a PKPayment
            token = (await self._provider(payment, "/v1/tokens", apple_pay_token_form(paid)))["id"]
        else:  # Google made the token at the provider already
            try:
                token = google_pay_token_id(paid)
            except ValueError as error:
                raise ApiError(402, "Card not accepted", "Google Pay's answer held no card token.") from error
        form = {"type": "card", "card[token]": token}
        return (await self._provider(payment, "/v1/payment_methods", form))["id"]

    async def _provider(self, payment: dict, path: str, form: dict[str, str]) -> dict:
        try:
            async with httpx.AsyncClient(timeout=15) as provider:
                response = await provider.post(
                    f"{payment['api_base'].rstrip('/')}{path}",
                    headers={"Authorization": f"Bearer {payment['publishable_key']}"},
                    data=form,
                )
        except httpx.TransportError as error:
            raise Offline(str(error)) from error
        if response.status_code != 200:
            error = (response.json() if response.content else {}).get("error", {})
            raise ApiError(402, "Card not accepted", error.get("message") or "Check the card details.")
        return response.json()
