"""MRP runs and their results: ``/v1/mrp/runs``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response

from services.mrp import events
from services.mrp.api.deps import RunnerDep
from services.mrp.api.schemas import (
    ActionList,
    ActionPublic,
    OrderChangePublic,
    OrderPublic,
    PegPublic,
    PlannedOrderBrief,
    PlannedOrderList,
    PlannedOrderPublic,
    RecordPublic,
    RecordRowPublic,
    RunAccepted,
    RunCreate,
    RunDiff,
    RunList,
    RunPublic,
)
from services.mrp.db import repositories as repo
from services.mrp.domain.calendar import Calendar
from services.mrp.domain.diff import diff_results
from services.mrp.domain.model import ItemKind, RunParameters, from_micro
from services.mrp.domain.result import MrpResult, PlannedOrder
from services.mrp.handlers.common import DuplicateOrder, new_id, order_public
from shared.db.uow import UnitOfWork
from shared.web.app import UowDep
from shared.web.etag import etag
from shared.web.pagination import PageParams, encode_token, page_params
from shared.web.problems import Conflict, NotFound

router = APIRouter(prefix="/v1/mrp", tags=["mrp"])
PageDep = Annotated[PageParams, Depends(page_params)]

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Not found (problem)"},
    409: {"description": "The run has not succeeded, or the planned order is already firm (problem)"},
}


def run_public(row: Any) -> RunPublic:
    base = f"/v1/mrp/runs/{row['id']}"
    links = {"self": base}
    if row["status"] == "succeeded":
        links |= {"planned_orders": f"{base}/planned-orders", "actions": f"{base}/actions"}
    snapshot = {k: v for k, v in (row["snapshot"] or {}).items() if k != "calendar"}
    return RunPublic(
        id=row["id"],
        status=row["status"],
        mode=row["mode"],
        requested_mode=row["requested_mode"],
        today=row["today"],
        horizon_days=row["horizon_days"],
        release_window_days=row["release_window_days"],
        progress=row["progress"],
        counts=row["counts"] or {},
        timings=row["timings"] or {},
        snapshot=snapshot,
        note=row["note"],
        error=row["error"],
        previous_run=row["previous_run"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        links=links,
    )


async def _run(uow: UnitOfWork, run_id: str, *, succeeded: bool = False) -> Any:
    row = await repo.run(uow.session, run_id)
    if row is None:
        raise NotFound(f"no MRP run {run_id!r}")
    if succeeded and row["status"] != "succeeded":
        raise Conflict(f"run {run_id} is {row['status']}: it has no results", current_status=row["status"])
    return row


def planned_order_public(r: Any) -> PlannedOrderPublic:
    return PlannedOrderPublic(
        id=r["id"],
        sku=r["sku"],
        kind=r["kind"],
        quantity=Decimal(r["quantity"]),
        release_date=r["release_date"],
        due_date=r["due_date"],
        pegging=[
            PegPublic(
                kind=p["kind"],
                reference=p["reference"],
                line=p.get("line"),
                parent_sku=p.get("parent_sku"),
                date=date.fromisoformat(p["date"]),
                quantity=Decimal(str(p["quantity"])),
            )
            for p in r["pegging"]
        ],
    )


@router.post(
    "/runs",
    status_code=202,
    operation_id="mrp_create_run",
    summary="Start an MRP run (regenerative or net change); 202 with the run's Location",
    response_model=RunAccepted,
    responses=_PROBLEMS,
)
async def create_run(body: RunCreate, runner: RunnerDep) -> Response:
    row = await runner.create(body)
    runner.start(row["id"])
    return JSONResponse(
        {"id": row["id"], "status": row["status"]},
        status_code=202,
        headers={"Location": f"/v1/mrp/runs/{row['id']}"},
    )


@router.get("/runs", operation_id="mrp_list_runs", summary="MRP runs, newest first (paged)")
async def list_runs(uow: UowDep, page: PageDep) -> RunList:
    after = page.after()
    async with uow:
        rows = await repo.list_runs(
            uow.session, after=int(after[0]) if after else None, limit=page.page_size + 1
        )
    more = len(rows) > page.page_size
    rows = rows[: page.page_size]
    return RunList(
        items=[run_public(r) for r in rows],
        next_page_token=encode_token([rows[-1]["seq"]]) if more and rows else None,
    )


@router.get(
    "/runs/{run_id}",
    operation_id="mrp_get_run",
    summary="A run: status, progress, counts, timings (snapshot, compute, persist)",
    responses=_PROBLEMS,
)
async def get_run(run_id: str, uow: UowDep) -> RunPublic:
    async with uow:
        return run_public(await _run(uow, run_id))


@router.get(
    "/runs/{run_id}/planned-orders",
    operation_id="mrp_list_planned_orders",
    summary="The run's planned orders with their pegging (paged)",
    responses=_PROBLEMS,
)
async def list_planned_orders(
    run_id: str,
    uow: UowDep,
    page: PageDep,
    sku: Annotated[str | None, Query()] = None,
    kind: Annotated[Literal["make", "buy"] | None, Query()] = None,
) -> PlannedOrderList:
    after = page.after()
    async with uow:
        await _run(uow, run_id, succeeded=True)
        rows = await repo.planned_orders(
            uow.session,
            run_id,
            sku=sku,
            kind=kind,
            after=int(after[0]) if after else None,
            limit=page.page_size + 1,
        )
    more = len(rows) > page.page_size
    rows = rows[: page.page_size]
    return PlannedOrderList(
        items=[planned_order_public(r) for r in rows],
        next_page_token=encode_token([rows[-1]["ord"]]) if more and rows else None,
    )


@router.get(
    "/runs/{run_id}/records/{sku}",
    operation_id="mrp_get_record",
    summary="The time-phased MRP record of one sku",
    responses=_PROBLEMS,
)
async def get_record(run_id: str, sku: str, uow: UowDep) -> RecordPublic:
    async with uow:
        await _run(uow, run_id, succeeded=True)
        rec = await repo.record(uow.session, run_id, sku)
    if rec is None:
        raise NotFound(f"run {run_id} has no record of {sku!r}")
    return RecordPublic(
        run_id=run_id,
        sku=sku,
        low_level_code=rec["low_level_code"],
        starting_available=from_micro(rec["starting_available"]),
        safety_stock=from_micro(rec["safety_stock"]),
        rows=[
            RecordRowPublic(
                date=date.fromordinal(o),
                gross_requirements=from_micro(g),
                scheduled_receipts=from_micro(sr),
                projected_available=from_micro(pab),
                net_requirements=from_micro(net),
                planned_receipts=from_micro(prc),
                planned_releases=from_micro(prl),
            )
            for (o, g, sr, pab, net, prc, prl) in rec["rows"]
        ],
    )


@router.get(
    "/runs/{run_id}/actions",
    operation_id="mrp_list_actions",
    summary="The run's action messages (release, reschedule_in, reschedule_out, cancel, past_due)",
    responses=_PROBLEMS,
)
async def list_actions(
    run_id: str,
    uow: UowDep,
    page: PageDep,
    kind: Annotated[
        Literal["release", "reschedule_in", "reschedule_out", "cancel", "past_due"] | None, Query()
    ] = None,
    sku: Annotated[str | None, Query()] = None,
) -> ActionList:
    after = page.after()
    async with uow:
        await _run(uow, run_id, succeeded=True)
        rows = await repo.actions(
            uow.session,
            run_id,
            kind=kind,
            sku=sku,
            after=int(after[0]) if after else None,
            limit=page.page_size + 1,
        )
    more = len(rows) > page.page_size
    rows = rows[: page.page_size]
    return ActionList(
        items=[
            ActionPublic(
                kind=r["kind"],
                sku=r["sku"],
                order_id=r["order_id"],
                quantity=Decimal(r["quantity"]),
                date=r["date"],
                new_date=r["new_date"],
            )
            for r in rows
        ],
        next_page_token=encode_token([rows[-1]["ord"]]) if more and rows else None,
    )


async def _orders_of(uow: UnitOfWork, run: Any) -> MrpResult:
    orders = tuple(
        PlannedOrder(
            id=r["id"],
            sku=r["sku"],
            kind=ItemKind(r["kind"]),
            quantity=Decimal(r["quantity"]),
            release_date=r["release_date"],
            due_date=r["due_date"],
            pegging=(),
        )
        for r in await repo.planned_orders(uow.session, run["id"])
    )
    return MrpResult(
        parameters=RunParameters(run["today"], run["horizon_days"], run["release_window_days"]),
        calendar=Calendar(),
        items={},
        planned_orders=orders,
        actions=(),
        counts={},
    )


def _brief(po: PlannedOrder) -> PlannedOrderBrief:
    return PlannedOrderBrief(
        id=po.id,
        sku=po.sku,
        kind=po.kind.value,
        quantity=po.quantity,
        release_date=po.release_date,
        due_date=po.due_date,
    )


@router.get(
    "/runs/{run_id}/diff/{other_id}",
    operation_id="mrp_diff_runs",
    summary="Planned orders added, removed and changed from run other_id to run run_id (matched by id)",
    responses=_PROBLEMS,
)
async def diff_runs(run_id: str, other_id: str, uow: UowDep) -> RunDiff:
    async with uow:
        new = await _orders_of(uow, await _run(uow, run_id, succeeded=True))
        old = await _orders_of(uow, await _run(uow, other_id, succeeded=True))
    d = diff_results(old, new)
    return RunDiff(
        run=run_id,
        other=other_id,
        added=[_brief(po) for po in d.added],
        removed=[_brief(po) for po in d.removed],
        changed=[
            OrderChangePublic(before=_brief(c.before), after=_brief(c.after), quantity_delta=c.quantity_delta)
            for c in d.changed
        ],
    )


@router.post(
    "/runs/{run_id}/planned-orders/{po_id}/firm",
    status_code=201,
    operation_id="mrp_firm_planned_order",
    summary="Firm a planned order of a run: creates a firm order in the order book",
    response_model=OrderPublic,
    responses=_PROBLEMS,
)
async def firm_planned_order(run_id: str, po_id: str, uow: UowDep) -> Response:
    async with uow:
        await _run(uow, run_id, succeeded=True)
        po = await repo.planned_order(uow.session, run_id, po_id)
        if po is None:
            raise NotFound(f"run {run_id} has no planned order {po_id!r}")
        existing = await repo.order_by_source(uow.session, run_id, po_id)
        if existing is not None:
            raise DuplicateOrder(
                f"planned order {po_id} of run {run_id} is already firm as order {existing['id']}",
                existing_id=existing["id"],
            )
        row = await repo.insert_order(
            uow.session,
            {
                "id": new_id("ord"),
                "kind": po["kind"],
                "sku": po["sku"],
                "quantity": po["quantity"],
                "release_date": po["release_date"],
                "due_date": po["due_date"],
                "status": "firm",
                "source_run": run_id,
                "source_planned_order": po_id,
            },
        )
        await repo.record_changes(uow.session, [po["sku"]], "order")
        order = order_public(row)
        uow.emit(events.order_changed(order.model_dump(mode="json")))
        await uow.commit()
    return JSONResponse(
        order.model_dump(mode="json"),
        status_code=201,
        headers={"Location": f"/v1/mrp/orders/{order.id}", "ETag": etag(order.version)},
    )
