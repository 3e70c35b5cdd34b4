"""One capacity analysis, computed from a snapshot (see :mod:`services.capacity.snapshot`).

Pure and synchronous (run in a thread): snapshot → calendars and milestones (both directions, for
the slack) → load per bucket in the requested direction (what-if edits applied) → overloads,
bottleneck and proposals → rows ready for bulk insertion.

Rules written down here (the handbook leaves them open):

- The horizon ``from``..``to`` is inclusive; the grid covers whole buckets (a week grid asked from
  a Wednesday starts on that week's Monday). Calendars are built from ``margin`` days before the
  grid to ``margin`` days after; an order whose milestones do not fit in them is left out with the
  warning ``outside_calendar_horizon``.
- An order is left out, with a warning naming it, when its sku is unknown to master data
  (``unknown_sku``), has no routing (``no_routing``), or its routing names a work center that is not
  in master data or whose calendar is not (``unknown_work_center`` / ``unknown_calendar``).
  Alternates naming an unknown work center are ignored. Warnings never fail an analysis.
- Subcontracting: an operation of an order whose sku some supplier supplies may be subcontracted,
  at the ``price`` of the preferred supplier item for that sku (lowest ``priority``, then lowest
  price, then supplier code) per unit. The supplier item is the price of having the sku made
  outside, so the cost is the whole unit price even when one operation is the bottleneck.
- Proposals: the best ``max_proposals`` of each overloaded bucket are kept, ranked 1, 2, ...
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from services.capacity.domain.calendar import (
    CalendarSpec,
    HorizonExceeded,
    build_work_center_calendars,
    from_minutes,
)
from services.capacity.domain.load import (
    BucketGrid,
    CapacityEdit,
    LoadProfile,
    OperationEdit,
    bucket_grid,
    compute_load,
)
from services.capacity.domain.milestones import Direction, OrderPlan, plan_order
from services.capacity.domain.model import (
    Alternate,
    ManufacturingOrder,
    RoutingOperation,
    Subcontract,
    WorkCenter,
)
from services.capacity.domain.proposals import OverloadProposals, Proposal, propose

Snapshot = dict[str, Any]


@dataclass(frozen=True)
class AnalysisRequest:
    direction: str
    bucket: str
    from_date: date
    to_date: date
    overtime_factor: float = 1.5
    timezone: str = "UTC"
    margin_days: int = 120
    max_proposals: int = 20
    #: What-if: edit sets (``edits_to_json`` form) applied in order on top of the computed load.
    applied: tuple[dict[str, Any], ...] = ()


@dataclass
class Prepared:
    """Step 1: calendars, work centers and every order's milestones."""

    request: AnalysisRequest
    grid: BucketGrid
    centers: dict[str, WorkCenter]
    plans: list[tuple[dict[str, Any], OrderPlan]]
    warnings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Computed:
    """Steps 2 and 3: the load (edits applied) and the proposals on it."""

    profile: LoadProfile
    overloads: list[OverloadProposals]
    changes: dict[int, dict[str, Any]]


def _warning(code: str, message: str, **about: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **about}


def _f(value: Any, default: float = 0.0) -> float:
    return default if value is None else float(value)


def _subcontracts(snapshot: Snapshot) -> dict[str, Subcontract]:
    best: dict[str, tuple[tuple[int, float, str], Subcontract]] = {}
    for offer in snapshot.get("subcontract_offers") or []:
        key = (int(offer["priority"]), float(offer["price"]), str(offer["supplier"]))
        sku = str(offer["sku"])
        if sku not in best or key < best[sku][0]:
            best[sku] = (key, Subcontract(str(offer["supplier"]), float(offer["price"])))
    return {sku: sub for sku, (_, sub) in best.items()}


def _operations(
    routing: Mapping[str, Any], centers: Mapping[str, WorkCenter], subcontract: Subcontract | None
) -> tuple[RoutingOperation, ...]:
    return tuple(
        RoutingOperation(
            seq=int(op["seq"]),
            work_center=str(op["work_center"]),
            setup_minutes=_f(op.get("setup_minutes")),
            run_minutes_per_unit=_f(op.get("run_minutes_per_unit")),
            alternates=tuple(
                Alternate(str(a["work_center"]), _f(a.get("run_minutes_per_unit")))
                for a in op.get("alternates") or []
                if str(a["work_center"]) in centers
            ),
            subcontract=subcontract,
        )
        for op in sorted(routing["operations"], key=lambda o: int(o["seq"]))
    )


