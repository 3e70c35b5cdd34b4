"""MRP runs: a job of the service process.

``POST /v1/mrp/runs`` records a ``queued`` run and starts a task; runs execute one at a time
(an ``asyncio.Lock``). A run: snapshot (one consistent read, see :mod:`services.mrp.snapshot`) →
compute in a worker thread (``asyncio.to_thread``, the event loop stays free) → persist the results
in one transaction (COPY) with the ``run.completed`` event. Any exception marks the run failed; a
process that starts marks the runs it finds ``queued`` or ``running`` as failed.

Net change: the last successful run's result is kept in memory (rebuilt from its stored results
when the process restarted). The changed skus are those recorded in ``mrp_changes`` between that
run's snapshot and this one's (sales orders, forecasts, orders, stock), the items, BOMs and
low-level codes the master-data replica changed since that run's replica seq, and the items whose
set of BOM components differs from the previous run's. Without a previous run, the run is
regenerative and says so in ``note``.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from services.mrp import events
from services.mrp.api.schemas import RunCreate
from services.mrp.db import repositories as repo
from services.mrp.domain.calendar import Calendar
from services.mrp.domain.model import ItemKind, RunParameters, Snapshot, from_micro
from services.mrp.domain.netting import net_change, run_mrp
from services.mrp.domain.result import (
    Action,
    ActionKind,
    ItemPlan,
    ItemRecord,
    MrpResult,
    Peg,
    PegKind,
    PlannedOrder,
)
from services.mrp.handlers.common import new_id
from services.mrp.snapshot import SnapshotInfo, build_snapshot
from shared.logging import get_logger
from shared.web.app import ServiceRuntime

log = get_logger(__name__)

MASTERDATA_KINDS = ("item", "bom", "low_level_code")


@dataclass(frozen=True)
class LastResult:
    run_id: str
    result: MrpResult
    change_seq: int
    replica_seq: int


def calendar_json(cal: Calendar) -> dict[str, Any]:
    return {"weekdays": list(cal.weekdays), "holidays": sorted(d.isoformat() for d in cal.holidays)}


def calendar_from_json(data: dict[str, Any] | None) -> Calendar | None:
    if not data:
        return None
    return Calendar(
        weekdays=tuple(bool(x) for x in data["weekdays"]),  # type: ignore[arg-type]
        holidays=frozenset(date.fromisoformat(d) for d in data.get("holidays") or ()),
    )


def peg_json(p: Peg) -> dict[str, Any]:
    return {
        "kind": p.kind.value,
        "reference": p.reference,
        "line": p.line,
        "parent_sku": p.parent_sku,
        "date": p.date.isoformat(),
        "quantity": str(p.quantity),
    }


def peg_of(data: dict[str, Any]) -> Peg:
    return Peg(
        kind=PegKind(data["kind"]),
        reference=data["reference"],
        line=data.get("line"),
        parent_sku=data.get("parent_sku"),
        date=date.fromisoformat(data["date"]),
        quantity=Decimal(str(data["quantity"])),
    )


def bom_children(snapshot: Snapshot) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for line in snapshot.bom:
        out.setdefault(line.parent, set()).add(line.component)
    return out


def compute(snapshot: Snapshot, previous: LastResult | None, changed: set[str]) -> tuple[MrpResult, int]:
    """The engine call (runs in a worker thread). Returns the result and the changed-sku count."""
    if previous is None:
        return run_mrp(snapshot), 0
    children = bom_children(snapshot)
    for sku, plan in previous.result.items.items():
        if set(plan.components) != children.get(sku, set()):
            changed.add(sku)
    return net_change(previous.result, snapshot, changed), len(changed)


class MrpRunner:
    def __init__(self, runtime: ServiceRuntime):
        self.runtime = runtime
        self.lock = asyncio.Lock()
        self.tasks: set[asyncio.Task[None]] = set()
        self.last: LastResult | None = None

    # -- submission ------------------------------------------------------------------------------
    async def create(self, body: RunCreate) -> dict[str, Any]:
        """Record a queued run (own transaction); the caller then calls :meth:`start`."""
        today = body.today or datetime.now(UTC).date()
        async with self.runtime.sessionmaker() as session, session.begin():
            row = await repo.insert_run(
                session,
                {
                    "id": new_id("run"),
                    "status": "queued",
                    "mode": body.mode,
                    "requested_mode": body.mode,
                    "today": today,
                    "horizon_days": body.horizon_days,
                    "release_window_days": body.release_window_days,
                },
            )
        return dict(row)

    def start(self, run_id: str) -> None:
        task = asyncio.create_task(self.execute(run_id), name=f"mrp-run-{run_id}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def wait_idle(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def _update(self, run_id: str, changes: dict[str, Any]) -> None:
        async with self.runtime.sessionmaker() as session, session.begin():
            await repo.update_run(session, run_id, changes)

    async def execute(self, run_id: str) -> None:
        try:
            async with self.lock:
                await self._execute(run_id)
        except asyncio.CancelledError:
            await asyncio.shield(
                self._update(
                    run_id,
                    {"status": "failed", "error": "cancelled: the service stopped", "finished_at": "now()"},
                )
            )
            raise
        except Exception as exc:
            log.exception("mrp run failed", run_id=run_id)
            try:
                await self._update(
                    run_id,
                    {
                        "status": "failed",
                        "error": f"{type(exc).__name__}: {exc}"[:2000],
                        "finished_at": "now()",
                    },
                )
            except Exception:
                log.exception("could not mark the run failed", run_id=run_id)

    # -- previous result -------------------------------------------------------------------------
    async def previous(self) -> LastResult | None:
        async with self.runtime.sessionmaker() as session:
            last = await repo.last_succeeded_run(session)
            if last is None:
                return None
            if self.last is not None and self.last.run_id == last["id"]:
                return self.last
            calendar = calendar_from_json(last["snapshot"].get("calendar"))
            if calendar is None:
                return None
            result = await self._rebuild(session, last, calendar)
        snap = last["snapshot"]
        self.last = LastResult(
            last["id"], result, int(snap.get("change_seq", 0)), int(snap.get("replica_seq", 0))
        )
        return self.last

    @staticmethod
    async def _rebuild(session: Any, run: Any, calendar: Calendar) -> MrpResult:
        run_id = run["id"]
        orders: dict[str, list[PlannedOrder]] = {}
        for r in await repo.planned_orders(session, run_id):
            orders.setdefault(r["sku"], []).append(
                PlannedOrder(
                    id=r["id"],
                    sku=r["sku"],
                    kind=ItemKind(r["kind"]),
                    quantity=Decimal(r["quantity"]),
                    release_date=r["release_date"],
                    due_date=r["due_date"],
                    pegging=tuple(peg_of(p) for p in r["pegging"]),
                )
            )
        acts: dict[str, list[Action]] = {}
        for a in await repo.actions(session, run_id):
            acts.setdefault(a["sku"], []).append(
                Action(
                    ActionKind(a["kind"]),
                    a["sku"],
                    a["order_id"],
                    Decimal(a["quantity"]),
                    a["date"],
                    a["new_date"],
                )
            )
        items = {}
        for rec in await repo.records(session, run_id):
            sku = rec["sku"]
            items[sku] = ItemPlan(
                record=ItemRecord(
                    sku=sku,
                    low_level_code=rec["low_level_code"],
                    starting_available=rec["starting_available"],
                    safety_stock=rec["safety_stock"],
                    raw_rows=tuple(tuple(row) for row in rec["rows"]),
                ),
                planned_orders=tuple(orders.get(sku, ())),
                actions=tuple(acts.get(sku, ())),
                components=tuple(rec["components"]),
            )
        ordered = dict(sorted(items.items()))
        return MrpResult(
            parameters=RunParameters(run["today"], run["horizon_days"], run["release_window_days"]),
            calendar=calendar,
            items=ordered,
            planned_orders=tuple(po for p in ordered.values() for po in p.planned_orders),
            actions=tuple(a for p in ordered.values() for a in p.actions),
            counts={},
        )

    # -- the run ---------------------------------------------------------------------------------
    async def _execute(self, run_id: str) -> None:
        started = time.perf_counter()
        sm = self.runtime.sessionmaker
        async with sm() as session, session.begin():
            run = await repo.run(session, run_id)
            assert run is not None
            await repo.update_run(
                session, run_id, {"status": "running", "started_at": "now()", "progress": 0.05}
            )
        parameters = RunParameters(run["today"], run["horizon_days"], run["release_window_days"])

        previous = await self.previous() if run["requested_mode"] == "net_change" else None
        note = None
        if run["requested_mode"] == "net_change" and previous is None:
            note = "no previous successful run: ran regenerative"
        async with sm() as session, session.begin():
            snapshot, info = await build_snapshot(session, parameters)
            changed: set[str] = set()
            if previous is not None:
                changed |= await repo.changed_skus(session, previous.change_seq, info.change_seq)
                changed |= await repo.replica_changed_keys(session, previous.replica_seq, MASTERDATA_KINDS)
        t_snapshot = time.perf_counter()
        await self._update(run_id, {"progress": 0.3})

        result, n_changed = await asyncio.to_thread(compute, snapshot, previous, changed)
        t_compute = time.perf_counter()
        await self._update(run_id, {"progress": 0.7})

        mode = "net_change" if previous is not None else "regenerative"
        counts = {**dict(result.counts), "items_planned": result.items_planned}
        if previous is not None:
            counts["changed_skus"] = n_changed
        snapshot_json = {**info.as_json(), "calendar": calendar_json(snapshot.calendar)}
        uow = self.runtime.uow()
        async with uow:
            await self._persist(uow.session, run_id, result)
            t_persist = time.perf_counter()
            timings = {
                "snapshot": round(t_snapshot - started, 4),
                "compute": round(t_compute - t_snapshot, 4),
                "persist": round(t_persist - t_compute, 4),
                "total": round(t_persist - started, 4),
            }
            await repo.update_run(
                uow.session,
                run_id,
                {
                    "status": "succeeded",
                    "mode": mode,
                    "progress": 1.0,
                    "counts": counts,
                    "timings": timings,
                    "snapshot": snapshot_json,
                    "note": note,
                    "previous_run": previous.run_id if previous else None,
                    "finished_at": "now()",
                },
            )
            uow.emit(events.run_completed(run_id, mode, "succeeded", counts))
            await uow.commit()
        self.last = LastResult(run_id, result, info.change_seq, info.replica_seq)
        log.info("mrp run succeeded", run_id=run_id, mode=mode, timings=timings, counts=counts)

    @staticmethod
    async def _persist(session: Any, run_id: str, result: MrpResult) -> None:
        await repo.copy_rows(
            session,
            "mrp_planned_orders",
            ("run_id", "id", "ord", "sku", "kind", "quantity", "release_date", "due_date", "pegging"),
            [
                (
                    run_id,
                    po.id,
                    i,
                    po.sku,
                    po.kind.value,
                    po.quantity,
                    po.release_date,
                    po.due_date,
                    json.dumps([peg_json(p) for p in po.pegging]),
                )
                for i, po in enumerate(result.planned_orders)
            ],
        )
        await repo.copy_rows(
            session,
            "mrp_records",
            ("run_id", "sku", "low_level_code", "starting_available", "safety_stock", "components", "rows"),
            [
                (
                    run_id,
                    sku,
                    plan.record.low_level_code,
                    plan.record.starting_available,
                    plan.record.safety_stock,
                    json.dumps(list(plan.components)),
                    json.dumps([list(r) for r in plan.record.raw_rows]),
                )
                for sku, plan in result.items.items()
            ],
        )
        await repo.copy_rows(
            session,
            "mrp_actions",
            ("run_id", "ord", "kind", "sku", "order_id", "quantity", "date", "new_date"),
            [
                (run_id, i, a.kind.value, a.sku, a.order_id, a.quantity, a.date, a.new_date)
                for i, a in enumerate(result.actions)
            ],
        )


def micro(value: int) -> Decimal:
    return from_micro(value)


__all__ = ["LastResult", "MrpRunner", "SnapshotInfo", "micro"]
