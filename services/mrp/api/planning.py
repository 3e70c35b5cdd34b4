"""S&OP plans and master production schedules: ``/v1/mrp/sop-plans``, ``/v1/mrp/mps``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from services.mrp.api.planning_schemas import (
    MpsCreate,
    MpsFirm,
    MpsFirmResult,
    MpsList,
    MpsPublic,
    PromisePublic,
    SopPlanCreate,
    SopPlanList,
    SopPlanPublic,
)
from services.mrp.handlers import planning
from shared.web.app import UowDep
from shared.web.idempotency import IdempotencyDep
from shared.web.pagination import PageParams, encode_token, page_params
from shared.web.problems import ValidationFailed

router = APIRouter(prefix="/v1/mrp", tags=["mrp"])
PageDep = Annotated[PageParams, Depends(page_params)]

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Not found (problem)"},
    409: {"description": "Nothing to firm (problem)"},
}


def _after(page: PageParams) -> int | None:
    after = page.after()
    return int(after[0]) if after else None


@router.post(
    "/sop-plans",
    status_code=201,
    operation_id="mrp_create_sop_plan",
    summary="Plan a family by month (level, chase or mixed) with rough-cut load and strategy costs",
    response_model=SopPlanPublic,
    responses=_PROBLEMS,
)
async def create_sop_plan(body: SopPlanCreate, uow: UowDep, idem: IdempotencyDep) -> Response:
    async with uow:

        async def work() -> SopPlanPublic:
            return await planning.create_sop_plan(uow, body)

        return await idem.execute(
            uow, work, status_code=201, headers=lambda p: {"Location": f"/v1/mrp/sop-plans/{p.id}"}
        )


@router.get("/sop-plans", operation_id="mrp_list_sop_plans", summary="S&OP plans, newest first (paged)")
async def list_sop_plans(
    uow: UowDep, page: PageDep, family: Annotated[str | None, Query()] = None
) -> SopPlanList:
    async with uow:
        rows = await planning.list_sop_plans(uow, family=family, after=_after(page), limit=page.page_size + 1)
    more = len(rows) > page.page_size
    rows = rows[: page.page_size]
    return SopPlanList(
        items=[p for _, p in rows], next_page_token=encode_token([rows[-1][0]]) if more and rows else None
    )


@router.get(
    "/sop-plans/{plan_id}",
    operation_id="mrp_get_sop_plan",
    summary="One S&OP plan",
    responses=_PROBLEMS,
)
async def get_sop_plan(plan_id: str, uow: UowDep) -> SopPlanPublic:
    async with uow:
        return await planning.get_sop_plan(uow, plan_id)


@router.post(
    "/mps",
    status_code=201,
    operation_id="mrp_create_mps",
    summary="Compute the MPS of an end item by week (time fences, PAB, ATP) and store it",
    response_model=MpsPublic,
    responses=_PROBLEMS,
)
async def create_mps(body: MpsCreate, uow: UowDep, idem: IdempotencyDep) -> Response:
    async with uow:

        async def work() -> MpsPublic:
            return await planning.create_mps(uow, body)

        return await idem.execute(
            uow, work, status_code=201, headers=lambda p: {"Location": f"/v1/mrp/mps/{p.id}"}
        )


@router.get("/mps", operation_id="mrp_list_mps", summary="Master production schedules, newest first (paged)")
async def list_mps(uow: UowDep, page: PageDep, sku: Annotated[str | None, Query()] = None) -> MpsList:
    async with uow:
        rows = await planning.list_mps(uow, sku=sku, after=_after(page), limit=page.page_size + 1)
    more = len(rows) > page.page_size
    rows = rows[: page.page_size]
    return MpsList(
        items=[p for _, p in rows], next_page_token=encode_token([rows[-1][0]]) if more and rows else None
    )


@router.get("/mps/{mps_id}", operation_id="mrp_get_mps", summary="One MPS", responses=_PROBLEMS)
async def get_mps(mps_id: str, uow: UowDep) -> MpsPublic:
    async with uow:
        return await planning.get_mps(uow, mps_id)


@router.post(
    "/mps/{mps_id}/firm",
    operation_id="mrp_firm_mps",
    summary="Turn the planned MPS of the first weeks into firm orders of the order book (Idempotency-Key)",
    response_model=MpsFirmResult,
    responses=_PROBLEMS,
)
async def firm_mps(mps_id: str, uow: UowDep, idem: IdempotencyDep, body: MpsFirm | None = None) -> Response:
    async with uow:

        async def work() -> MpsFirmResult:
            return await planning.firm_mps(uow, mps_id, body or MpsFirm())

        return await idem.execute(uow, work)


@router.get(
    "/mps/{mps_id}/promise",
    operation_id="mrp_promise_from_mps",
    summary="Earliest week a quantity can be promised from the MPS's available-to-promise",
    responses=_PROBLEMS,
)
async def promise(
    mps_id: str,
    uow: UowDep,
    qty: Annotated[Decimal, Query(description="Quantity to promise (> 0)")],
    week: Annotated[date | None, Query(description="Wanted week (any day of it); default the first")] = None,
) -> PromisePublic:
    if qty <= 0 or not qty.is_finite():
        raise ValidationFailed.one("query.qty", "must be a number > 0")
    async with uow:
        return await planning.promise_from_mps(uow, mps_id, qty, week or date.min)
