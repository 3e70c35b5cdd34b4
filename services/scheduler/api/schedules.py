"""``/v1/scheduler/schedules``: versions of the plant schedule (released orders on the plant's
calendars), their assignments as timestamps, diffs and Gantt charts; setup matrices; dispatch lists."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlmodel import col

from services.scheduler.api.schemas import ObjectiveList, ObjectiveName
from services.scheduler.db.plant_tables import (
    OperationProgressRow,
    ScheduleAssignmentRow,
    ScheduleRow,
    SetupMatrixRow,
)
from services.scheduler.schedules import (
    SourceUnavailable,
    assignments_of,
    fetch_material,
    fetch_released_orders,
    latest_succeeded,
    replica_records,
    snapshot_of,
    submit_schedule,
    today_utc,
)
from services.scheduler.settings import SchedulerSettings
from shared.charts import DueMark, GanttBar, PngRendererMissing, gantt_json, gantt_svg, svg_to_png
from shared.db.platform import utcnow
from shared.web.app import RuntimeDep, SessionDep, UowDep
from shared.web.idempotency import CLIENT_HEADER, IdempotencyDep
from shared.web.pagination import PageParams, encode_token, page_params
from shared.web.problems import (
    Conflict,
    FieldError,
    NotFound,
    PreconditionFailed,
    ServiceUnavailable,
    ValidationFailed,
)

PREFIX = "/v1/scheduler/schedules"
PageDep = Annotated[PageParams, Depends(page_params)]
Id = Annotated[str, Field(min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScheduleOrderIn(_Strict):
    """A manufacturing order to schedule (what-if), shaped like the mrp order book's."""

    id: Id
    sku: Id
    quantity: Annotated[Decimal, Field(gt=0)]
    release_date: date
    due_date: date
    priority: Annotated[int, Field(ge=0, le=10**6, description="Weight in weighted tardiness")] = 1
    material_available_at: datetime | None = Field(
        default=None, description="When the components are available (default: the release date)"
    )


class ScheduleCreate(_Strict):
    objective: ObjectiveList = Field(default_factory=lambda: list[ObjectiveName](["weighted_tardiness"]))
    time_limit_s: Annotated[float, Field(gt=0)] = 10.0
    frozen_until: datetime | None = Field(
        default=None,
        description="Operations of the last schedule starting before this keep their machine and times",
    )
    horizon_days: Annotated[int, Field(ge=1, le=366)] = 28
    as_of: datetime | None = Field(default=None, description="Nothing new starts before this (default: now)")
    orders: Annotated[list[ScheduleOrderIn] | None, Field(default=None, min_length=1, max_length=100_000)] = (
        None
    )


class ScheduleAccepted(BaseModel):
    id: str
    status: str
    version: int | None


class ScheduleProblemSummary(BaseModel):
    orders: int
    operations: int
    machines: int
    objective: list[str]
    time_limit_s: float
    horizon_days: int
    frozen_until: datetime | None
    origin: datetime | None


class ScheduleTimings(BaseModel):
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    wall_s: float | None


class MaterialDraw(BaseModel):
    source: Literal["reservation", "stock", "purchase_order", "manufacturing_order"]
    qty: float
    available_at: datetime
    reference: str | None = Field(description="The supplying order of the book")
    overdue: bool = False


class ComponentMaterialPublic(BaseModel):
    sku: str
    required: float
    short: float
    available_at: datetime | None = Field(description="Null when short")
    from_: list[MaterialDraw] = Field(alias="from")

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class MaterialPublic(BaseModel):
    order: str
    available_at: datetime | None = Field(
        description="Earliest start of the order's first operation for its components "
        "(null: no components, already started, or short)"
    )
    source: Literal[
        "reservation",
        "stock",
        "purchase_order",
        "manufacturing_order",
        "no_components",
        "started",
        "shortage",
    ]
    reference: str | None = Field(description="The supplying order that sets the date")
    component: str | None = Field(description="The component that sets the date (or the first short)")
    shortage: str | None = Field(description="Why the order is not scheduled")
    components: list[ComponentMaterialPublic]


