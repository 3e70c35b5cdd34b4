"""Shop-floor use cases: confirmations, downtimes (which reschedule), order progress,
plan-versus-actual, order closing with its cost, and Pareto lists.

Cost of a closed order (assumptions, stated):

- actual labour = Σ over its operations of the actual working minutes (clock minutes while the
  operation ran, see ``domain.shopfloor``) × the hourly cost of the work center of the machine it
  ran on / 60;
- actual material = the BOM of the order's sku (the replica's, at closing) per unit, scrap factor
  included (``qty_per / (1 − scrap_pct/100)``), × the units that entered production (good quantity
  of the last operation + scrap of every operation), × each component's standard cost: material
  is assumed issued by backflush at standard cost (the scheduler sees no stock movements);
- standard = Σ routing operations (setup + order quantity × run minutes per unit, on the primary
  work center, efficiency not applied) × that work center's hourly cost / 60, plus the BOM per
  unit × the order quantity × standard costs.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler.db.plant_tables import (
    ConfirmationRow,
    DowntimeRow,
    OperationProgressRow,
    OrderClosureRow,
    ScheduleAssignmentRow,
    ScheduleRow,
)
from services.scheduler.domain import shopfloor as sf
from services.scheduler.domain.calendar import as_utc
from services.scheduler.schedules import (
    latest_succeeded,
    replica_records,
    snapshot_of,
    submit_schedule,
)
from services.scheduler.settings import SchedulerSettings
from shared.db.platform import utcnow
from shared.db.uow import UnitOfWork
from shared.events import new_event
from shared.web.problems import Conflict, FieldError, NotFound, ValidationFailed


def progress_of(row: OperationProgressRow | None) -> sf.OperationProgress:
    if row is None:
        return sf.OperationProgress()
    return sf.OperationProgress(
        state=row.state,
        machine=row.machine,
        started_at=row.started_at,
        finished_at=row.finished_at,
        last_at=row.last_at,
        running_since=row.running_since,
        worked_minutes=Decimal(row.worked_minutes),
        good_qty=Decimal(row.good_qty),
        scrap_qty=Decimal(row.scrap_qty),
    )


async def confirm(
    uow: UnitOfWork,
    *,
    order: str,
    operation: str,
    machine: str,
    event: str,
    good_qty: Decimal,
    scrap_qty: Decimal,
    reason: str | None,
    at: datetime,
) -> tuple[ConfirmationRow, OperationProgressRow]:
    """Record one confirmation, moving the operation's state; a bad transition is a 409 naming
    the field at fault. The caller commits."""
    session = uow.session
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"op:{order}:{operation}"}
    )
    row = await session.get(OperationProgressRow, (order, operation))
    if row is not None:
        await session.refresh(row)
    at = as_utc(at)
    try:
        new = sf.apply(
            progress_of(row), event, machine=machine, at=at, good_qty=good_qty, scrap_qty=scrap_qty
        )
    except sf.TransitionError as exc:
        raise Conflict(
            exc.message,
            errors=[FieldError(field=exc.field, message=exc.message, code="invalid_transition").model_dump()],
        ) from exc
    confirmation = ConfirmationRow(
        id=str(uuid.uuid4()),
        order_id=order,
        operation=operation,
        machine=machine,
        event=event,
        good_qty=good_qty,
        scrap_qty=scrap_qty,
        reason=reason,
        at=at,
    )
    session.add(confirmation)
    if row is None:
        row = OperationProgressRow(
            order_id=order, operation=operation, state=new.state or "", machine=machine
        )
    row.state = new.state or ""
    row.machine = new.machine or machine
    row.started_at, row.finished_at, row.last_at = new.started_at, new.finished_at, new.last_at
    row.running_since = new.running_since
    row.worked_minutes, row.good_qty, row.scrap_qty = new.worked_minutes, new.good_qty, new.scrap_qty
    session.add(row)
    await session.flush()
    if new.state == "finished":
        uow.emit(
            new_event(
                "scheduler",
                "operation",
                "completed",
                {
                    "order": order,
                    "operation": operation,
                    "machine": row.machine,
                    "good_qty": float(new.good_qty),
                    "scrap_qty": float(new.scrap_qty),
                    "started_at": new.started_at.isoformat() if new.started_at else None,
                    "finished_at": at.isoformat(),
                    "worked_minutes": float(new.worked_minutes),
                },
                subject=f"{order}/{operation}",
            )
        )
    return confirmation, row


async def closed_orders(session: AsyncSession) -> set[str]:
    return set((await session.execute(select(OrderClosureRow.order_id))).scalars())  # type: ignore[call-overload]


async def record_downtime(
    uow: UnitOfWork,
    settings: SchedulerSettings,
    *,
    machine: str,
    start: datetime,
    end: datetime | None,
    reason: str | None,
    time_limit_s: float | None,
    client: str | None,
) -> tuple[DowntimeRow, ScheduleRow | None]:
    """Store a breakdown and, when there is a schedule, queue a new version: the same orders
    (less closed ones) and material inputs, from the breakdown's start, with the machine
    unavailable, started and earlier operations frozen. The caller commits."""
    session = uow.session
    downtime = DowntimeRow(
        id=str(uuid.uuid4()),
        machine=machine,
        start=as_utc(start),
        end=as_utc(end) if end else None,
        reason=reason,
    )
    session.add(downtime)
    await session.flush()
    latest = await latest_succeeded(session)
    if latest is None:
        return downtime, None
    snap = await snapshot_of(session, latest.id) or {}
    closed = await closed_orders(session)
    orders = [o for o in snap.get("orders", []) if o["id"] not in closed]
    if not orders:
        return downtime, None
    try:
        schedule = await submit_schedule(
            uow,
            settings,
            orders,
            objectives=list(latest.objectives),
            time_limit_s=time_limit_s or latest.time_limit_s,
            horizon_days=latest.horizon_days,
            as_of=downtime.start,
            frozen_until=downtime.start,
            inline=False,
            client=client,
            trigger="downtime",
            downtime_id=downtime.id,
            material=snap.get("material"),  # the last version's inputs: no HTTP inside this transaction
        )
    except ValidationFailed:
        return downtime, None
    downtime.schedule_id = schedule.id
    session.add(downtime)
    return downtime, schedule


async def plan_of(
    session: AsyncSession, order: str
) -> tuple[ScheduleRow, list[ScheduleAssignmentRow]] | None:
    """The newest succeeded schedule that plans ``order``, and its operations."""
    query = (
        select(ScheduleRow)
        .join(ScheduleAssignmentRow, col(ScheduleAssignmentRow.schedule_id) == col(ScheduleRow.id))
        .where(col(ScheduleAssignmentRow.job) == order, col(ScheduleRow.status) == "succeeded")
        .order_by(col(ScheduleRow.version).desc())
        .limit(1)
    )
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        return None
    ops = (
        await session.execute(
            select(ScheduleAssignmentRow).where(
                col(ScheduleAssignmentRow.schedule_id) == row.id, col(ScheduleAssignmentRow.job) == order
            )
        )
    ).scalars()
    return row, sorted(ops, key=lambda a: (a.start, a.operation))


async def progress_rows(session: AsyncSession, order: str) -> dict[str, OperationProgressRow]:
    rows = (
        await session.execute(select(OperationProgressRow).where(col(OperationProgressRow.order_id) == order))
    ).scalars()
    return {r.operation: r for r in rows}


def _routing_key(op: str) -> tuple[int, str]:
    return (int(op), op) if op.isdigit() else (10**9, op)


async def close_order(uow: UnitOfWork, order: str) -> OrderClosureRow:
    """Cost the order (see the module docstring), store the closure and emit
    ``jalon.scheduler.order.completed``. The caller commits."""
    session = uow.session
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"close:{order}"}
    )
    if await session.get(OrderClosureRow, order) is not None:
        raise Conflict(f"order {order} is already closed")
    plan = await plan_of(session, order)
    if plan is None:
        raise NotFound(f"no schedule plans order {order!r}")
    schedule, _ops = plan
    snap = await snapshot_of(session, schedule.id) or {}
    info = next((o for o in snap.get("orders", []) if o["id"] == order), None)
    if info is None:
        raise NotFound(f"order {order!r} is not in its schedule's snapshot")
    sku, quantity = info["sku"], Decimal(str(info["quantity"]))
    routing = (
        (await replica_records(session, "routing", [sku])).get(sku) or snap.get("routings", {}).get(sku) or {}
    )
    route = sorted(routing.get("operations") or (), key=lambda op: int(op["seq"]))
    progress = await progress_rows(session, order)
    unfinished = [
        str(op["seq"]) for op in route if getattr(progress.get(str(op["seq"])), "state", None) != "finished"
    ]
    if unfinished:
        raise Conflict(
            f"order {order} has unfinished operations: {', '.join(unfinished)}",
            errors=[
                FieldError(
                    field="path.order", message="every operation must be finished", code="unfinished"
                ).model_dump()
            ],
        )
    centers_needed = {op["work_center"] for op in route} | {
        a["work_center"] for op in route for a in op.get("alternates") or ()
    }
    centers = await replica_records(session, "work_center", sorted(centers_needed))
    centers = {**snap.get("work_centers", {}), **centers}
    machine_center = {m["code"]: code for code, w in centers.items() for m in w.get("machines") or ()}
    rate = {code: Decimal(str(w.get("hourly_cost") or 0)) for code, w in centers.items()}

    actual_lines = []
    standard_lines = []
    for op in route:
        seq = str(op["seq"])
        p = progress[seq]
        wc = machine_center.get(p.machine, op["work_center"])
        actual_lines.append(sf.CostLine(seq, wc, Decimal(p.worked_minutes), rate.get(wc, Decimal(0))))
        minutes = Decimal(str(op.get("setup_minutes") or 0)) + quantity * Decimal(
            str(op.get("run_minutes_per_unit") or 0)
        )
        standard_lines.append(
            sf.CostLine(seq, op["work_center"], minutes, rate.get(op["work_center"], Decimal(0)))
        )
    last = progress[str(route[-1]["seq"])] if route else None
    good = Decimal(last.good_qty) if last else Decimal(0)
    scrap = sum((Decimal(p.scrap_qty) for p in progress.values()), Decimal(0))
    bom = (await replica_records(session, "bom", [sku])).get(sku) or snap.get("boms", {}).get(sku) or {}
    components = [
        (ln["component"], Decimal(str(ln.get("qty_per") or 0)), Decimal(str(ln.get("scrap_pct") or 0)))
        for ln in bom.get("lines") or ()
    ]
    items = await replica_records(session, "item", sorted({c for c, _, _ in components}))
    costs = {sku_: Decimal(str(i.get("standard_cost") or 0)) for sku_, i in items.items()}
    actual = sf.cost(actual_lines, sf.material_cost(components, good + scrap, costs))
    standard = sf.cost(standard_lines, sf.material_cost(components, quantity, costs))
    closure = OrderClosureRow(
        order_id=order,
        sku=sku,
        quantity=quantity,
        good_qty=good,
        scrap_qty=scrap,
        actual=cost_json(actual),
        standard=cost_json(standard),
    )
    session.add(closure)
    await session.flush()
    uow.emit(
        new_event(
            "scheduler",
            "order",
            "completed",
            {
                "order": order,
                "sku": sku,
                "good_qty": float(good),
                "location": None,
                "components_consumed": None,
            },
            subject=order,
        )
    )
    return closure


def cost_json(c: sf.CostBreakdown) -> dict[str, Any]:
    return {
        "labour": float(sf.money(c.labour)),
        "material": float(sf.money(c.material)),
        "total": float(sf.money(c.total)),
        "operations": [
            {
                "operation": ln.operation,
                "work_center": ln.work_center,
                "minutes": float(ln.minutes),
                "hourly_cost": float(ln.hourly_cost),
                "cost": float(sf.money(ln.cost)),
            }
            for ln in c.lines
        ],
    }


def variance(actual: Mapping[str, Any], standard: Mapping[str, Any]) -> dict[str, float]:
    return {k: round(float(actual[k]) - float(standard[k]), 2) for k in ("labour", "material", "total")}


def now() -> datetime:
    return utcnow()