def prepare(snapshot: Snapshot, request: AnalysisRequest) -> Prepared:
    tz = ZoneInfo(request.timezone)
    grid = bucket_grid(request.bucket, request.from_date, request.to_date + timedelta(days=1), tz)
    warnings: list[dict[str, Any]] = []
    specs: dict[str, CalendarSpec] = {}
    for code, body in sorted((snapshot.get("calendars") or {}).items()):
        specs[code] = CalendarSpec.from_body(body, tz=tz)
    wc_records: dict[str, dict[str, Any]] = {}
    for code, wc in sorted((snapshot.get("work_centers") or {}).items()):
        if str(wc.get("calendar")) not in specs:
            warnings.append(
                _warning(
                    "unknown_calendar",
                    f"work center {code} names calendar {wc.get('calendar')!r}, unknown to master data",
                    work_center=code,
                )
            )
            continue
        if _f(wc.get("efficiency"), 1.0) <= 0:
            warnings.append(
                _warning("bad_efficiency", f"work center {code} has no positive efficiency", work_center=code)
            )
            continue
        wc_records[code] = wc
    cal_start = grid.first_date - timedelta(days=request.margin_days)
    cal_end = grid.end_date + timedelta(days=request.margin_days)
    calendars = build_work_center_calendars(
        (
            (code, str(wc["calendar"]), [str(m["code"]) for m in wc.get("machines") or []])
            for code, wc in wc_records.items()
        ),
        specs,
        cal_start,
        cal_end,
    )
    centers = {
        code: WorkCenter(code, calendars[code], _f(wc.get("efficiency"), 1.0), _f(wc.get("hourly_cost")))
        for code, wc in wc_records.items()
    }
    items = snapshot.get("items") or {}
    routings = snapshot.get("routings") or {}
    subcontracts = _subcontracts(snapshot)
    plans: list[tuple[dict[str, Any], OrderPlan]] = []
    routing_cache: dict[str, tuple[RoutingOperation, ...]] = {}
    for order in snapshot.get("orders") or []:
        oid, sku = order["id"], order["sku"]
        if sku not in items and sku not in routings:
            warnings.append(
                _warning(
                    "unknown_sku", f"order {oid}: sku {sku} is unknown to master data", order=oid, sku=sku
                )
            )
            continue
        routing = routings.get(sku)
        if not routing or not routing.get("operations"):
            warnings.append(
                _warning("no_routing", f"order {oid}: sku {sku} has no routing", order=oid, sku=sku)
            )
            continue
        missing = sorted({str(op["work_center"]) for op in routing["operations"]} - centers.keys())
        if missing:
            warnings.append(
                _warning(
                    "unknown_work_center",
                    f"order {oid}: the routing of {sku} names work center(s) {', '.join(missing)} "
                    "unknown to master data or without a calendar",
                    order=oid,
                    sku=sku,
                    work_centers=missing,
                )
            )
            continue
        operations = routing_cache.get(sku)
        if operations is None:
            operations = routing_cache[sku] = _operations(routing, centers, subcontracts.get(sku))
        mo = ManufacturingOrder(
            oid,
            float(order["quantity"]),
            date.fromisoformat(order["release_date"]),
            date.fromisoformat(order["due_date"]),
            operations,
        )
        try:
            plan = plan_order(mo, centers, (Direction.FORWARD, Direction.BACKWARD))
        except HorizonExceeded as exc:
            warnings.append(
                _warning(
                    "outside_calendar_horizon",
                    f"order {oid} does not fit in the calendars built for {cal_start} to {cal_end}: {exc}",
                    order=oid,
                    sku=sku,
                )
            )
            continue
        plans.append((order, plan))
    return Prepared(request, grid, centers, plans, warnings)