class SchedulePublic(BaseModel):
    id: str
    version: int | None
    status: str
    trigger: str
    progress: float
    problem: ScheduleProblemSummary
    solver_status: str | None
    objective: int | None = Field(description="Primary objective in working minutes of the plant")
    best_bound: int | None
    gap: float | None
    objective_values: dict[str, int] | None
    tardiness: dict[str, Any] | None = Field(
        description="Lateness in clock minutes after the end of the due date"
    )
    skipped: list[dict[str, Any]] = Field(
        description="Orders not scheduled and why (a material shortage names the missing quantities)"
    )
    material: list[MaterialPublic] | None = Field(
        description="Per order of the book: when its components are available and from what "
        "(null for inline what-if orders, whose own material_available_at or release date stands)"
    )
    attempts: int
    worker: str | None
    downtime: str | None
    timings: ScheduleTimings
    statistics: dict[str, Any]
    error: str | None
    links: dict[str, str]


class ScheduleList(BaseModel):
    items: list[SchedulePublic]
    next_page_token: str | None = None


class ScheduleAssignmentPublic(BaseModel):
    job: str
    order: str
    operation: str
    machine: str
    work_center: str
    start: datetime
    end: datetime
    duration_minutes: int = Field(description="Working minutes")
    setup_minutes: int
    frozen: bool


class ScheduleAssignmentList(BaseModel):
    items: list[ScheduleAssignmentPublic]
    next_page_token: str | None = None


class Placement(BaseModel):
    machine: str
    start: datetime
    end: datetime


class MovedOperation(BaseModel):
    order: str
    operation: str
    before: Placement
    after: Placement
    start_shift_minutes: int
    machine_changed: bool


class ScheduleDiff(BaseModel):
    base: str
    other: str
    moved: list[MovedOperation]
    added: list[ScheduleAssignmentPublic]
    removed: list[ScheduleAssignmentPublic]
    unchanged: int


class SetupEntry(_Strict):
    from_family: Id
    to_family: Id
    minutes: Annotated[int, Field(ge=0, le=10**6)]


class SetupMatrixIn(_Strict):
    entries: Annotated[list[SetupEntry], Field(max_length=100_000)]


class SetupMatrixPublic(BaseModel):
    work_center: str
    entries: list[SetupEntry]
    version: int
    updated_at: datetime


class DispatchItem(BaseModel):
    sequence: int
    order: str
    operation: str
    sku: str | None
    quantity: Decimal | None
    machine: str
    planned_start: datetime
    planned_end: datetime
    setup_minutes: int
    duration_minutes: int
    state: str = Field(description="not_started | started | paused")


class DispatchList(BaseModel):
    work_center: str
    schedule: str | None
    version: int | None
    items: list[DispatchItem]


def schedule_url(schedule_id: str) -> str:
    return f"{PREFIX}/{schedule_id}"


def _settings(runtime: Any) -> SchedulerSettings:
    settings = runtime.settings
    assert isinstance(settings, SchedulerSettings)
    return settings


def to_public(row: ScheduleRow) -> SchedulePublic:
    url = schedule_url(row.id)
    return SchedulePublic(
        id=row.id,
        version=row.version,
        status=row.status,
        trigger=row.trigger,
        progress=round(row.progress, 4),
        problem=ScheduleProblemSummary(
            orders=row.jobs,
            operations=row.operations,
            machines=row.machines,
            objective=row.objectives,
            time_limit_s=row.time_limit_s,
            horizon_days=row.horizon_days,
            frozen_until=row.frozen_until,
            origin=row.origin,
        ),
        solver_status=row.solver_status,
        objective=row.objective,
        best_bound=row.best_bound,
        gap=row.gap,
        objective_values=row.objective_values,
        tardiness=row.tardiness,
        skipped=row.skipped,
        material=None if row.material is None else [MaterialPublic.model_validate(m) for m in row.material],
        attempts=row.attempts,
        worker=row.worker_id,
        downtime=row.downtime_id,
        timings=ScheduleTimings(
            queued_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            wall_s=row.wall_s,
        ),
        statistics=row.statistics,
        error=row.error,
        links={
            "self": url,
            "assignments": f"{url}/assignments",
            "gantt_svg": f"{url}/gantt.svg",
            "gantt_png": f"{url}/gantt.png",
            "gantt_json": f"{url}/gantt.json",
        },
    )


