"""The cart's promotion codes on the mobile API, in-process: a code that cannot be one is refused at the
edge as orders would refuse it (orders is down here: nothing was asked of it), orders down is a 503
problem, and no identity is a 401. The codes applied and rejected by the real services, through the
gateway: tests/mobile_api/test_codes_e2e.py."""

from __future__ import annotations

import pytest

from tests.mobile_api.test_api import SHOPPER, mobile_api


@pytest.mark.parametrize("code", ["", "SUMMER 10", "X" * 41, "SÜMMER", 10])
async def test_a_code_that_cannot_be_one_is_a_422_before_any_service(code) -> None:
    async with mobile_api() as mobile:
        answer = await mobile.post("/mobile/v1/cart/codes", json={"code": code}, headers=SHOPPER)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert "code" in answer.json()["errors"], answer.json()


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/mobile/v1/cart/codes"), ("DELETE", "/mobile/v1/cart/codes/SUMMER10")]
)
async def test_codes_with_orders_down_are_a_503_and_need_an_identity(method: str, path: str) -> None:
    async with mobile_api() as mobile:
        body = {"code": "SUMMER10"} if method == "POST" else None
        answer = await mobile.request(method, path, headers=SHOPPER, json=body)
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        anonymous = await mobile.request(method, path, json=body)
        assert anonymous.status_code == 401
