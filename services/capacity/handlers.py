"""Use cases of the capacity service: accept an analysis, run it, apply a proposal, rough-cut.

An analysis is a job: ``create_analysis`` stores it ``queued`` (with its inline orders) and the
:class:`AnalysisRunner` of the process runs it in a background task: claim (``running``, fenced by
its attempt), snapshot (replicas of master data and of mrp's order book, or a run's planned
orders from mrp), domain work in a thread, results bulk-copied and
the ``analysis.completed`` event written in one transaction. A what-if (a proposal applied) is a new
analysis that recomputes from its root's stored snapshot with the chain of edits on top, so the
parent stays as it was. Analyses left ``queued`` or with a stale heartbeat (their process died)
are picked up by the runner's recovery loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter, ValidationError

from services.capacity import analysis as an
from services.capacity import events
from services.capacity import orders as order_replica
from services.capacity.api.schemas import (
    AnalysisCreate,
    FirmOutcome,
    FirmRequest,
    FirmResult,
    InlineOrder,
    RoughCutCreate,
)
from services.capacity.db import repositories as repo
from services.capacity.db.tables import AnalysisRow, AnalysisStatus
from services.capacity.domain.calendar import CalendarSpec, build_work_center_calendars
from services.capacity.domain.load import bucket_grid, compute_load, utilisation_of
from services.capacity.domain.rough_cut import ResourceStep, average_bill, bill_of_resources, rough_cut_load
from services.capacity.settings import CapacitySettings
from services.capacity.snapshot import SourceUnavailable, fetch_run_orders, read_items_by, read_master_data
from shared.db.uow import UnitOfWork
from shared.logging import get_logger
from shared.web.app import ServiceRuntime
from shared.web.problems import Conflict, FieldError, NotFound, ValidationFailed

log = get_logger(__name__)

ORDER_BOOK = "firm+released"
_INLINE = TypeAdapter(list[InlineOrder])


def new_id() -> str:
    return f"ca_{uuid.uuid4().hex[:20]}"


# -- validation --------------------------------------------------------------------------------------


def _loc(loc: tuple[Any, ...]) -> str:
    out = "source.orders"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _check_horizon(first: date, last: date, settings: CapacitySettings, errors: list[FieldError]) -> None:
    if last < first:
        errors.append(FieldError(field="to", message="must be on or after 'from'", code="before_from"))
    elif (last - first).days + 1 > settings.capacity_max_horizon_days:
        errors.append(
            FieldError(
                field="to",
                message=f"the horizon may span at most {settings.capacity_max_horizon_days} days",
                code="horizon_too_long",
            )
        )


def check_analysis(body: AnalysisCreate, settings: CapacitySettings) -> list[dict[str, Any]] | None:
    """422 naming every bad field; the inline orders as JSON-ready dicts (None for mrp sources)."""
    errors: list[FieldError] = []
    _check_horizon(body.from_, body.to, settings, errors)
    source = body.source
    inline: list[dict[str, Any]] | None = None
    if (source.mrp_run is None) == (source.orders is None):
        errors.append(
            FieldError(
                field="source",
                message="give exactly one of 'mrp_run' or 'orders'",
                code="one_source",
            )
        )
    elif isinstance(source.orders, str):
        if source.orders != ORDER_BOOK:
            errors.append(
                FieldError(
                    field="source.orders",
                    message=f"either '{ORDER_BOOK}' or a list of orders",
                    code="unknown_order_source",
                )
            )
    elif isinstance(source.orders, list):
        if not source.orders:
            errors.append(FieldError(field="source.orders", message="at least one order", code="too_short"))
        try:
            orders = _INLINE.validate_python(source.orders)
        except ValidationError as exc:
            errors += [
                FieldError(field=_loc(e["loc"]), message=e["msg"], code=e["type"]) for e in exc.errors()
            ]
        else:
            seen: dict[str, int] = {}
            for i, o in enumerate(orders):
                if o.id in seen:
                    errors.append(
                        FieldError(
                            field=f"source.orders[{i}].id",
                            message=f"order id {o.id!r} already given at source.orders[{seen[o.id]}]",
                            code="duplicate",
                        )
                    )
                seen.setdefault(o.id, i)
                if o.due_date < o.release_date:
                    errors.append(
                        FieldError(
                            field=f"source.orders[{i}].due_date",
                            message="must be on or after release_date",
                            code="before_release",
                        )
                    )
            inline = [
                {
                    "id": o.id,
                    "sku": o.sku,
                    "quantity": o.quantity,
                    "release_date": o.release_date.isoformat(),
                    "due_date": o.due_date.isoformat(),
                    "status": o.status,
                }
                for o in orders
            ]
    if errors:
        raise ValidationFailed(errors)
    return inline


# -- accepting -----------------------------------------------------------------------------------------


async def create_analysis(
    uow: UnitOfWork, body: AnalysisCreate, inline: list[dict[str, Any]] | None, client: str | None
) -> AnalysisRow:
    analysis_id = new_id()
    if body.source.mrp_run is not None:
        source: dict[str, Any] = {"mrp_run": body.source.mrp_run}
    elif inline is None:
        source = {"orders": ORDER_BOOK}
    else:
        source = {"orders": "inline", "count": len(inline)}
    row = AnalysisRow(
        id=analysis_id,
        status=AnalysisStatus.QUEUED,
        source=source,
        direction=body.direction,
        bucket=body.bucket,
        from_date=body.from_,
        to_date=body.to,
        overtime_factor=body.overtime_factor,
        inputs_id=analysis_id,
        client=client,
    )
    await repo.add_analysis(uow.session, row, {"orders": inline} if inline is not None else None)
    return row


async def apply_proposal(
    uow: UnitOfWork, analysis_id: str, proposal_id: int, client: str | None
) -> AnalysisRow:
    """A new what-if analysis: the parent's inputs and edits, plus this proposal's edits."""
    parent = await repo.get_analysis(uow.session, analysis_id)
    if parent is None:
        raise NotFound(f"no analysis {analysis_id!r}")
    if parent.status != AnalysisStatus.SUCCEEDED:
        raise Conflict(f"analysis {analysis_id} is {parent.status}: only a succeeded analysis has proposals")
    proposal = await repo.get_proposal(uow.session, analysis_id, proposal_id)
    if proposal is None:
        raise NotFound(f"analysis {analysis_id} has no proposal {proposal_id}")
    child_id = new_id()
    row = AnalysisRow(
        id=child_id,
        status=AnalysisStatus.QUEUED,
        source={**parent.source, "what_if_of": parent.id},
        direction=parent.direction,
        bucket=parent.bucket,
        from_date=parent.from_date,
        to_date=parent.to_date,
        overtime_factor=parent.overtime_factor,
        parent_id=parent.id,
        inputs_id=parent.inputs_id,
        applied=[
            *parent.applied,
            {"analysis": parent.id, "proposal": proposal.id, "kind": proposal.kind, "edits": proposal.edits},
        ],
        client=client,
    )
    await repo.add_analysis(uow.session, row, None)
    return row


# -- firming ------------------------------------------------------------------------------------------

FIRM_CONCURRENCY = 8


async def _firm_one(
    client: httpx.AsyncClient, semaphore: asyncio.Semaphore, run_id: str, po_id: str
) -> FirmOutcome:
    path = f"/v1/mrp/runs/{quote(run_id, safe='')}/planned-orders/{quote(po_id, safe='')}/firm"
    async with semaphore:
        try:
            response = await client.post(path)
        except httpx.HTTPError as exc:
            return FirmOutcome(
                planned_order=po_id, outcome="failed", detail=f"mrp did not answer: {type(exc).__name__}"
            )
    body: dict[str, Any] = {}
    with contextlib.suppress(ValueError):
        parsed = response.json()
        body = parsed if isinstance(parsed, dict) else {}
    if response.status_code == 201:
        return FirmOutcome(planned_order=po_id, outcome="firmed", order=body.get("id"), status_code=201)
    if response.status_code == 409 and body.get("existing_id"):
        return FirmOutcome(
            planned_order=po_id,
            outcome="already_firmed",
            order=str(body["existing_id"]),
            status_code=409,
            detail=body.get("detail"),
        )
    return FirmOutcome(
        planned_order=po_id,
        outcome="failed",
        status_code=response.status_code,
        detail=str(body.get("detail") or response.text[:200]),
    )


async def firm_orders(
    uow: UnitOfWork,
    settings: CapacitySettings,
    analysis_id: str,
    body: FirmRequest,
    correlation_id: str | None,
) -> FirmResult:
    """Firm the planned orders an analysis of an mrp run loaded (or the listed ones) in mrp's
    order book, through mrp's API, one call per order; refused while the analysis has overloads
    unless forced. Each order's outcome is reported: firmed, already firmed (409) or failed."""
    row = await repo.get_analysis(uow.session, analysis_id)
    if row is None:
        raise NotFound(f"no analysis {analysis_id!r}")
    if row.status != AnalysisStatus.SUCCEEDED:
        raise Conflict(
            f"analysis {analysis_id} is {row.status}: only a succeeded analysis can be firmed",
            analysis_status=row.status,
        )
    run_id = row.source.get("mrp_run")
    if not run_id:
        raise Conflict(
            f"analysis {analysis_id} is not of an mrp run: only a run's planned orders can be firmed",
            source=row.source,
        )
    overloads = int(row.counts.get("overloads") or 0)
    if overloads and not body.force:
        raise Conflict(
            f"analysis {analysis_id} still has {overloads} overloaded bucket(s): balance it first "
            "(apply proposals) or firm with force: true",
            overloads=overloads,
        )
    inputs = await repo.get_inputs(uow.session, row.inputs_id)
    analysed = [str(o["id"]) for o in (inputs.snapshot.get("orders") or [])] if inputs else []
    if body.orders is None:
        wanted = analysed
    else:
        known = set(analysed)
        errors: list[FieldError] = []
        seen: dict[str, int] = {}
        for i, po_id in enumerate(body.orders):
            if po_id in seen:
                errors.append(
                    FieldError(
                        field=f"orders[{i}]",
                        message=f"already given at orders[{seen[po_id]}]",
                        code="duplicate",
                    )
                )
            elif po_id not in known:
                errors.append(
                    FieldError(
                        field=f"orders[{i}]",
                        message=f"analysis {analysis_id} did not load planned order {po_id!r}",
                        code="not_analysed",
                    )
                )
            seen.setdefault(po_id, i)
        if errors:
            raise ValidationFailed(errors)
        wanted = list(body.orders)
    headers = {"X-Correlation-ID": correlation_id} if correlation_id else None
    semaphore = asyncio.Semaphore(FIRM_CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=settings.service_url("mrp"), timeout=settings.capacity_mrp_timeout_s, headers=headers
    ) as client:
        outcomes = await asyncio.gather(*(_firm_one(client, semaphore, str(run_id), p) for p in wanted))
    log.info(
        "analysis firmed",
        analysis=analysis_id,
        run=run_id,
        **{k: sum(1 for o in outcomes if o.outcome == k) for k in ("firmed", "already_firmed", "failed")},
    )
    return FirmResult(
        analysis=analysis_id,
        mrp_run=str(run_id),
        overloads=overloads,
        forced=bool(body.force and overloads),
        firmed=sum(1 for o in outcomes if o.outcome == "firmed"),
        already_firmed=sum(1 for o in outcomes if o.outcome == "already_firmed"),
        failed=sum(1 for o in outcomes if o.outcome == "failed"),
        orders=list(outcomes),
    )