def _assignment(a: ScheduleAssignmentRow) -> ScheduleAssignmentPublic:
    return ScheduleAssignmentPublic(
        job=a.job,
        order=a.job,
        operation=a.operation,
        machine=a.machine,
        work_center=a.work_center,
        start=a.start,
        end=a.end,
        duration_minutes=a.duration_minutes,
        setup_minutes=a.setup_minutes,
        frozen=a.frozen,
    )


async def _get(session: Any, schedule_id: str) -> ScheduleRow:
    row = await session.get(ScheduleRow, schedule_id)
    if row is None:
        raise NotFound(f"no schedule {schedule_id!r}")
    return row


async def _finished(session: Any, schedule_id: str) -> ScheduleRow:
    row = await _get(session, schedule_id)
    if row.status != "succeeded":
        raise Conflict(f"schedule {schedule_id} is {row.status}: it has no assignments")
    return row


router = APIRouter(tags=["scheduler"])


@router.post(
    PREFIX,
    status_code=202,
    operation_id="scheduler_create_schedule",
    summary="Schedule the released orders (or inline what-if orders) on the plant: queued for a worker",
    response_model=ScheduleAccepted,
    responses={202: {"headers": {"Location": {"description": "The schedule", "schema": {"type": "string"}}}}},
)
async def create_schedule(
    body: ScheduleCreate, request: Request, uow: UowDep, runtime: RuntimeDep, idem: IdempotencyDep
) -> Response:
    settings = _settings(runtime)
    errors: list[FieldError] = []
    if len(set(body.objective)) != len(body.objective):
        errors.append(
            FieldError(field="objective", message="an objective may appear only once", code="duplicate")
        )
    if body.time_limit_s > settings.scheduler_max_time_limit_s:
        errors.append(
            FieldError(
                field="time_limit_s", message=f"must be at most {settings.scheduler_max_time_limit_s:g} s"
            )
        )
    seen: set[str] = set()
    for i, o in enumerate(body.orders or []):
        if o.id in seen:
            errors.append(
                FieldError(field=f"orders[{i}].id", message=f"order {o.id!r} appears twice", code="duplicate")
            )
        seen.add(o.id)
    if errors:
        raise ValidationFailed(errors)
    as_of = body.as_of or today_utc()
    orders: list[dict[str, Any]]
    material: dict[str, Any] | None
    if body.orders is not None:
        orders = [
            {
                "id": o.id,
                "sku": o.sku,
                "quantity": str(o.quantity),
                "release_date": o.release_date.isoformat(),
                "due_date": o.due_date.isoformat(),
                "priority": o.priority,
                "material_available_at": o.material_available_at.isoformat()
                if o.material_available_at
                else None,
            }
            for o in body.orders
        ]
        material = None
    else:
        try:
            orders = await fetch_released_orders(settings)
            async with runtime.sessionmaker() as session:
                boms = await replica_records(
                    session, "bom", sorted({o["sku"] for o in orders if o.get("components") is None})
                )
            material = await fetch_material(settings, orders, boms)
        except SourceUnavailable as exc:
            raise ServiceUnavailable(str(exc), headers={"Retry-After": "5"}) from exc
    async with uow:

        async def work() -> ScheduleAccepted:
            row = await submit_schedule(
                uow,
                settings,
                orders,
                objectives=list(body.objective),
                time_limit_s=body.time_limit_s,
                horizon_days=body.horizon_days,
                as_of=as_of,
                frozen_until=body.frozen_until,
                inline=body.orders is not None,
                client=request.headers.get(CLIENT_HEADER),
                material=material,
            )
            return ScheduleAccepted(id=row.id, status=row.status, version=row.version)

        return await idem.execute(
            uow, work, status_code=202, headers=lambda r: {"Location": schedule_url(r.id)}
        )


