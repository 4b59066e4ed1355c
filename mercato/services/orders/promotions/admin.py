"""The back office's promotions (merchandising): listed, created, edited, archived (`active: false`) and,
while never used, deleted. Every write is audited in its transaction; one that touches a sale also puts
the whole set of sales on the outbox (CataloguePromotionsChanged: catalog prices and shows them). The
process's promotions cache is reloaded at once after each write (other replicas within
`pricing_refresh_seconds`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from mercato.contracts.events import CataloguePromotion, CataloguePromotionsChanged
from mercato.platform.errors import BadRequest, Conflict, NotFound, UnprocessableEntity
from mercato.platform.idempotency import idempotent
from mercato.platform.ids import new_id
from mercato.platform.outbox import record_event
from mercato.platform.pagination import PageRequest
from mercato.platform.staff import Staff, record_staff_action
from mercato.services.orders.deps import Deps, now
from mercato.services.orders.promotions import store
from mercato.services.orders.promotions.models import PromotionCodeBatch, PromotionRow
from mercato.services.orders.promotions.schemas import (
    ActionOut,
    BatchOut,
    ConditionsOut,
    PromotionIn,
    PromotionList,
    PromotionOut,
    PromotionPatch,
    TierOut,
    problems,
)

SALES_AGGREGATE = "sales"  # every CataloguePromotionsChanged under one id: published in order


def batch_out(row: PromotionCodeBatch) -> BatchOut:
    return BatchOut.model_validate(row, from_attributes=True)


def _status(row: PromotionRow, at: datetime) -> str:
    if not row.active:
        return "archived"
    if row.starts_at and at < row.starts_at:
        return "scheduled"
    if row.ends_at and at >= row.ends_at:
        return "ended"
    return "live"


def promotion_out(
    row: PromotionRow, codes: list[str], batches: list[PromotionCodeBatch], *, at: datetime
) -> PromotionOut:
    conditions, action = row.conditions or {}, row.action
    return PromotionOut(
        id=row.id,
        name=row.name,
        description=row.description,
        trigger=row.trigger,
        active=row.active,
        status=_status(row, at),  # type: ignore[arg-type]
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        priority=row.priority,
        combines=row.combines,
        conditions=ConditionsOut(
            markets=conditions.get("markets", []),
            product_ids=conditions.get("product_ids", []),
            category_ids=conditions.get("category_ids", []),
            skus=conditions.get("skus", []),
            min_subtotal=conditions.get("min_subtotal", {}),
            min_quantity=conditions.get("min_quantity", 0),
            first_order=conditions.get("first_order", False),
        ),
        action=ActionOut(
            type=action["type"],
            target=action.get("target", "lines"),
            percent=action.get("percent"),
            amounts=action.get("amounts", {}),
            buy=action.get("buy", 0),
            get=action.get("get", 0),
            tiers=[TierOut.model_validate(t) for t in action.get("tiers", [])],
        ),
        usage_limit=row.usage_limit,
        per_customer_limit=row.per_customer_limit,
        used=row.used,
        codes=codes,
        batches=[batch_out(b) for b in batches],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _out(session: AsyncSession, rows: list[PromotionRow]) -> list[PromotionOut]:
    ids = [r.id for r in rows]
    codes, batches = await store.shared_codes(session, ids), await store.batches(session, ids)
    at = now()
    return [promotion_out(r, codes.get(r.id, []), batches.get(r.id, []), at=at) for r in rows]


async def list_promotions(
    deps: Deps, paging: PageRequest, *, trigger: str | None, active: bool | None
) -> PromotionList:
    """Newest first; a cursor serves only the filters it was made for."""
    filters = {"trigger": trigger, "active": active}
    if paging.position and paging.position.get("filters") != filters:
        raise BadRequest("This cursor is for another listing.", errors={"cursor": "is for other filters"})
    async with deps.db.read() as session:
        rows = await store.promotions(
            session, trigger=trigger, active=active, before=paging.position.get("before"), limit=paging.fetch
        )
        shown = await _out(session, rows[: paging.limit])
    cursor = paging.next_cursor(rows, lambda last: {"before": last.id, "filters": filters})
    return PromotionList(data=shown, next_cursor=cursor)


async def get_promotion(deps: Deps, promotion_id: str) -> PromotionOut:
    async with deps.db.read() as session:
        row = await store.promotion(session, promotion_id)
        if row is None:
            raise NotFound("There is no such promotion.")
        [shown] = await _out(session, [row])
    return shown


def _check(body: PromotionIn) -> None:
    found = problems(body)
    if found:
        raise UnprocessableEntity("The promotion is not consistent; see `errors`.", errors=found)
    if body.action.type == "buy_x_get_y" and body.action.percent is None:
        body.action.percent = "100"  # the `get` units are free unless it says otherwise


def _stored(body: PromotionIn) -> dict[str, Any]:
    """The row's columns from a checked body (conditions and action as rules.py parses them)."""
    return body.model_dump(mode="json", exclude={"codes", "starts_at", "ends_at"}) | {
        "starts_at": body.starts_at,
        "ends_at": body.ends_at,
    }