# -- running -------------------------------------------------------------------------------------------


class TakenOver(Exception):
    """This runner's attempt was superseded (its heartbeat went stale and another took over)."""


class AnalysisRunner:
    """Runs analyses of this process in background tasks, a few at a time."""

    def __init__(self, settings: CapacitySettings) -> None:
        self.settings = settings
        self._semaphore = asyncio.Semaphore(settings.capacity_max_concurrent_analyses)
        self._tasks: set[asyncio.Task[None]] = set()
        self.runtime: ServiceRuntime | None = None

    def submit(self, analysis_id: str) -> None:
        task = asyncio.create_task(self._guarded(analysis_id), name=f"analysis-{analysis_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, analysis_id: str) -> None:
        assert self.runtime is not None
        async with self._semaphore:
            try:
                await run_analysis(self.runtime, self.settings, analysis_id)
            except Exception:  # logged; the analysis is marked failed by run_analysis when it can be
                log.exception("analysis runner crashed", analysis=analysis_id)

    async def recover(self, runtime: ServiceRuntime) -> None:
        """Worker: take over analyses left queued or stale (their process died), periodically."""
        self.runtime = runtime
        while True:
            try:
                async with runtime.uow() as uow:
                    await repo.requeue_stale(uow.session, self.settings.capacity_stale_after_s)
                    ids = await repo.queued_ids(uow.session)
                    await uow.commit()
                running = {t.get_name() for t in self._tasks}
                for analysis_id in ids:
                    if f"analysis-{analysis_id}" not in running:
                        self.submit(analysis_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("analysis recovery failed; retrying", error=str(exc))
            await asyncio.sleep(self.settings.capacity_recovery_interval_s)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _progress(runtime: ServiceRuntime, analysis_id: str, attempt: int, value: float) -> None:
    async with runtime.uow() as uow:
        alive = await repo.progress(uow.session, analysis_id, attempt, value)
        await uow.commit()
    if not alive:
        raise TakenOver(f"analysis {analysis_id} attempt {attempt} was taken over")


async def _snapshot(
    runtime: ServiceRuntime, settings: CapacitySettings, row: AnalysisRow
) -> tuple[dict[str, Any], int]:
    """The analysis's inputs: stored ones (what-if, retry) or freshly read; buy orders skipped."""
    async with runtime.sessionmaker() as session:
        stored = await repo.get_inputs(session, row.inputs_id)
    if stored is not None and "routings" in stored.snapshot:
        return stored.snapshot, int(stored.snapshot.get("buy_orders_skipped", 0))
    if row.inputs_id != row.id:
        raise RuntimeError(f"the inputs of analysis {row.inputs_id} are missing")
    skipped = 0
    replica: dict[str, Any] | None = None
    if stored is not None and stored.snapshot.get("orders") is not None:
        orders = list(stored.snapshot["orders"])
    elif "mrp_run" in row.source:
        orders, skipped = await fetch_run_orders(
            str(row.source["mrp_run"]),
            mrp_url=settings.service_url("mrp"),
            timeout_s=settings.capacity_mrp_timeout_s,
            page_size=settings.capacity_mrp_page_size,
        )
    else:
        orders, skipped, replica = await order_replica.read_order_book(runtime.sessionmaker)
    snapshot = await read_master_data(runtime.sessionmaker, (o["sku"] for o in orders))
    snapshot["orders"] = orders
    snapshot["buy_orders_skipped"] = skipped
    if replica is not None:
        snapshot["order_replica"] = replica
    return snapshot, skipped


async def run_analysis(runtime: ServiceRuntime, settings: CapacitySettings, analysis_id: str) -> None:
    async with runtime.uow() as uow:
        attempt = await repo.claim(uow.session, analysis_id)
        await uow.commit()
    if attempt is None:
        return  # another runner has it, or it is done
    async with runtime.sessionmaker() as session:
        row = await repo.get_analysis(session, analysis_id)
    assert row is not None
    timings: dict[str, float] = {}
    started = time.perf_counter()
    try:
        clock = time.perf_counter()
        snapshot, skipped = await _snapshot(runtime, settings, row)
        if row.inputs_id == row.id:
            async with runtime.uow() as uow:
                await repo.save_inputs(uow.session, row.id, snapshot)
                if "order_replica" in snapshot:
                    await repo.annotate_source(
                        uow.session, row.id, {"order_replica": snapshot["order_replica"]}
                    )
                await uow.commit()
        timings["snapshot_s"] = time.perf_counter() - clock
        await _progress(runtime, analysis_id, attempt, 0.2)

        request = an.AnalysisRequest(
            direction=row.direction,
            bucket=row.bucket,
            from_date=row.from_date,
            to_date=row.to_date,
            overtime_factor=row.overtime_factor,
            timezone=settings.capacity_timezone,
            margin_days=settings.capacity_calendar_margin_days,
            max_proposals=settings.capacity_max_proposals_per_overload,
            applied=tuple(row.applied),
        )
        clock = time.perf_counter()
        prepared = await asyncio.to_thread(an.prepare, snapshot, request)
        timings["milestones_s"] = time.perf_counter() - clock
        await _progress(runtime, analysis_id, attempt, 0.5)

        clock = time.perf_counter()
        computed = await asyncio.to_thread(an.compute, prepared)
        timings["load_and_proposals_s"] = time.perf_counter() - clock
        await _progress(runtime, analysis_id, attempt, 0.7)

        clock = time.perf_counter()

        def rows() -> tuple[list[Any], list[Any], list[Any], list[Any]]:
            overloads, proposals = an.overload_and_proposal_rows(computed, analysis_id, request.max_proposals)
            return (
                an.operation_rows(prepared, computed, analysis_id),
                an.load_rows(computed.profile, analysis_id),
                overloads,
                proposals,
            )

        op_rows, load_rows, overload_rows, proposal_rows = await asyncio.to_thread(rows)
        counts = an.counts_of(prepared, computed, len(snapshot.get("orders") or []), len(proposal_rows))
        counts["buy_orders_skipped"] = skipped
        async with runtime.uow() as uow:
            session = uow.session
            await repo.clear_results(session, analysis_id)
            await repo.copy_rows(session, "analysis_operations", an.OPERATION_COLUMNS, op_rows)
            await repo.copy_rows(session, "analysis_load", an.LOAD_COLUMNS, load_rows)
            await repo.copy_rows(session, "analysis_overloads", an.OVERLOAD_COLUMNS, overload_rows)
            await repo.copy_rows(session, "analysis_proposals", an.PROPOSAL_COLUMNS, proposal_rows)
            timings["store_s"] = time.perf_counter() - clock
            timings["total_s"] = time.perf_counter() - started
            done = await repo.finish(
                session,
                analysis_id,
                attempt,
                status=AnalysisStatus.SUCCEEDED,
                counts=counts,
                timings={k: round(v, 4) for k, v in timings.items()},
                bottleneck=an.bottleneck_of(computed.profile),
                warnings=prepared.warnings,
            )
            if done is None:
                return  # taken over meanwhile: the other attempt writes the results
            uow.emit(events.analysis_completed(done))
            await uow.commit()
        log.info("analysis succeeded", analysis=analysis_id, **{k: round(v, 3) for k, v in timings.items()})
    except TakenOver:
        log.warning("analysis taken over by another runner", analysis=analysis_id, attempt=attempt)
    except Exception as exc:
        message = str(exc) if isinstance(exc, SourceUnavailable) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, SourceUnavailable):
            log.exception("analysis failed", analysis=analysis_id)
        async with runtime.uow() as uow:
            failed = await repo.finish(
                uow.session,
                analysis_id,
                attempt,
                status=AnalysisStatus.FAILED,
                error=message,
                timings={k: round(v, 4) for k, v in timings.items()},
            )
            if failed is not None:
                uow.emit(events.analysis_failed(failed))
            await uow.commit()


# -- rough-cut --------------------------------------------------------------------------------------


def check_rough_cut(body: RoughCutCreate, settings: CapacitySettings) -> None:
    errors: list[FieldError] = []
    _check_horizon(body.from_, body.to, settings, errors)
    for i, line in enumerate(body.plan):
        if (line.sku is None) == (line.family is None):
            errors.append(
                FieldError(
                    field=f"plan[{i}]", message="give exactly one of 'sku' or 'family'", code="one_key"
                )
            )
        if not body.from_ <= line.bucket_start <= body.to:
            errors.append(
                FieldError(
                    field=f"plan[{i}].bucket_start",
                    message=f"must be within the horizon {body.from_} .. {body.to}",
                    code="outside_horizon",
                )
            )
    if errors:
        raise ValidationFailed(errors)


def _lot(item: dict[str, Any] | None) -> float:
    sizing = (item or {}).get("lot_sizing") or {}
    for key in ("quantity", "min_qty"):
        value = sizing.get(key)
        if value is not None and float(value) > 0:
            return float(value)
    return 1.0


def compute_rough_cut(body: RoughCutCreate, data: dict[str, Any], timezone: str) -> dict[str, Any]:
    """Pure: bills of resources, capacity per bucket from the calendars, load, overloads."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(timezone)
    warnings: list[dict[str, Any]] = []
    wcs = data["work_centers"]
    specs = {code: CalendarSpec.from_body(body_, tz=tz) for code, body_ in data["calendars"].items()}
    usable = {code: wc for code, wc in wcs.items() if str(wc.get("calendar")) in specs}
    efficiency = {code: float(wc.get("efficiency") or 1) for code, wc in usable.items()}
    bills: dict[str, dict[str, float]] = {}
    for sku, routing in data["routings"].items():
        steps = [
            ResourceStep(
                str(op["work_center"]),
                float(op.get("setup_minutes") or 0),
                float(op.get("run_minutes_per_unit") or 0),
            )
            for op in routing.get("operations") or []
        ]
        missing = sorted({s.work_center for s in steps} - usable.keys())
        if missing:
            warnings.append(
                {
                    "code": "unknown_work_center",
                    "message": f"the routing of {sku} names work center(s) {', '.join(missing)} "
                    "without a calendar",
                    "sku": sku,
                }
            )
            continue
        bills[sku] = bill_of_resources(steps, _lot(data["items"].get(sku)), efficiency)
    line_bills: dict[str, dict[str, float]] = {}
    for line in body.plan:
        key = line.sku if line.sku is not None else f"family:{line.family}"
        if key in line_bills:
            continue
        if line.sku is not None:
            if line.sku not in bills:
                code = "unknown_sku" if line.sku not in data["items"] else "no_routing"
                warnings.append(
                    {"code": code, "message": f"sku {line.sku}: no routing to load", "sku": line.sku}
                )
                continue
            line_bills[key] = bills[line.sku]
        else:
            members = [
                bills[sku]
                for sku, item in sorted(data["items"].items())
                if item.get("family") == line.family and sku in bills
            ]
            if not members:
                warnings.append(
                    {"code": "empty_family", "message": f"family {line.family}: no item with a routing"}
                )
                continue
            line_bills[key] = average_bill(members)
    used = sorted({wc for bill in line_bills.values() for wc in bill})
    grid = bucket_grid(body.bucket, body.from_, body.to + timedelta(days=1), tz)
    calendars = build_work_center_calendars(
        (
            (
                code,
                str(usable[code]["calendar"]),
                [str(m["code"]) for m in usable[code].get("machines") or []],
            )
            for code in used
        ),
        specs,
        grid.first_date,
        grid.end_date,
    )
    capacity = compute_load(calendars, [], grid).capacity
    lines = [
        (line_bills[key], grid.index_of(line.bucket_start), line.qty)
        for line in body.plan
        if (key := line.sku if line.sku is not None else f"family:{line.family}") in line_bills
    ]
    load = rough_cut_load(lines, used, len(grid))
    items = []
    for w, code in enumerate(used):
        for b in range(len(grid)):
            lm, cm = float(load[w, b]), float(capacity[w, b])
            util = utilisation_of(lm, cm)
            items.append(
                {
                    "work_center": code,
                    "bucket_start": grid.dates[b],
                    "load_minutes": lm,
                    "capacity_minutes": cm,
                    "utilisation": None if util == float("inf") else util,
                    "overloaded": lm > cm + 1e-9,
                }
            )
    totals = [(code, float(load[w].sum()), float(capacity[w].sum())) for w, code in enumerate(used)]
    neck = None
    loaded = [t for t in totals if t[1] > 1e-9]
    if loaded:
        code, lm, cm = max(loaded, key=lambda t: utilisation_of(t[1], t[2]))
        util = utilisation_of(lm, cm)
        neck = {
            "work_center": code,
            "load_minutes": lm,
            "capacity_minutes": cm,
            "utilisation": None if util == float("inf") else util,
        }
    return {
        "bucket": body.bucket,
        "from_": body.from_,
        "to": body.to,
        "items": items,
        "overloads": [i for i in items if i["overloaded"]],
        "bottleneck": neck,
        "bill_of_resources": line_bills,
        "warnings": warnings,
    }


async def rough_cut(
    runtime: ServiceRuntime, settings: CapacitySettings, body: RoughCutCreate
) -> dict[str, Any]:
    check_rough_cut(body, settings)
    data = await read_items_by(
        runtime.sessionmaker,
        skus={line.sku for line in body.plan if line.sku is not None},
        families={line.family for line in body.plan if line.family is not None},
    )
    return await asyncio.to_thread(compute_rough_cut, body, data, settings.capacity_timezone)
