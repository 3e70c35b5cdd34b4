"""Plant schedules: the snapshot a schedule is computed from, its submission, and the job that
solves it in a worker.

**Snapshot** (stored with the schedule, so a version can always be recomputed from what it used):

- orders: inline (what-if) or the mrp order book's released orders
  (``GET {mrp_url}/v1/mrp/orders?status=released``, every page; ``make`` orders only; an order counts
  for its ``remaining_qty`` when mrp gives one, with the ``components`` mrp fixed at release).
  Optional per order: ``priority`` (the weight, default 1) and ``material_available_at``;
- material (order-book schedules only; ``None`` for inline what-if orders, whose own
  ``material_available_at`` or release date stands): read from the owners over HTTP when the
  schedule is submitted (:func:`fetch_material`): each order's reservations (inventory), the free
  stock of the components (inventory balances, nettable locations) and the open supply of the
  components (mrp's firm, released and in-progress orders). :func:`material_plan` turns them into
  each order's material date (``domain.material``): the earliest start of its first operation, or
  a shortage that skips the order. Master-data BOMs do not tie components to operations, so the
  date holds back the first operation. Why HTTP and not replicas: see ``docs/planning-rules.md``;
- master data from the local replica (``replica_records``, source ``masterdata``): items (family,
  standard cost), routings, work centers, calendars and BOMs of the orders' skus;
- the scheduler's own setup matrices, open downtimes, and the frozen work: finished and started
  operations (confirmations) and the last succeeded schedule's operations starting before
  ``frozen_until`` (see :func:`services.scheduler.domain.plant.freeze`).

**Job**: the schedule is enqueued on the same work queue as explicit solves, as a message with
``data = {"kind": "schedule", "schedule_id"}``; a worker (``jobs.SolveJobRunner`` hands it to
:class:`ScheduleJobRunner`) claims it (attempt-fenced, like solves), solves it with
``domain.cpsat.solve`` while reporting progress and heartbeats, checks the result with the domain
validator *and* :func:`~services.scheduler.domain.plant.validate_plant` (the calendar rule on real
timestamps), stores the assignments as timestamps with a tardiness summary, and emits
``jalon.scheduler.schedule.completed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from nats.aio.msg import Msg
from sqlalchemy import delete, insert, select, text, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scheduler.db.plant_tables import (
    DowntimeRow,
    OperationProgressRow,
    ScheduleAssignmentRow,
    ScheduleRow,
    ScheduleSnapshotRow,
    SetupMatrixRow,
)
from services.scheduler.domain.calendar import WorkCalendar, as_utc
from services.scheduler.domain.cpsat import Progress, SolverParams, solve
from services.scheduler.domain.material import (
    MANUFACTURING_ORDER,
    PURCHASE_ORDER,
    MaterialOrder,
    OrderMaterial,
    Supply,
    as_record,
    bom_requirements,
    plan_material,
)
from services.scheduler.domain.model import Objective, Solution
from services.scheduler.domain.plant import (
    Downtime,
    FrozenOperation,
    PlantAssignment,
    PlantData,
    PlantOrder,
    PlantProblem,
    RoutingOperation,
    WorkCenter,
    build,
    freeze,
    tardiness,
    to_plant,
    validate_plant,
)
from services.scheduler.domain.validator import check_solution
from services.scheduler.settings import SchedulerSettings
from shared.db.engine import SessionMaker
from shared.db.platform import OutboxRow, utcnow
from shared.db.uow import UnitOfWork
from shared.events import CloudEvent, new_event
from shared.logging import current_correlation_id, get_logger
from shared.web.problems import FieldError, ValidationFailed

log = get_logger(__name__)

SOURCE = "masterdata"
JOB_KIND = "schedule"
FINISHED = ("succeeded", "failed", "cancelled")
#: Statuses of an order of the book that make it open supply (mrp's scheduled receipts).
OPEN_SUPPLY = ("firm", "released", "in_progress")
Snapshot = dict[str, Any]


class SourceUnavailable(RuntimeError):
    """The mrp order book could not be read."""


# -- snapshot ------------------------------------------------------------------------------------


def _order(raw: dict[str, Any]) -> dict[str, Any]:
    quantity = raw.get("remaining_qty") if raw.get("remaining_qty") is not None else raw["quantity"]
    components = raw.get("components")
    return {
        "id": str(raw["id"]),
        "sku": str(raw["sku"]),
        "quantity": str(quantity),
        "release_date": str(raw["release_date"]),
        "due_date": str(raw["due_date"]),
        "priority": int(raw.get("priority") or 1),
        "material_available_at": raw.get("material_available_at"),
        "components": None
        if components is None
        else [{"sku": str(c["sku"]), "qty": str(c["qty"])} for c in components],
    }


async def _pages(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], owner: str
) -> list[dict[str, Any]]:
    """Every item of a paged list of another service (``items`` + ``next_page_token``)."""
    out: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        query = {**params, "page_size": 1000, **({"page_token": token} if token else {})}
        r = await client.get(path, params=query)
        if r.status_code != 200:
            raise SourceUnavailable(f"{owner} answered {r.status_code} to GET {path}")
        body = r.json()
        out += body.get("items") or []
        token = body.get("next_page_token")
        if not token:
            return out


async def fetch_released_orders(
    settings: SchedulerSettings, *, timeout_s: float = 30.0
) -> list[dict[str, Any]]:
    """Every released ``make`` order of the mrp order book."""
    try:
        async with httpx.AsyncClient(base_url=settings.service_url("mrp"), timeout=timeout_s) as client:
            items = await _pages(client, "/v1/mrp/orders", {"status": "released"}, "mrp")
    except httpx.HTTPError as exc:
        raise SourceUnavailable(f"mrp could not be reached: {type(exc).__name__}") from exc
    return [
        _order(o)
        for o in items
        if o.get("kind", "make") == "make" and o.get("status", "released") == "released"
    ]


def order_requirements(order: dict[str, Any], boms: dict[str, Any]) -> dict[str, Decimal]:
    """What the order consumes: the components mrp fixed at release, else its BOM (one level)."""
    if order.get("components") is not None:
        out: dict[str, Decimal] = {}
        for c in order["components"]:
            out[c["sku"]] = out.get(c["sku"], Decimal(0)) + Decimal(str(c["qty"]))
        return out
    on = _day_start(order["release_date"]).date()
    return bom_requirements(boms.get(order["sku"]), _dec(order["quantity"]), on)


async def fetch_material(
    settings: SchedulerSettings,
    orders: list[dict[str, Any]],
    boms: dict[str, Any],
    *,
    timeout_s: float = 30.0,
    concurrency: int = 8,
) -> dict[str, Any]:
    """The material inputs of a snapshot, read from their owners at submission:

    - ``reserved``: order → component → held + consumed, from inventory's reservations of the order;
    - ``stock``: component → free stock (Σ available of its balances in nettable locations);
    - ``supplies``: the open orders of the book (firm, released, in progress) of the components.
    """
    needs = {o["id"]: order_requirements(o, boms) for o in orders}
    skus = sorted({sku for r in needs.values() for sku in r})
    wanted = [o["id"] for o in orders if needs[o["id"]]]
    gate = asyncio.Semaphore(concurrency)
    try:
        async with (
            httpx.AsyncClient(base_url=settings.service_url("inventory"), timeout=timeout_s) as inv,
            httpx.AsyncClient(base_url=settings.service_url("mrp"), timeout=timeout_s) as mrp,
        ):

            async def reservations(order_id: str) -> list[dict[str, Any]]:
                async with gate:
                    r = await inv.get("/v1/inventory/reservations", params={"order": order_id})
                if r.status_code != 200:
                    raise SourceUnavailable(
                        f"inventory answered {r.status_code} to GET /v1/inventory/reservations"
                    )
                return list(r.json().get("items") or [])

            async def balances(sku: str | None) -> list[dict[str, Any]]:
                async with gate:
                    params = {"sku": sku} if sku else {}
                    return await _pages(inv, "/v1/inventory/balances", params, "inventory")

            async def book(status: str) -> list[dict[str, Any]]:
                async with gate:
                    return await _pages(mrp, "/v1/mrp/orders", {"status": status}, "mrp")

            held = await asyncio.gather(*(reservations(o) for o in wanted))
            rows: list[dict[str, Any]] = []
            open_book: list[dict[str, Any]] = []
            locations: list[dict[str, Any]] = []
            if skus:  # few components: their balances; many: every balance at once
                chunks = await asyncio.gather(*(balances(s) for s in skus)) if len(skus) <= 100 else []
                rows = [b for c in chunks for b in c] if chunks else await balances(None)
                open_book = [o for c in await asyncio.gather(*(book(s) for s in OPEN_SUPPLY)) for o in c]
            if rows:
                locations = await _pages(inv, "/v1/inventory/locations", {}, "inventory")
    except httpx.HTTPError as exc:
        raise SourceUnavailable(f"inventory or mrp could not be reached: {type(exc).__name__}") from exc
    nettable = {str(loc["code"]): bool(loc.get("nettable", True)) for loc in locations}
    wanted_skus = set(skus)
    stock: dict[str, Decimal] = {}
    for b in rows:
        sku = str(b["sku"])
        if sku not in wanted_skus or not nettable.get(str(b.get("location")), True):
            continue
        available = b.get("available")
        if available is None:
            available = Decimal(str(b.get("on_hand") or 0)) - Decimal(str(b.get("reserved") or 0))
        stock[sku] = stock.get(sku, Decimal(0)) + Decimal(str(available))
    reserved: dict[str, dict[str, str]] = {}
    for order_id, items in zip(wanted, held, strict=True):
        per: dict[str, Decimal] = {}
        for res in items:
            qty = Decimal(str(res.get("held") or 0)) + Decimal(str(res.get("consumed") or 0))
            per[str(res["sku"])] = per.get(str(res["sku"]), Decimal(0)) + qty
        reserved[order_id] = {s: str(q) for s, q in sorted(per.items()) if q > 0}
    supplies = [
        {
            "ref": str(o["id"]),
            "kind": PURCHASE_ORDER if o.get("kind") == "buy" else MANUFACTURING_ORDER,
            "sku": str(o["sku"]),
            "qty": str(o.get("remaining_qty") if o.get("remaining_qty") is not None else o["quantity"]),
            "due_date": str(o["due_date"]),
        }
        for o in open_book
        if str(o.get("sku")) in wanted_skus and o.get("status") in OPEN_SUPPLY
    ]
    return {
        "source": "inventory and mrp over HTTP at submission",
        "reserved": reserved,
        "stock": {s: str(q) for s, q in sorted(stock.items())},
        "supplies": sorted(
            (s for s in supplies if Decimal(s["qty"]) > 0), key=lambda s: (s["due_date"], s["ref"])
        ),
    }


async def replica_records(session: AsyncSession, kind: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    if not keys:
        return {}
    rows = await session.execute(
        text("SELECT key, record FROM replica_records WHERE source = :s AND kind = :k AND key = ANY(:keys)"),
        {"s": SOURCE, "k": kind, "keys": list(keys)},
    )
    return {str(k): dict(r) for k, r in rows.all()}


async def latest_succeeded(session: AsyncSession) -> ScheduleRow | None:
    query = (
        select(ScheduleRow)
        .where(col(ScheduleRow.status) == "succeeded")
        .order_by(col(ScheduleRow.version).desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def assignments_of(session: AsyncSession, schedule_id: str) -> list[ScheduleAssignmentRow]:
    query = (
        select(ScheduleAssignmentRow)
        .where(col(ScheduleAssignmentRow.schedule_id) == schedule_id)
        .order_by(
            col(ScheduleAssignmentRow.start),
            col(ScheduleAssignmentRow.machine),
            col(ScheduleAssignmentRow.job),
        )
    )
    return list((await session.execute(query)).scalars().all())


async def snapshot_of(session: AsyncSession, schedule_id: str) -> Snapshot | None:
    row = await session.get(ScheduleSnapshotRow, schedule_id)
    return None if row is None else dict(row.snapshot)


async def take_snapshot(
    session: AsyncSession,
    orders: list[dict[str, Any]],
    *,
    as_of: datetime,
    frozen_until: datetime | None,
) -> Snapshot:
    """Master data, setups, downtimes and frozen work for ``orders`` (read in ``session``)."""
    skus = sorted({o["sku"] for o in orders})
    items = await replica_records(session, "item", skus)
    routings = await replica_records(session, "routing", skus)
    boms = await replica_records(session, "bom", skus)
    centers_needed = sorted(
        {
            code
            for r in routings.values()
            for op in r.get("operations") or ()
            for code in [op["work_center"], *(a["work_center"] for a in op.get("alternates") or ())]
        }
    )
    work_centers = await replica_records(session, "work_center", centers_needed)
    calendars = await replica_records(
        session, "calendar", sorted({w["calendar"] for w in work_centers.values()})
    )
    matrices = (
        await session.execute(
            select(SetupMatrixRow).where(col(SetupMatrixRow.work_center).in_(centers_needed))
        )
    ).scalars()
    downtimes = (
        await session.execute(
            select(DowntimeRow).where((col(DowntimeRow.end).is_(None)) | (col(DowntimeRow.end) > as_of))
        )
    ).scalars()
    order_ids = [o["id"] for o in orders]
    progress_rows = (
        await session.execute(
            select(OperationProgressRow).where(col(OperationProgressRow.order_id).in_(order_ids))
        )
    ).scalars()
    progress = {
        (p.order_id, p.operation): (p.state, p.machine, p.started_at, p.finished_at) for p in progress_rows
    }
    latest = await latest_succeeded(session)
    previous = (
        [
            FrozenOperation(a.job, a.operation, a.machine, a.start, a.end)
            for a in await assignments_of(session, latest.id)
            if a.job in set(order_ids)
        ]
        if latest is not None
        else []
    )
    down = [
        {"machine": d.machine, "start": d.start.isoformat(), "end": d.end.isoformat() if d.end else None}
        for d in downtimes
    ]
    frozen = freeze(
        previous,
        progress,
        origin=as_of,
        frozen_until=frozen_until,
        downtimes=[
            Downtime(d["machine"], as_utc(d["start"]), as_utc(d["end"]) if d["end"] else None) for d in down
        ],
    )
    return {
        "as_of": as_of.isoformat(),
        "frozen_until": frozen_until.isoformat() if frozen_until else None,
        "previous_schedule": latest.id if latest else None,
        "orders": orders,
        "items": items,
        "routings": routings,
        "boms": boms,
        "work_centers": work_centers,
        "calendars": calendars,
        "setup_matrices": {m.work_center: m.entries for m in matrices},
        "downtimes": down,
        "frozen": [
            {
                "job": f.job,
                "operation": f.operation,
                "machine": f.machine,
                "start": f.start.isoformat(),
                "end": f.end.isoformat() if f.end else None,
                "reason": f.reason,
            }
            for f in frozen
        ],
    }


def _dec(value: Any, default: str = "0") -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(default)


def _day_start(value: str) -> datetime:
    return as_utc(date.fromisoformat(str(value)[:10]))


def material_plan(snap: Snapshot) -> dict[str, OrderMaterial] | None:
    """Each order's material date from the snapshot's material inputs (None: not checked, the
    orders' own ``material_available_at`` or release dates stand)."""
    material = snap.get("material")
    if not material:
        return None
    begun = {f["job"] for f in snap["frozen"] if f.get("reason") in ("started", "finished")}
    reserved = material.get("reserved") or {}
    orders = [
        MaterialOrder(
            id=o["id"],
            release=_day_start(o["release_date"]),
            due=_day_start(o["due_date"]) + timedelta(days=1),
            weight=int(o.get("priority") or 1),
            requirements=order_requirements(o, snap["boms"]),
            reserved={s: _dec(q) for s, q in (reserved.get(o["id"]) or {}).items()},
            started=o["id"] in begun,
        )
        for o in snap["orders"]
    ]
    supplies = [
        Supply(s["ref"], s["kind"], s["sku"], _dec(s["qty"]), _day_start(s["due_date"]))
        for s in material.get("supplies") or ()
    ]
    stock = {sku: _dec(q) for sku, q in (material.get("stock") or {}).items()}
    return plan_material(orders, stock, supplies, now=as_utc(snap["as_of"]))


def plant_data(snap: Snapshot, plan: dict[str, OrderMaterial] | None = None) -> PlantData:
    """The domain's input from a stored snapshot (``plan``: its :func:`material_plan`, when the
    caller has it already)."""
    plan = plan if plan is not None else material_plan(snap)

    def material(o: dict[str, Any]) -> tuple[datetime | None, str | None]:
        given = as_utc(o["material_available_at"]) if o.get("material_available_at") else None
        m = plan.get(o["id"]) if plan is not None else None
        if m is None:
            return given, None
        dates = [d for d in (given, m.available_at) if d is not None]
        return (max(dates) if dates else None), m.shortage

    orders = tuple(
        PlantOrder(
            id=o["id"],
            sku=o["sku"],
            quantity=_dec(o["quantity"]),
            release=_day_start(o["release_date"]),
            due=_day_start(o["due_date"]) + timedelta(days=1),
            weight=int(o.get("priority") or 1),
            material_available=available,
            blocked=blocked,
        )
        for o in snap["orders"]
        for available, blocked in [material(o)]
    )
    routings = {
        sku: tuple(
            RoutingOperation(
                seq=int(op["seq"]),
                work_center=op["work_center"],
                setup_minutes=_dec(op.get("setup_minutes")),
                run_minutes_per_unit=_dec(op.get("run_minutes_per_unit")),
                alternates=tuple(
                    (a["work_center"], _dec(a.get("run_minutes_per_unit")))
                    for a in op.get("alternates") or ()
                ),
            )
            for op in r.get("operations") or ()
        )
        for sku, r in snap["routings"].items()
    }
    work_centers = {
        code: WorkCenter(
            code=code,
            machines=tuple(m["code"] for m in w.get("machines") or ()),
            calendar=w["calendar"],
            efficiency=_dec(w.get("efficiency"), "1"),
            hourly_cost=_dec(w.get("hourly_cost")),
        )
        for code, w in snap["work_centers"].items()
    }
    calendars = {code: WorkCalendar.from_record({**c, "code": code}) for code, c in snap["calendars"].items()}
    return PlantData(
        orders=orders,
        routings=routings,
        work_centers=work_centers,
        calendars=calendars,
        families={sku: i.get("family") for sku, i in snap["items"].items()},
        setup_matrices={
            wc: {(e["from_family"], e["to_family"]): int(e["minutes"]) for e in entries}
            for wc, entries in snap["setup_matrices"].items()
        },
        downtimes=tuple(
            Downtime(d["machine"], as_utc(d["start"]), as_utc(d["end"]) if d.get("end") else None)
            for d in snap["downtimes"]
        ),
        frozen=tuple(
            FrozenOperation(
                f["job"],
                f["operation"],
                f["machine"],
                as_utc(f["start"]),
                as_utc(f["end"]) if f.get("end") else None,
                f["reason"],
            )
            for f in snap["frozen"]
        ),
    )


def build_problem(
    snap: Snapshot,
    objectives: Sequence[str],
    horizon_days: int,
    plan: dict[str, OrderMaterial] | None = None,
) -> PlantProblem:
    return build(
        plant_data(snap, plan),
        now=as_utc(snap["as_of"]),
        horizon_days=horizon_days,
        objective=tuple(Objective(o) for o in objectives),
        frozen_until=as_utc(snap["frozen_until"]) if snap.get("frozen_until") else None,
    )


# -- submission ----------------------------------------------------------------------------------


def schedule_job(schedule_id: str, subject: str) -> CloudEvent:
    return CloudEvent(
        source="/jalon/scheduler",
        type=subject,
        subject=schedule_id,
        correlationid=current_correlation_id(),
        data={"kind": JOB_KIND, "schedule_id": schedule_id},
    )


async def submit_schedule(
    uow: UnitOfWork,
    settings: SchedulerSettings,
    orders: list[dict[str, Any]],
    *,
    objectives: list[str],
    time_limit_s: float,
    horizon_days: int,
    as_of: datetime,
    frozen_until: datetime | None,
    inline: bool,
    client: str | None,
    trigger: str = "request",
    downtime_id: str | None = None,
    material: dict[str, Any] | None = None,
) -> ScheduleRow:
    """Snapshot, check, store a queued schedule and enqueue its job; the caller commits.
    ``material``: the inputs of :func:`fetch_material` (None: the orders' own dates stand)."""
    snap = await take_snapshot(uow.session, orders, as_of=as_of, frozen_until=frozen_until)
    snap["material"] = material
    plan = material_plan(snap)
    pp = await asyncio.to_thread(build_problem, snap, objectives, horizon_days, plan)
    if inline and pp.skipped:
        index = {o["id"]: i for i, o in enumerate(orders)}
        raise ValidationFailed(
            [
                FieldError(field=f"orders[{index[s.order]}].sku", message=s.reason, code="unschedulable")
                for s in pp.skipped
            ]
        )
    if not pp.problem.jobs:
        detail = "; ".join(f"{s.order}: {s.reason}" for s in pp.skipped[:5])
        raise ValidationFailed.one(
            "orders",
            "no released manufacturing order can be scheduled" + (f" ({detail})" if detail else ""),
            code="empty",
        )
    schedule = ScheduleRow(
        id=str(uuid.uuid4()),
        status="queued",
        trigger=trigger,
        objectives=objectives,
        time_limit_s=time_limit_s,
        horizon_days=horizon_days,
        frozen_until=frozen_until,
        origin=pp.origin,
        skipped=[{"order": s.order, "reason": s.reason} for s in pp.skipped],
        jobs=len(pp.problem.jobs),
        operations=sum(len(j.operations) for j in pp.problem.jobs),
        machines=len(pp.problem.machines),
        downtime_id=downtime_id,
        client=client,
        material=[as_record(plan[o["id"]]) for o in orders if o["id"] in plan] if plan is not None else None,
    )
    uow.session.add(schedule)
    await uow.session.flush()
    uow.session.add(ScheduleSnapshotRow(schedule_id=schedule.id, snapshot=snap))
    uow.emit(schedule_job(schedule.id, settings.scheduler_job_subject))
    return schedule


def schedule_completed(row: ScheduleRow, correlation_id: str | None = None) -> CloudEvent:
    data = {
        "schedule_id": row.id,
        "version": row.version,
        "status": row.status,
        "trigger": row.trigger,
        "objective": row.objective,
        "best_bound": row.best_bound,
        "gap": row.gap,
        "tardiness": row.tardiness,
    }
    return new_event(
        "scheduler", "schedule", "completed", data, subject=row.id, correlation_id=correlation_id
    )


# -- the job ---------------------------------------------------------------------------------------


class ScheduleJobRunner:
    """Runs ``kind: schedule`` jobs in a worker; returns the name of an ``jobs.Outcome``."""

    def __init__(
        self, settings: SchedulerSettings, sessionmaker: SessionMaker, worker_id: str, wake: Any
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.worker_id = worker_id
        self._wake = wake

    async def handle(
        self, msg: Msg, job: CloudEvent, shutting_down: asyncio.Event, heartbeat_s: float
    ) -> str:
        schedule_id = job.data.get("schedule_id")
        if not isinstance(schedule_id, str) or not schedule_id:
            await msg.term()
            return "poison"
        try:
            claimed = await self._claim(schedule_id, msg.metadata.num_delivered, job.correlationid)
        except Exception as exc:
            log.warning("could not claim schedule; will retry", schedule_id=schedule_id, error=str(exc))
            await msg.nak(delay=2.0)
            return "retry"
        if isinstance(claimed, str):
            await (msg.term() if claimed == "poison" else msg.ack())
            return claimed
        attempt, row, snap = claimed
        try:
            pp = await asyncio.to_thread(build_problem, snap, row.objectives, row.horizon_days)
        except Exception as exc:
            log.exception("schedule problem could not be built", schedule_id=schedule_id)
            return await self._store(
                msg, schedule_id, attempt, None, None, f"{type(exc).__name__}: {exc}", job.correlationid
            )
        stop = threading.Event()
        latest: list[Progress] = []
        params = SolverParams(
            time_limit_s=row.time_limit_s, num_workers=self.settings.scheduler_default_num_workers
        )
        task = asyncio.create_task(asyncio.to_thread(solve, pp.problem, params, latest.append, stop))
        started = last_beat = time.monotonic()
        grace_ends: float | None = None
        handed_back = lost = False
        while not task.done():
            await asyncio.wait({task}, timeout=self.settings.scheduler_progress_interval_s)
            if task.done():
                break
            now = time.monotonic()
            if now - last_beat >= heartbeat_s:
                last_beat = now
                with contextlib.suppress(Exception):
                    await msg.in_progress()
            if shutting_down.is_set() and not stop.is_set():
                grace_ends = grace_ends or now + self.settings.scheduler_shutdown_grace_s
                if now >= grace_ends:
                    handed_back = True
                    stop.set()
            if not await self._report(
                schedule_id, attempt, latest[-1] if latest else None, (now - started) / row.time_limit_s
            ):
                lost = True
                stop.set()
        try:
            solution = task.result()
        except Exception as exc:
            log.exception("schedule solve raised", schedule_id=schedule_id)
            return await self._store(
                msg, schedule_id, attempt, pp, None, f"{type(exc).__name__}: {exc}", job.correlationid
            )
        if lost:
            return "lost"
        if handed_back:
            async with self.sessionmaker() as session, session.begin():
                await session.execute(
                    update(ScheduleRow)
                    .where(col(ScheduleRow.id) == schedule_id, col(ScheduleRow.attempts) == attempt)
                    .values(status="queued", progress=0.0)
                )
            await msg.nak()
            return "handed_back"
        return await self._store(msg, schedule_id, attempt, pp, solution, None, job.correlationid)

    async def _claim(
        self, schedule_id: str, delivered: int, correlation_id: str | None
    ) -> tuple[int, ScheduleRow, Snapshot] | str:
        async with self.sessionmaker() as session, session.begin():
            row = (
                await session.execute(
                    select(ScheduleRow).where(col(ScheduleRow.id) == schedule_id).with_for_update()
                )
            ).scalar_one_or_none()
            if row is None:
                return "poison"
            if row.status in FINISHED:
                return "skipped"
            snap = await snapshot_of(session, schedule_id)
            if delivered > self.settings.scheduler_job_max_deliver or snap is None:
                self._finish(
                    session,
                    row,
                    "failed",
                    "gave up after repeated deliveries" if snap else "snapshot missing",
                    correlation_id,
                )
                outcome = "gave_up"
            else:
                now = utcnow()
                row.status, row.attempts, row.worker_id = "running", row.attempts + 1, self.worker_id
                row.started_at = row.heartbeat_at = now
                row.progress, row.error = 0.0, None
                session.add(row)
                return row.attempts, row, snap
        self._wake()
        return outcome

    async def _report(self, schedule_id: str, attempt: int, progress: Progress | None, share: float) -> bool:
        values: dict[str, Any] = {"progress": min(0.99, share), "heartbeat_at": utcnow()}
        if progress is not None and progress.level == 0:
            bound = min(progress.best_bound, progress.objective)
            values.update(
                objective=progress.objective,
                best_bound=bound,
                gap=max(0.0, (progress.objective - bound) / progress.objective)
                if progress.objective > 0
                else 0.0,
            )
        try:
            async with self.sessionmaker() as session, session.begin():
                result = await session.execute(
                    update(ScheduleRow)
                    .where(
                        col(ScheduleRow.id) == schedule_id,
                        col(ScheduleRow.attempts) == attempt,
                        col(ScheduleRow.status) == "running",
                    )
                    .values(**values)
                    .returning(col(ScheduleRow.id))
                )
                return result.first() is not None
        except Exception as exc:
            log.warning("could not record schedule progress", schedule_id=schedule_id, error=str(exc))
            return True

    def _finish(
        self, session: Any, row: ScheduleRow, status: str, error: str | None, correlation_id: str | None
    ) -> None:
        now = utcnow()
        row.status, row.error, row.finished_at, row.heartbeat_at, row.progress = status, error, now, now, 1.0
        if row.started_at is not None:
            row.wall_s = round((now - row.started_at).total_seconds(), 3)
        session.add(row)
        event = schedule_completed(row, correlation_id)
        session.add(OutboxRow(event_id=event.id, subject=event.nats_subject, payload=event.model_dump_json()))

    async def _store(
        self,
        msg: Msg,
        schedule_id: str,
        attempt: int,
        pp: PlantProblem | None,
        solution: Solution | None,
        error: str | None,
        correlation_id: str | None,
    ) -> str:
        items: list[PlantAssignment] = []
        if pp is not None and solution is not None:
            if not solution.assignments:
                error = f"no schedule found ({solution.status.value}): the horizon may be too short"
            else:
                problems = [v.message for v in check_solution(pp.problem, solution)]
                if not problems:
                    try:
                        items = to_plant(pp, solution.assignments)
                        problems = validate_plant(pp, items)
                    except ValueError as exc:
                        problems = [str(exc)]
                if problems:
                    error = "the schedule failed validation: " + "; ".join(problems[:5])
                    items = []
        try:
            async with self.sessionmaker() as session, session.begin():
                row = (
                    await session.execute(
                        select(ScheduleRow).where(col(ScheduleRow.id) == schedule_id).with_for_update()
                    )
                ).scalar_one_or_none()
                if row is None or row.attempts != attempt or row.status != "running":
                    return "lost"
                if items and pp is not None and solution is not None:
                    await session.execute(
                        delete(ScheduleAssignmentRow).where(
                            col(ScheduleAssignmentRow.schedule_id) == schedule_id
                        )
                    )
                    await session.execute(
                        insert(ScheduleAssignmentRow),
                        [
                            {
                                "schedule_id": schedule_id,
                                "job": a.job,
                                "operation": a.operation,
                                "machine": a.machine,
                                "work_center": a.work_center,
                                "start": pp.at(a.start),
                                "end": pp.at(a.end),
                                "duration_minutes": a.duration,
                                "setup_minutes": a.setup,
                                "frozen": a.frozen,
                            }
                            for a in items
                        ],
                    )
                    t = tardiness(pp, items)
                    row.solver_status = solution.status.value
                    row.objective, row.best_bound, row.gap = (
                        solution.objective,
                        solution.best_bound,
                        solution.gap,
                    )
                    row.objective_values = {
                        o.value: v for o, v in zip(pp.problem.objective, solution.objectives, strict=False)
                    }
                    row.tardiness = {
                        "late_orders": t.late_jobs,
                        "total_weighted_minutes": t.total_weighted_minutes,
                        "max_minutes": t.max_minutes,
                        "makespan_end": pp.at(max(a.end for a in items)).isoformat(),
                        "orders": {j: m for j, m in sorted(t.per_job.items()) if m > 0},
                    }
                    row.statistics = {
                        **dict(solution.stats),
                        "solver_wall_s": round(solution.wall_time_s, 3),
                        "assignments": len(items),
                        "time_unit": "working minutes of the plant (union of machine calendars)",
                    }
                self._finish(session, row, "failed" if error else "succeeded", error, correlation_id)
        except Exception as exc:
            log.warning("could not store the schedule; will retry", schedule_id=schedule_id, error=str(exc))
            await msg.nak(delay=2.0)
            return "retry"
        self._wake()
        await msg.ack()
        log.info("schedule finished", schedule_id=schedule_id, error=error)
        return "solved"


def today_utc() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)
