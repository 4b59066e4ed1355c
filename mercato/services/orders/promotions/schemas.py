"""The back office's shapes for promotions, their codes and code batches, and the promotions report
(`/admin/v1/promotions`, `/admin/v1/reports/promotions`; docs/promotions.md).

The models check each field (types, ranges, patterns); what depends on the trigger and the action's type
(a sale takes only a percentage or a fixed amount off units, a percentage needs `percent`…) is checked
by `problems`, on a new promotion and on the result of an edit alike, so that every refusal names its
field.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints

from mercato.contracts.currencies import Currency
from mercato.contracts.inputs import SINGLE_LINE, TEXT, Input
from mercato.contracts.money import Money
from mercato.platform.patch import Patch

Trigger = Literal["sale", "automatic", "code"]
ActionType = Literal["percentage", "fixed", "buy_x_get_y", "free_shipping", "tiered"]

CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{2,39}$"


def _instant(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*", value):
        return value
    if isinstance(value, datetime):  # an edit merged with what is stored
        return value
    raise ValueError("must be a date and time, ISO 8601 with its time zone (2026-12-24T00:00:00Z)")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must say its time zone (e.g. 2026-12-24T00:00:00Z)")
    return value


def _percent(value: str) -> str:
    number = Decimal(value)
    if not 0 < number <= 100:
        raise ValueError("must be more than 0 and at most 100")
    return format(number.normalize(), "f")  # "10.50" → "10.5", "1E+2" never arises: the pattern is digits


Instant = Annotated[datetime, Strict(False), BeforeValidator(_instant), AfterValidator(_aware)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), SINGLE_LINE]
Description = Annotated[str, StringConstraints(max_length=2000), TEXT]
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
MarketId = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[A-Za-z0-9]{1,8}$")
]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z0-9][A-Z0-9-]{0,63}$")]
Code = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{2,39}$"),
    Field(description="3-40 letters, digits, `-` and `_`, starting with a letter or digit; kept upper case."),
]
Prefix = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^([A-Za-z0-9][A-Za-z0-9_-]{0,11})?$"),
    Field(description="Up to 12 letters, digits, `-` and `_`, starting with a letter or digit; or empty."),
]
Percent = Annotated[
    str,
    StringConstraints(pattern=r"^\d{1,3}(\.\d{1,2})?$"),
    AfterValidator(_percent),
    Field(description="A decimal percentage, more than 0 and at most 100: `10`, `12.5`.", examples=["10"]),
]
Amount = Annotated[int, Field(ge=1, le=100_000_000)]
Amounts = Annotated[
    dict[Currency, Amount],
    Field(max_length=50, description='Minor units per currency: `{"EUR": 500, "GBP": 450}`.'),
]
Count = Annotated[int, Field(ge=0, le=100_000)]
Limit = Annotated[int, Field(ge=1, le=100_000_000)]


class ConditionsIn(Input):
    """All must hold; empty lists mean "any". Item conditions say which lines are eligible."""

    markets: Annotated[list[MarketId], Field(max_length=20)] = Field(default_factory=list)
    product_ids: Annotated[list[Id], Field(max_length=500)] = Field(default_factory=list)
    category_ids: Annotated[list[Id], Field(max_length=500)] = Field(
        default_factory=list, description="A category covers every one below it."
    )
    skus: Annotated[list[Sku], Field(max_length=500)] = Field(default_factory=list)
    min_subtotal: Amounts = Field(default_factory=dict)
    min_quantity: Count = 0
    first_order: bool = Field(default=False, description="Only a buyer with no placed order yet.")


class TierIn(Input):
    percent: Percent
    min_quantity: Count = 0
    min_subtotal: Amounts = Field(default_factory=dict)


class ActionIn(Input):
    type: ActionType
    target: Literal["lines", "order"] = Field(
        default="lines", description="lines: per eligible unit (fixed) or line; order: once off the order."
    )
    percent: Percent | None = None
    amounts: Amounts = Field(default_factory=dict)
    buy: Annotated[int, Field(ge=0, le=100)] = 0
    get: Annotated[int, Field(ge=0, le=100)] = 0
    tiers: Annotated[list[TierIn], Field(max_length=10)] = Field(default_factory=list)


class PromotionIn(Input):
    name: Name
    description: Description = ""
    trigger: Trigger = Field(
        description="sale: a price cut catalog shows on the products; automatic: applied to carts whose "
        "conditions hold; code: applied by one of its codes."
    )
    active: bool = True
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    priority: Annotated[int, Field(ge=-1000, le=1000)] = Field(default=0, description="Higher first.")
    combines: bool = Field(default=True, description="false: exclusive — applies alone.")
    conditions: ConditionsIn = Field(default_factory=ConditionsIn)
    action: ActionIn
    usage_limit: Limit | None = Field(default=None, description="Uses in all; null: unlimited.")
    per_customer_limit: Limit | None = Field(default=None, description="Uses per buyer; null: unlimited.")
    codes: Annotated[list[Code], Field(max_length=100)] = Field(
        default_factory=list, description="Shared codes (trigger code only); batches add single-use ones."
    )


class PromotionPatch(Patch):
    """The fields given replace the stored ones (`conditions`, `action` and `codes` as a whole)."""

    nullable = frozenset({"starts_at", "ends_at", "usage_limit", "per_customer_limit"})

    name: Name | None = None
    description: Description | None = None
    trigger: Trigger | None = Field(default=None, description="Cannot change: must be the stored one.")
    active: bool | None = Field(default=None, description="false archives it.")
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    priority: Annotated[int, Field(ge=-1000, le=1000)] | None = None
    combines: bool | None = None
    conditions: ConditionsIn | None = None
    action: ActionIn | None = None
    usage_limit: Limit | None = None
    per_customer_limit: Limit | None = None
    codes: Annotated[list[Code], Field(max_length=100)] | None = None


ITEM_CONDITIONS = ("markets", "product_ids", "category_ids", "skus")
ACTION_FIELDS = {
    "percentage": {"percent"},
    "fixed": {"amounts"},
    "buy_x_get_y": {"buy", "get", "percent"},
    "free_shipping": set(),
    "tiered": {"tiers"},
}


def _given(value: Any) -> bool:
    return value not in (None, 0, {}, [], ())


def problems(body: PromotionIn) -> dict[str, str]:
    """What is wrong with a promotion as a whole, by field; empty when nothing is."""
    found: dict[str, str] = {}
    action, conditions = body.action, body.conditions
    for name in ("percent", "amounts", "buy", "get", "tiers"):
        if _given(getattr(action, name)) and name not in ACTION_FIELDS[action.type]:
            found[f"action.{name}"] = f"does not apply to a {action.type} action"
    if action.type == "percentage" and action.percent is None:
        found["action.percent"] = "is required for a percentage"
    if action.type == "fixed" and not action.amounts:
        found["action.amounts"] = "is required for a fixed amount: at least one currency"
    if action.type == "buy_x_get_y":
        for name in ("buy", "get"):
            if getattr(action, name) < 1:
                found[f"action.{name}"] = "must be at least 1"
        if action.target != "lines":
            found["action.target"] = "must be lines for buy X get Y"
    if action.type == "tiered":
        found |= _tier_problems(action.tiers)
    if body.trigger == "sale":
        if action.type not in ("percentage", "fixed"):
            found["action.type"] = "a sale takes a percentage or a fixed amount off each unit"
        elif action.target != "lines":
            found["action.target"] = "a sale takes off each unit: lines"
        for name in ("min_subtotal", "min_quantity", "first_order"):
            if _given(getattr(conditions, name)):
                found[f"conditions.{name}"] = "a sale has no cart conditions (only markets and items)"
        for name in ("usage_limit", "per_customer_limit"):
            if getattr(body, name) is not None:
                found[name] = "a sale has no usage limits"
    if body.codes and body.trigger != "code":
        found["codes"] = "only a promotion with trigger code has codes"
    if len(set(body.codes)) != len(body.codes):
        found["codes"] = "lists a code twice"
    if body.starts_at and body.ends_at and body.starts_at >= body.ends_at:
        found["ends_at"] = "must be after starts_at"
    return found


def _tier_problems(tiers: list[TierIn]) -> dict[str, str]:
    if not tiers:
        return {"action.tiers": "a tiered action needs at least one tier"}
    found: dict[str, str] = {}
    for n, tier in enumerate(tiers):
        if not tier.min_quantity and not tier.min_subtotal:
            found[f"action.tiers.{n}"] = "needs min_quantity or min_subtotal"
        if n == 0:
            continue
        before = tiers[n - 1]
        lower = tier.min_quantity < before.min_quantity or any(
            tier.min_subtotal.get(currency, 0) < amount for currency, amount in before.min_subtotal.items()
        )
        higher = tier.min_quantity > before.min_quantity or any(
            amount > before.min_subtotal.get(currency, 0) for currency, amount in tier.min_subtotal.items()
        )
        if lower or not higher:
            found[f"action.tiers.{n}"] = "tiers must rise: each needs more than the one before"
        elif Decimal(tier.percent) <= Decimal(before.percent):
            found[f"action.tiers.{n}.percent"] = "must be more than the tier before's"
    return found


# --- answers ------------------------------------------------------------------------------------------


class ConditionsOut(BaseModel):
    markets: list[str]
    product_ids: list[str]
    category_ids: list[str]
    skus: list[str]
    min_subtotal: dict[str, int]
    min_quantity: int
    first_order: bool


class TierOut(BaseModel):
    percent: str
    min_quantity: int
    min_subtotal: dict[str, int]


class ActionOut(BaseModel):
    type: str
    target: str
    percent: str | None
    amounts: dict[str, int]
    buy: int
    get: int
    tiers: list[TierOut]


class BatchIn(Input):
    count: Annotated[int, Field(ge=1, le=100_000, description="How many single-use codes, at most 100000.")]
    prefix: Prefix = ""


class BatchOut(BaseModel):
    id: str
    promotion_id: str
    prefix: str
    requested: int
    generated: int = Field(description="Codes made so far: the progress bar's value.")
    state: Literal["running", "done", "failed"]
    created_at: datetime
    finished_at: datetime | None


class PromotionOut(BaseModel):
    id: str
    name: str
    description: str
    trigger: str
    active: bool
    status: Literal["scheduled", "live", "ended", "archived"] = Field(
        description="archived: not active; otherwise where now is in its window."
    )
    starts_at: datetime | None
    ends_at: datetime | None
    priority: int
    combines: bool
    conditions: ConditionsOut
    action: ActionOut
    usage_limit: int | None
    per_customer_limit: int | None
    used: int = Field(description="Redemptions so far (pending checkouts included).")
    codes: list[str] = Field(description="Its shared codes; batches' single-use codes are in their CSV.")
    batches: list[BatchOut]
    created_at: datetime
    updated_at: datetime


class PromotionList(BaseModel):
    data: list[PromotionOut]
    next_cursor: str | None = None


class PromotionFigures(BaseModel):
    promotion_id: str
    name: str
    trigger: str
    currency: str
    orders: int = Field(description="Placed orders it applied to.")
    revenue: Money = Field(description="What those orders came to (their totals).")
    discount: Money = Field(description="What it took off them: the promotion's cost.")


class PromotionsReport(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    data: list[PromotionFigures]