async def _codes_free(session: AsyncSession, codes: list[str], *, but_by: str | None) -> None:
    taken = await store.codes_taken(session, codes, but_by=but_by)
    if taken:
        raise Conflict(
            f"The code {sorted(taken)[0]} is already taken; codes are unique across promotions.",
            slug="code-taken",
            errors={f"codes.{n}": "is already taken" for n, code in enumerate(codes) if code in taken},
        )


async def publish_sales(session: AsyncSession, *, at: datetime) -> None:
    """Put every sale catalog should know (current and scheduled) on the outbox, as of this transaction."""
    await session.flush()
    rows = await store.sales(session, at=at)
    event = CataloguePromotionsChanged(promotions=tuple(catalogue_promotion(r) for r in rows), changed_at=at)
    await record_event(session, event, aggregate_id=SALES_AGGREGATE)


def catalogue_promotion(row: PromotionRow) -> CataloguePromotion:
    conditions, action = row.conditions or {}, row.action
    return CataloguePromotion(
        id=row.id,
        name=row.name,
        priority=row.priority,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        markets=tuple(conditions.get("markets", ())),
        product_ids=tuple(conditions.get("product_ids", ())),
        category_ids=tuple(conditions.get("category_ids", ())),
        skus=tuple(conditions.get("skus", ())),
        percent=action.get("percent") if action["type"] == "percentage" else None,
        amounts=action.get("amounts", {}) if action["type"] == "fixed" else {},
    )


async def _written(session: AsyncSession, staff: Staff, row: PromotionRow, action: str, at: datetime) -> None:
    await record_staff_action(
        session, staff, action, service="orders", target_type="promotion", target_id=row.id
    )
    if row.trigger == "sale":
        await publish_sales(session, at=at)


def _code_race() -> Conflict:
    return Conflict("One of the codes was just taken by another promotion; try again.", slug="code-taken")


async def create_promotion(
    deps: Deps, staff: Staff, body: PromotionIn, *, idempotency_key: str | None
) -> Response:
    _check(body)
    at = now()

    async def create() -> PromotionOut:
        await _codes_free(session, body.codes, but_by=None)
        row = PromotionRow(id=new_id("prm"), **_stored(body), used=0, created_at=at, updated_at=at)
        session.add(row)
        await session.flush()
        await store.replace_shared_codes(session, row.id, body.codes, at=at)
        await _written(session, staff, row, "promotion.created", at)
        return promotion_out(row, sorted(body.codes), [], at=at)

    try:
        async with deps.db.unit_of_work() as session:
            response = await idempotent(
                session,
                scope=f"POST /admin/v1/promotions {staff.id}",
                key=idempotency_key,
                request=body,
                run=create,
            )
    except IntegrityError:
        raise _code_race() from None
    await deps.promotions.refresh(deps.db)
    return response


async def edit_promotion(deps: Deps, staff: Staff, promotion_id: str, patch: PromotionPatch) -> PromotionOut:
    at = now()
    try:
        async with deps.db.unit_of_work() as session:
            row = await store.promotion(session, promotion_id)
            if row is None:
                raise NotFound("There is no such promotion.")
            changes = patch.model_dump(exclude_unset=True)
            if changes.get("trigger", row.trigger) != row.trigger:
                raise UnprocessableEntity(
                    "A promotion's trigger cannot change; create another promotion instead.",
                    errors={"trigger": f"must stay {row.trigger}"},
                )
            codes = (await store.shared_codes(session, [row.id])).get(row.id, [])
            merged = _as_body(row, codes) | changes
            body = PromotionIn.model_validate(merged, strict=False)
            _check(body)
            if "codes" in changes:
                await _codes_free(session, body.codes, but_by=row.id)
                await store.replace_shared_codes(session, row.id, body.codes, at=at)
                codes = sorted(body.codes)
            for field, value in _stored(body).items():
                setattr(row, field, value)
            row.updated_at = at
            await _written(session, staff, row, "promotion.updated", at)
            shown = promotion_out(row, codes, (await store.batches(session, [row.id])).get(row.id, []), at=at)
    except IntegrityError:
        raise _code_race() from None
    await deps.promotions.refresh(deps.db)
    return shown


def _as_body(row: PromotionRow, codes: list[str]) -> dict[str, Any]:
    return {
        "name": row.name,
        "description": row.description,
        "trigger": row.trigger,
        "active": row.active,
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
        "priority": row.priority,
        "combines": row.combines,
        "conditions": row.conditions or {},
        "action": row.action,
        "usage_limit": row.usage_limit,
        "per_customer_limit": row.per_customer_limit,
        "codes": codes,
    }


async def delete_promotion(deps: Deps, staff: Staff, promotion_id: str) -> None:
    """Only one never used: an order that used a promotion keeps pointing at it (archive it instead)."""
    at = now()
    async with deps.db.unit_of_work() as session:
        row = await store.promotion(session, promotion_id)
        if row is None:
            raise NotFound("There is no such promotion.")
        if row.used or await store.redeemed(session, row.id):
            raise Conflict(
                "Orders have used this promotion: archive it (active false) instead of deleting it.",
                slug="promotion-used",
            )
        await session.delete(row)
        await _written(session, staff, row, "promotion.deleted", at)
    await deps.promotions.refresh(deps.db)
