"""Shop floor: ``/v1/scheduler/confirmations``, ``/downtimes``, ``/orders/{order}/progress``,
``/orders/{order}/close``, ``/plan-vs-actual`` and ``/pareto/{scrap,downtime}``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlmodel import col

from services.scheduler import shopfloor as handlers
from services.scheduler.db.plant_tables import (
    ConfirmationRow,
    DowntimeRow,
    OperationProgressRow,
    OrderClosureRow,
)
from services.scheduler.domain import shopfloor as sf
from services.scheduler.domain.calendar import as_utc
from services.scheduler.schedules import assignments_of, latest_succeeded
from services.scheduler.settings import SchedulerSettings
from shared.db.platform import utcnow
from shared.web.app import RuntimeDep, SessionDep, UowDep
from shared.web.idempotency import CLIENT_HEADER, IdempotencyDep, RequiredIdempotencyDep
from shared.web.problems import NotFound, ValidationFailed

Id = Annotated[str, Field(min_length=1, max_length=200)]
Qty = Annotated[Decimal, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConfirmationCreate(_Strict):
    order: Id
    operation: Id
    machine: Id
    event: Literal["start", "pause", "resume", "finish"]
    good_qty: Qty = Decimal(0)
    scrap_qty: Qty = Decimal(0)
    reason: Annotated[str | None, Field(max_length=500)] = None
    at: datetime | None = Field(default=None, description="When it happened (default: now)")


class ConfirmationPublic(BaseModel):
    id: str
    order: str
    operation: str
    machine: str
    event: str
    good_qty: float
    scrap_qty: float
    reason: str | None
    at: datetime
    state: str = Field(description="The operation's state after this confirmation")


class DowntimeCreate(_Strict):
    machine: Id
    start: datetime
    end: datetime | None = None
    reason: Annotated[str | None, Field(max_length=500)] = None
    time_limit_s: Annotated[float | None, Field(gt=0, le=3600)] = Field(
        default=None, description="Budget of the reschedule (default: the last schedule's)"
    )


class DowntimePublic(BaseModel):
    id: str
    machine: str
    start: datetime
    end: datetime | None
    reason: str | None
    schedule: str | None = Field(description="The new schedule version, queued (null without a schedule)")


class OperationProgressPublic(BaseModel):
    operation: str
    state: str
    planned_machine: str | None
    planned_start: datetime | None
    planned_end: datetime | None
    actual_machine: str | None
    actual_start: datetime | None
    actual_end: datetime | None
    worked_minutes: float
    good_qty: float
    scrap_qty: float


class OrderProgress(BaseModel):
    order: str
    schedule: str | None
    version: int | None
    closed: bool
    operations: list[OperationProgressPublic]


class PlanVsActualItem(BaseModel):
    order: str
    operation: str
    machine: str
    planned_start: datetime
    planned_end: datetime
    actual_start: datetime | None
    actual_end: datetime | None
    started_on_time: bool
    finished_on_time: bool


class PlanVsActual(BaseModel):
    schedule: str | None
    version: int | None
    tolerance_minutes: float
    operations: int
    started: int
    started_on_time: int
    finished: int
    finished_on_time: int
    start_adherence: float | None
    finish_adherence: float | None
    items: list[PlanVsActualItem]


class OrderClosurePublic(BaseModel):
    order: str
    sku: str
    quantity: float
    good_qty: float
    scrap_qty: float
    actual: dict[str, object]
    standard: dict[str, object]
    variance: dict[str, float]
    closed_at: datetime


class ParetoItemPublic(BaseModel):
    cause: str
    amount: float
    share: float
    cumulative_share: float


class Pareto(BaseModel):
    unit: str
    total: float
    items: list[ParetoItemPublic]


router = APIRouter(prefix="/v1/scheduler", tags=["scheduler"])


@router.post(
    "/confirmations",
    status_code=201,
    operation_id="scheduler_create_confirmation",
    summary="Confirm a shop-floor event of an operation (Idempotency-Key required)",
    response_model=ConfirmationPublic,
)
async def create_confirmation(
    body: ConfirmationCreate, uow: UowDep, idem: RequiredIdempotencyDep
) -> Response:
    async with uow:

        async def work() -> ConfirmationPublic:
            c, p = await handlers.confirm(
                uow,
                order=body.order,
                operation=body.operation,
                machine=body.machine,
                event=body.event,
                good_qty=body.good_qty,
                scrap_qty=body.scrap_qty,
                reason=body.reason,
                at=body.at or utcnow(),
            )
            return ConfirmationPublic(
                id=c.id,
                order=c.order_id,
                operation=c.operation,
                machine=c.machine,
                event=c.event,
                good_qty=float(c.good_qty),
                scrap_qty=float(c.scrap_qty),
                reason=c.reason,
                at=c.at,
                state=p.state,
            )

        return await idem.execute(uow, work, status_code=201)


@router.post(
    "/downtimes",
    status_code=201,
    operation_id="scheduler_create_downtime",
    summary="Report a machine breakdown: queues a new schedule version with the machine unavailable",
    response_model=DowntimePublic,
)
async def create_downtime(
    body: DowntimeCreate, request: Request, uow: UowDep, runtime: RuntimeDep, idem: IdempotencyDep
) -> Response:
    if body.end is not None and body.end <= body.start:
        raise ValidationFailed.one("end", "must be after start", code="greater_than")
    settings = runtime.settings
    assert isinstance(settings, SchedulerSettings)
    async with uow:

        async def work() -> DowntimePublic:
            d, s = await handlers.record_downtime(
                uow,
                settings,
                machine=body.machine,
                start=body.start,
                end=body.end,
                reason=body.reason,
                time_limit_s=body.time_limit_s,
                client=request.headers.get(CLIENT_HEADER),
            )
            return DowntimePublic(
                id=d.id,
                machine=d.machine,
                start=d.start,
                end=d.end,
                reason=d.reason,
                schedule=s.id if s else None,
            )

        return await idem.execute(uow, work, status_code=201)


@router.get(
    "/orders/{order}/progress",
    operation_id="scheduler_get_order_progress",
    summary="Per operation of an order: planned versus actual start and end, good and scrap",
)
async def get_order_progress(order: str, session: SessionDep) -> OrderProgress:
    plan = await handlers.plan_of(session, order)
    progress = await handlers.progress_rows(session, order)
    if plan is None and not progress:
        raise NotFound(f"no schedule or confirmation for order {order!r}")
    planned = {a.operation: a for a in plan[1]} if plan else {}
    ops = sorted(set(planned) | set(progress), key=lambda o: (int(o), o) if o.isdigit() else (10**9, o))
    items = []
    for op in ops:
        a, p = planned.get(op), progress.get(op)
        items.append(
            OperationProgressPublic(
                operation=op,
                state=p.state if p else "not_started",
                planned_machine=a.machine if a else None,
                planned_start=a.start if a else None,
                planned_end=a.end if a else None,
                actual_machine=p.machine if p else None,
                actual_start=p.started_at if p else None,
                actual_end=p.finished_at if p else None,
                worked_minutes=float(p.worked_minutes) if p else 0.0,
                good_qty=float(p.good_qty) if p else 0.0,
                scrap_qty=float(p.scrap_qty) if p else 0.0,
            )
        )
    closed = await session.get(OrderClosureRow, order) is not None
    return OrderProgress(
        order=order,
        schedule=plan[0].id if plan else None,
        version=plan[0].version if plan else None,
        closed=closed,
        operations=items,
    )


@router.get(
    "/plan-vs-actual",
    operation_id="scheduler_get_plan_vs_actual",
    summary="Adherence of the latest schedule: share of operations started / finished within tolerance",
)
async def get_plan_vs_actual(
    session: SessionDep,
    from_: Annotated[datetime | None, Query(alias="from", description="Planned start at or after")] = None,
    to: Annotated[datetime | None, Query(description="Planned start before")] = None,
    tolerance_minutes: Annotated[float, Query(ge=0, le=100_000)] = 60.0,
) -> PlanVsActual:
    latest = await latest_succeeded(session)
    rows = await assignments_of(session, latest.id) if latest else []
    lo = as_utc(from_) if from_ else None
    hi = as_utc(to) if to else None
    rows = [a for a in rows if (lo is None or a.start >= lo) and (hi is None or a.start < hi)]
    progress = {
        (p.order_id, p.operation): p
        for p in (
            await session.execute(
                select(OperationProgressRow).where(
                    col(OperationProgressRow.order_id).in_({a.job for a in rows})
                )
            )
        ).scalars()
    }
    items = []
    for a in rows:
        p = progress.get((a.job, a.operation))
        s, e = (p.started_at, p.finished_at) if p else (None, None)
        items.append(
            PlanVsActualItem(
                order=a.job,
                operation=a.operation,
                machine=a.machine,
                planned_start=a.start,
                planned_end=a.end,
                actual_start=s,
                actual_end=e,
                started_on_time=sf.within(a.start, s, tolerance_minutes),
                finished_on_time=sf.within(a.end, e, tolerance_minutes),
            )
        )
    adh = sf.adherence(
        ((i.planned_start, i.planned_end, i.actual_start, i.actual_end) for i in items), tolerance_minutes
    )
    return PlanVsActual(
        schedule=latest.id if latest else None,
        version=latest.version if latest else None,
        tolerance_minutes=tolerance_minutes,
        operations=adh.operations,
        started=adh.started,
        started_on_time=adh.started_on_time,
        finished=adh.finished,
        finished_on_time=adh.finished_on_time,
        start_adherence=adh.start_adherence,
        finish_adherence=adh.finish_adherence,
        items=items,
    )


@router.post(
    "/orders/{order}/close",
    operation_id="scheduler_close_order",
    summary="Close a finished order: actual versus standard cost; emits jalon.scheduler.order.completed",
    response_model=OrderClosurePublic,
)
async def close_order(order: str, uow: UowDep, idem: IdempotencyDep) -> Response:
    async with uow:

        async def work() -> OrderClosurePublic:
            c = await handlers.close_order(uow, order)
            return OrderClosurePublic(
                order=c.order_id,
                sku=c.sku,
                quantity=float(c.quantity),
                good_qty=float(c.good_qty),
                scrap_qty=float(c.scrap_qty),
                actual=c.actual,
                standard=c.standard,
                variance=handlers.variance(c.actual, c.standard),
                closed_at=c.closed_at,
            )

        return await idem.execute(uow, work)


def _pareto(items: list[sf.ParetoItem], unit: str) -> Pareto:
    return Pareto(
        unit=unit,
        total=float(sum((i.amount for i in items), Decimal(0))),
        items=[
            ParetoItemPublic(
                cause=i.cause,
                amount=float(i.amount),
                share=round(i.share, 6),
                cumulative_share=round(i.cumulative_share, 6),
            )
            for i in items
        ],
    )


FromQ = Annotated[datetime | None, Query(alias="from")]


@router.get(
    "/pareto/scrap",
    operation_id="scheduler_get_scrap_pareto",
    summary="Scrap quantity by reason, largest first, with cumulative share",
)
async def get_scrap_pareto(session: SessionDep, from_: FromQ = None, to: datetime | None = None) -> Pareto:
    query = select(ConfirmationRow).where(col(ConfirmationRow.scrap_qty) > 0)
    if from_:
        query = query.where(col(ConfirmationRow.at) >= as_utc(from_))
    if to:
        query = query.where(col(ConfirmationRow.at) < as_utc(to))
    rows = (await session.execute(query)).scalars()
    return _pareto(sf.pareto((r.reason, Decimal(r.scrap_qty)) for r in rows), "quantity")


@router.get(
    "/pareto/downtime",
    operation_id="scheduler_get_downtime_pareto",
    summary="Downtime minutes by reason, largest first, with cumulative share (open downtimes count to now)",
)
async def get_downtime_pareto(session: SessionDep, from_: FromQ = None, to: datetime | None = None) -> Pareto:
    now = utcnow()
    lo = as_utc(from_) if from_ else None
    hi = as_utc(to) if to else None
    amounts = []
    for d in (await session.execute(select(DowntimeRow))).scalars():
        start = max(d.start, lo) if lo else d.start
        end = d.end or max(now, d.start)
        end = min(end, hi) if hi else end
        if end > start:
            amounts.append((d.reason, sf.minutes_between(start, end)))
    return _pareto(sf.pareto(amounts), "minutes")
