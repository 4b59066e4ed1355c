"""The back office's routes for promotions (`/admin/v1`, merchandising): promotions, their code batches
(made in the background, exported as CSV) and the promotions report (docs/promotions.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response, StreamingResponse

from mercato.platform.idempotency import IdempotencyKey
from mercato.platform.pagination import Day, Paging
from mercato.platform.staff import Staff, requires
from mercato.services.orders.deps import Deps
from mercato.services.orders.promotions import admin as use_cases
from mercato.services.orders.promotions import codes, report
from mercato.services.orders.promotions.schemas import (
    BatchIn,
    BatchOut,
    PromotionIn,
    PromotionList,
    PromotionOut,
    PromotionPatch,
    PromotionsReport,
    Trigger,
)

router = APIRouter(prefix="/admin/v1", tags=["back office: promotions"])

Merchandising = Annotated[Staff, requires("merchandising")]
Analyst = Annotated[Staff, requires("merchandising", "operations")]
PromotionId = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_-]{1,40}$")]
BatchId = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_-]{1,40}$")]


def _deps(request: Request) -> Deps:
    return request.app.state.deps


DepsDep = Annotated[Deps, Depends(_deps)]


@router.get("/promotions", response_model=PromotionList)
async def promotions(
    staff: Merchandising,
    deps: DepsDep,
    paging: Paging,
    trigger: Annotated[Trigger | None, Query(description="Only sales, automatic or code promotions.")] = None,
    active: Annotated[bool | None, Query(description="false: only archived ones.")] = None,
) -> PromotionList:
    """Every promotion, newest first, archived ones too unless `active` says otherwise."""
    return await use_cases.list_promotions(deps, paging, trigger=trigger, active=active)


@router.post(
    "/promotions",
    status_code=201,
    response_model=PromotionOut,
    responses={
        200: {"description": "A replay (same Idempotency-Key and body)"},
        409: {"description": "A code is taken (`code-taken`), or the Idempotency-Key was used before"},
        422: {"description": "A field, or the whole (a sale with cart conditions, a percentage without one)"},
    },
)
async def create(
    body: PromotionIn, staff: Merchandising, deps: DepsDep, idempotency_key: IdempotencyKey = None
) -> Response:
    """A sale, an automatic promotion or a promotion by code (docs/promotions.md has the shapes). A retry
    with the same Idempotency-Key returns the first answer."""
    return await use_cases.create_promotion(deps, staff, body, idempotency_key=idempotency_key)


@router.get("/promotions/{promotion_id}", response_model=PromotionOut)
async def promotion(promotion_id: PromotionId, staff: Merchandising, deps: DepsDep) -> PromotionOut:
    """A promotion with its shared codes, its code batches and how often it was used."""
    return await use_cases.get_promotion(deps, promotion_id)


@router.patch(
    "/promotions/{promotion_id}",
    response_model=PromotionOut,
    responses={409: {"description": "A code is taken (`code-taken`)"}},
)
async def edit(
    promotion_id: PromotionId, body: PromotionPatch, staff: Merchandising, deps: DepsDep
) -> PromotionOut:
    """Change a promotion; the fields left out stay. `{"active": false}` archives it. Its trigger cannot
    change."""
    return await use_cases.edit_promotion(deps, staff, promotion_id, body)


@router.delete(
    "/promotions/{promotion_id}",
    status_code=204,
    responses={409: {"description": "Orders used it (`promotion-used`): archive it instead"}},
)
async def delete(promotion_id: PromotionId, staff: Merchandising, deps: DepsDep) -> Response:
    """Delete a promotion no order ever used, with its codes."""
    await use_cases.delete_promotion(deps, staff, promotion_id)
    return Response(status_code=204)


@router.post(
    "/promotions/{promotion_id}/code-batches",
    status_code=202,
    response_model=BatchOut,
    responses={409: {"description": "The promotion is not applied by codes (`not-a-code-promotion`)"}},
)
async def generate(promotion_id: PromotionId, body: BatchIn, staff: Merchandising, deps: DepsDep) -> BatchOut:
    """Start making `count` single-use codes (at most 100000); they are made in the background: follow
    `generated` against `requested` until `state` is `done`."""
    return await codes.start_batch(deps, staff, promotion_id, body)


@router.get("/promotions/{promotion_id}/code-batches/{batch_id}", response_model=BatchOut)
async def batch(
    promotion_id: PromotionId, batch_id: BatchId, staff: Merchandising, deps: DepsDep
) -> BatchOut:
    """How far a batch got."""
    return await codes.batch(deps, promotion_id, batch_id)


@router.get(
    "/promotions/{promotion_id}/code-batches/{batch_id}/codes.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "`code,used`, one row per code"}},
)
async def batch_codes(
    promotion_id: PromotionId, batch_id: BatchId, staff: Merchandising, deps: DepsDep
) -> StreamingResponse:
    """The batch's codes (those made so far, while it runs) and how often each was used (0 or 1)."""
    return await codes.codes_csv(deps, promotion_id, batch_id)


@router.get("/reports/promotions", response_model=PromotionsReport, tags=["back office: reports"])
async def promotions_report(
    staff: Analyst,
    deps: DepsDep,
    start: Annotated[Day | None, Query(alias="from", description="First day, included (UTC).")] = None,
    end: Annotated[Day | None, Query(alias="to", description="Last day, included (UTC).")] = None,
) -> PromotionsReport:
    """Per promotion and currency, for orders placed in the range: how many orders it applied to, their
    revenue and what it took off them (sales included). By default the last 30 days."""
    return await report.promotions_report(deps, start=start, end=end)