@router.get(PREFIX, operation_id="scheduler_list_schedules", summary="Schedule versions, newest first")
async def list_schedules(
    session: SessionDep,
    page: PageDep,
    status: Annotated[
        Literal["queued", "running", "succeeded", "failed", "cancelled"] | None, Query()
    ] = None,
) -> ScheduleList:
    query = select(ScheduleRow)
    if status is not None:
        query = query.where(col(ScheduleRow.status) == status)
    after = page.after()
    if after:
        try:
            query = query.where(col(ScheduleRow.version) < int(after[0]))
        except (TypeError, ValueError) as exc:
            raise ValidationFailed.one("query.page_token", "not a page token of this list") from exc
    rows = list(
        (
            await session.execute(query.order_by(col(ScheduleRow.version).desc()).limit(page.page_size + 1))
        ).scalars()
    )
    more = len(rows) > page.page_size
    rows = rows[: page.page_size]
    return ScheduleList(
        items=[to_public(r) for r in rows],
        next_page_token=encode_token([rows[-1].version]) if more and rows else None,
    )


@router.get(PREFIX + "/{schedule_id}", operation_id="scheduler_get_schedule", summary="A schedule version")
async def get_schedule(schedule_id: str, session: SessionDep) -> SchedulePublic:
    return to_public(await _get(session, schedule_id))


@router.get(
    PREFIX + "/{schedule_id}/assignments",
    operation_id="scheduler_list_schedule_assignments",
    summary="The operations of a schedule with their machine and timestamps, by start",
)
async def list_schedule_assignments(
    schedule_id: str,
    session: SessionDep,
    page: PageDep,
    machine: Annotated[str | None, Query()] = None,
) -> ScheduleAssignmentList:
    await _finished(session, schedule_id)
    rows = [a for a in await assignments_of(session, schedule_id) if machine is None or a.machine == machine]
    after = page.after()
    start = int(after[0]) if after and str(after[0]).isdigit() else 0
    chunk = rows[start : start + page.page_size]
    more = start + page.page_size < len(rows)
    return ScheduleAssignmentList(
        items=[_assignment(a) for a in chunk],
        next_page_token=encode_token([str(start + page.page_size)]) if more else None,
    )


@router.get(
    PREFIX + "/{schedule_id}/diff/{other_id}",
    operation_id="scheduler_diff_schedules",
    summary="What moved from one schedule version to another",
)
async def diff_schedules(schedule_id: str, other_id: str, session: SessionDep) -> ScheduleDiff:
    await _finished(session, schedule_id)
    await _finished(session, other_id)
    base = {(a.job, a.operation): a for a in await assignments_of(session, schedule_id)}
    other = {(a.job, a.operation): a for a in await assignments_of(session, other_id)}
    moved: list[MovedOperation] = []
    unchanged = 0
    for key, a in base.items():
        b = other.get(key)
        if b is None:
            continue
        if (a.machine, a.start, a.end) == (b.machine, b.start, b.end):
            unchanged += 1
            continue
        moved.append(
            MovedOperation(
                order=a.job,
                operation=a.operation,
                before=Placement(machine=a.machine, start=a.start, end=a.end),
                after=Placement(machine=b.machine, start=b.start, end=b.end),
                start_shift_minutes=round((b.start - a.start).total_seconds() / 60),
                machine_changed=a.machine != b.machine,
            )
        )
    moved.sort(key=lambda m: (m.after.start, m.order, m.operation))
    return ScheduleDiff(
        base=schedule_id,
        other=other_id,
        moved=moved,
        added=[_assignment(b) for k, b in other.items() if k not in base],
        removed=[_assignment(a) for k, a in base.items() if k not in other],
        unchanged=unchanged,
    )