# -- what-if edits ---------------------------------------------------------------------------------


def edits_to_json(proposal: Proposal, profile: LoadProfile) -> dict[str, Any]:
    """A proposal's edits, naming operations by (order, seq) and buckets by their start date."""
    dates = profile.grid.dates
    return {
        "operations": [
            {
                "order": profile.operations[e.operation].order,
                "seq": profile.operations[e.operation].seq,
                "work_center": e.work_center,
                "pieces": [{"bucket_start": dates[b].isoformat(), "minutes": m} for b, m in e.pieces],
                "outside_minutes": e.outside,
            }
            for e in proposal.operation_edits
        ],
        "capacity": [
            {"work_center": c.work_center, "bucket_start": dates[c.bucket].isoformat(), "minutes": c.minutes}
            for c in proposal.capacity_edits
        ],
    }


def edits_from_json(
    edits: Mapping[str, Any], profile: LoadProfile
) -> tuple[list[OperationEdit], list[CapacityEdit]]:
    index = {(op.order, op.seq): i for i, op in enumerate(profile.operations)}
    grid = profile.grid
    ops = [
        OperationEdit(
            index[(str(e["order"]), int(e["seq"]))],
            e["work_center"],
            tuple(
                (grid.index_of(date.fromisoformat(p["bucket_start"])), float(p["minutes"]))
                for p in e["pieces"]
            ),
            float(e.get("outside_minutes") or 0.0),
        )
        for e in edits.get("operations") or []
    ]
    caps = [
        CapacityEdit(
            c["work_center"], grid.index_of(date.fromisoformat(c["bucket_start"])), float(c["minutes"])
        )
        for c in edits.get("capacity") or []
    ]
    return ops, caps


def compute(prepared: Prepared) -> Computed:
    request = prepared.request
    direction = Direction(request.direction)
    operations = [op for _, plan in prepared.plans for op in plan.planned_operations(direction)]
    calendars = {code: wc.calendar for code, wc in prepared.centers.items()}
    profile = compute_load(calendars, operations, prepared.grid)
    changes: dict[int, dict[str, Any]] = {}
    for applied in request.applied:
        op_edits, cap_edits = edits_from_json(applied["edits"], profile)
        profile = profile.edited(op_edits, cap_edits)
        for e, raw in zip(op_edits, applied["edits"].get("operations") or [], strict=True):
            op = profile.operations[e.operation]
            changes[e.operation] = {
                "kind": applied["kind"],
                "analysis": applied["analysis"],
                "proposal": applied["proposal"],
                "from_work_center": op.work_center,
                "to_work_center": e.work_center,
                "buckets": [p["bucket_start"] for p in raw["pieces"]],
            }
    overloads = propose(profile, prepared.centers, request.overtime_factor)
    return Computed(profile, overloads, changes)


# -- rows --------------------------------------------------------------------------------------------


def _finite(value: float) -> float | None:
    return None if math.isinf(value) or math.isnan(value) else value


@lru_cache(maxsize=65536)
def _at(minute: int, tz: ZoneInfo) -> datetime:
    return from_minutes(minute, tz)


def operation_rows(prepared: Prepared, computed: Computed, analysis_id: str) -> list[tuple[Any, ...]]:
    """Rows of ``analysis_operations`` (column order of :data:`OPERATION_COLUMNS`)."""
    tz = ZoneInfo(prepared.request.timezone)
    forward_dir = Direction(prepared.request.direction) is Direction.FORWARD
    rows: list[tuple[Any, ...]] = []
    position = 0
    profile = computed.profile
    for order, plan in prepared.plans:
        assert plan.forward is not None
        assert plan.backward is not None
        assert plan.operation_slack is not None
        assert plan.slack_minutes is not None
        for k, (f, b) in enumerate(zip(plan.forward, plan.backward, strict=True)):
            chosen = f if forward_dir else b
            change = computed.changes.get(position)
            work_center: str | None = chosen.work_center
            if change is not None:
                work_center = (
                    profile.work_centers[w] if (w := int(profile.operation_wc[position])) >= 0 else None
                )
            rows.append(
                (
                    analysis_id,
                    order["id"],
                    chosen.seq,
                    position,
                    order["sku"],
                    float(order["quantity"]),
                    work_center,
                    chosen.machine,
                    _at(chosen.start, tz),
                    _at(chosen.end, tz),
                    chosen.minutes,
                    chosen.working_minutes,
                    _at(f.start, tz),
                    _at(f.end, tz),
                    _at(b.start, tz),
                    _at(b.end, tz),
                    int(plan.operation_slack[k]),
                    int(plan.slack_minutes),
                    change,
                )
            )
            position += 1
    return rows