async def _gantt(
    session: Any, schedule_id: str
) -> tuple[str, list[GanttBar], list[DueMark], datetime | None]:
    row = await _finished(session, schedule_id)
    items = await assignments_of(session, schedule_id)
    snap = await snapshot_of(session, schedule_id) or {}
    late = set((row.tardiness or {}).get("orders", {}))
    bars = [
        GanttBar(
            a.machine, a.job, a.operation, a.start, a.end, "frozen" if a.frozen else "run", a.job in late
        )
        for a in items
    ]
    lanes = {a.machine for a in items}
    hi = max((a.end for a in items), default=None)
    for d in snap.get("downtimes", []):
        if d["machine"] in lanes and hi is not None:
            start = datetime.fromisoformat(d["start"])
            end = datetime.fromisoformat(d["end"]) if d.get("end") else hi
            if end > start:
                bars.append(GanttBar(d["machine"], "downtime", "downtime", start, min(end, hi), "downtime"))
    marks = [
        DueMark(o["id"], datetime.fromisoformat(o["due_date"][:10] + "T00:00:00+00:00") + timedelta(days=1))
        for o in snap.get("orders", [])
        if o["id"] in {a.job for a in items}
    ]
    title = f"Schedule v{row.version} ({schedule_id[:8]})"
    return title, bars, marks, row.origin


@router.get(
    PREFIX + "/{schedule_id}/gantt.svg",
    operation_id="scheduler_get_schedule_gantt_svg",
    summary="The schedule as a Gantt chart (SVG)",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
async def get_schedule_gantt_svg(schedule_id: str, session: SessionDep) -> Response:
    title, bars, marks, _ = await _gantt(session, schedule_id)
    return Response(gantt_svg(bars, title=title, due_marks=marks), media_type="image/svg+xml")


@router.get(
    PREFIX + "/{schedule_id}/gantt.png",
    operation_id="scheduler_get_schedule_gantt_png",
    summary="The schedule as a Gantt chart (PNG)",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
async def get_schedule_gantt_png(schedule_id: str, session: SessionDep) -> Response:
    title, bars, marks, _ = await _gantt(session, schedule_id)
    try:
        png = svg_to_png(gantt_svg(bars, title=title, due_marks=marks))
    except PngRendererMissing as exc:
        raise ServiceUnavailable(str(exc)) from exc
    return Response(png, media_type="image/png")


@router.get(
    PREFIX + "/{schedule_id}/gantt.json",
    operation_id="scheduler_get_schedule_gantt_json",
    summary="The schedule's Gantt data for front ends (lanes, bars, due marks)",
)
async def get_schedule_gantt_json(schedule_id: str, session: SessionDep) -> dict[str, Any]:
    _, bars, marks, _ = await _gantt(session, schedule_id)
    chart = gantt_json(bars, due_marks=marks)
    row = await _get(session, schedule_id)
    shown = {j["id"] for j in chart["jobs"]}
    chart["material"] = [
        MaterialPublic.model_validate(m).model_dump(mode="json", exclude={"components"})
        for m in row.material or ()
        if m["order"] in shown or m["shortage"]
    ]
    return chart


# -- setup matrices -------------------------------------------------------------------------------

SETUP_PREFIX = "/v1/scheduler/setup-matrices"


def _matrix_response(row: SetupMatrixRow, status_code: int = 200) -> JSONResponse:
    body = SetupMatrixPublic(
        work_center=row.work_center,
        entries=[SetupEntry(**e) for e in row.entries],
        version=row.version,
        updated_at=row.updated_at,
    )
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status_code, headers={"ETag": f'"{row.version}"'}
    )


@router.put(
    SETUP_PREFIX + "/{work_center}",
    operation_id="scheduler_put_setup_matrix",
    summary="Create or replace the family changeover matrix of a work center (minutes)",
    response_model=SetupMatrixPublic,
)
async def put_setup_matrix(
    work_center: str,
    body: SetupMatrixIn,
    uow: UowDep,
    if_match: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    seen: set[tuple[str, str]] = set()
    errors = []
    for i, e in enumerate(body.entries):
        if (e.from_family, e.to_family) in seen:
            errors.append(
                FieldError(field=f"entries[{i}]", message="this pair appears twice", code="duplicate")
            )
        seen.add((e.from_family, e.to_family))
    if errors:
        raise ValidationFailed(errors)
    async with uow:
        row = (
            await uow.session.execute(
                select(SetupMatrixRow).where(col(SetupMatrixRow.work_center) == work_center).with_for_update()
            )
        ).scalar_one_or_none()
        if if_match is not None and if_match.strip() != "*":
            current = f'"{row.version}"' if row else None
            if current != if_match.strip():
                raise PreconditionFailed(f"setup matrix of {work_center} is at version {current or 'none'}")
        entries = [e.model_dump() for e in body.entries]
        created = row is None
        if row is None:
            row = SetupMatrixRow(work_center=work_center, entries=entries, version=1)
        else:
            row.entries, row.version, row.updated_at = entries, row.version + 1, utcnow()
        uow.session.add(row)
        await uow.commit()
    return _matrix_response(row, 201 if created else 200)


@router.get(
    SETUP_PREFIX + "/{work_center}",
    operation_id="scheduler_get_setup_matrix",
    summary="The family changeover matrix of a work center",
    response_model=SetupMatrixPublic,
)
async def get_setup_matrix(work_center: str, session: SessionDep) -> JSONResponse:
    row = await session.get(SetupMatrixRow, work_center)
    if row is None:
        raise NotFound(f"no setup matrix for work center {work_center!r}")
    return _matrix_response(row)


# -- dispatch list -------------------------------------------------------------------------------


@router.get(
    "/v1/scheduler/work-centers/{code}/dispatch-list",
    operation_id="scheduler_get_dispatch_list",
    summary="The operations to run next on a work center's machines (latest schedule, not finished)",
)
async def get_dispatch_list(code: str, session: SessionDep) -> DispatchList:
    latest = await latest_succeeded(session)
    wc = (await replica_records(session, "work_center", [code])).get(code)
    machines = {m["code"] for m in (wc or {}).get("machines") or ()}
    if latest is None:
        if wc is None:
            raise NotFound(f"no work center {code!r}")
        return DispatchList(work_center=code, schedule=None, version=None, items=[])
    rows = [
        a for a in await assignments_of(session, latest.id) if a.machine in machines or a.work_center == code
    ]
    if wc is None and not rows:
        raise NotFound(f"no work center {code!r}")
    progress = {
        (p.order_id, p.operation): p.state
        for p in (
            await session.execute(
                select(OperationProgressRow).where(
                    col(OperationProgressRow.order_id).in_({a.job for a in rows})
                )
            )
        ).scalars()
    }
    snap = await snapshot_of(session, latest.id) or {}
    orders = {o["id"]: o for o in snap.get("orders", [])}
    items: list[DispatchItem] = []
    for a in rows:
        state = progress.get((a.job, a.operation), "not_started")
        if state == "finished":
            continue
        o = orders.get(a.job, {})
        items.append(
            DispatchItem(
                sequence=len(items) + 1,
                order=a.job,
                operation=a.operation,
                sku=o.get("sku"),
                quantity=Decimal(str(o["quantity"])) if "quantity" in o else None,
                machine=a.machine,
                planned_start=a.start,
                planned_end=a.end,
                setup_minutes=a.setup_minutes,
                duration_minutes=a.duration_minutes,
                state=state,
            )
        )
    return DispatchList(work_center=code, schedule=latest.id, version=latest.version, items=items)