OPERATION_COLUMNS = (
    "analysis_id",
    "order_id",
    "seq",
    "position",
    "sku",
    "quantity",
    "work_center",
    "machine",
    "start",
    "end",
    "minutes",
    "working_minutes",
    "earliest_start",
    "earliest_end",
    "latest_start",
    "latest_end",
    "slack_minutes",
    "order_slack_minutes",
    "change",
)
LOAD_COLUMNS = ("analysis_id", "work_center", "bucket_start", "load_minutes", "capacity_minutes")
OVERLOAD_COLUMNS = (
    "analysis_id",
    "work_center",
    "bucket_start",
    "load_minutes",
    "capacity_minutes",
    "gap_minutes",
    "proposals",
)
PROPOSAL_COLUMNS = (
    "analysis_id",
    "id",
    "work_center",
    "bucket_start",
    "rank",
    "kind",
    "cost",
    "gap_minutes",
    "relieved_minutes",
    "closes_gap",
    "explanation",
    "order_id",
    "seq",
    "target_work_center",
    "target_bucket_start",
    "edits",
)


def load_rows(profile: LoadProfile, analysis_id: str) -> list[tuple[Any, ...]]:
    codes, dates = profile.work_centers, profile.grid.dates
    load = profile.load.tolist()
    capacity = profile.capacity.tolist()
    return [
        (analysis_id, code, dates[b], load[w][b], capacity[w][b])
        for w, code in enumerate(codes)
        for b in range(len(profile.grid))
    ]


def overload_and_proposal_rows(
    computed: Computed, analysis_id: str, max_proposals: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    overloads: list[tuple[Any, ...]] = []
    proposals: list[tuple[Any, ...]] = []
    for cell in computed.overloads:
        kept: Sequence[Proposal] = cell.proposals[:max_proposals]
        overloads.append(
            (
                analysis_id,
                cell.work_center,
                cell.bucket_start,
                cell.load_minutes,
                cell.capacity_minutes,
                cell.gap_minutes,
                len(kept),
            )
        )
        for rank, p in enumerate(kept, start=1):
            proposals.append(
                (
                    analysis_id,
                    len(proposals) + 1,
                    p.work_center,
                    p.bucket_start,
                    rank,
                    p.kind.value,
                    p.cost,
                    p.gap_minutes,
                    p.relieved_minutes,
                    p.closes_gap,
                    p.explanation,
                    p.order,
                    p.seq,
                    p.target_work_center,
                    p.target_bucket_start,
                    edits_to_json(p, computed.profile),
                )
            )
    return overloads, proposals


def bottleneck_of(profile: LoadProfile) -> dict[str, Any] | None:
    neck = profile.bottleneck()
    if neck is None:
        return None
    return {
        "work_center": neck.work_center,
        "load_minutes": neck.load_minutes,
        "capacity_minutes": neck.capacity_minutes,
        "utilisation": _finite(neck.utilisation),
    }


def counts_of(prepared: Prepared, computed: Computed, orders: int, proposals: int) -> dict[str, Any]:
    late = sum(1 for _, plan in prepared.plans if (plan.slack_minutes or 0) < 0)
    return {
        "orders": orders,
        "orders_planned": len(prepared.plans),
        "orders_late": late,
        "operations": len(computed.profile.operations),
        "work_centers": len(computed.profile.work_centers),
        "buckets": len(prepared.grid),
        "overloads": len(computed.overloads),
        "proposals": proposals,
        "warnings": len(prepared.warnings),
        "outside_minutes": float(computed.profile.outside_minutes.sum()),
    }
