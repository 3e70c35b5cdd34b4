"""S&OP plans by family and month, and master production schedules by end item and week.

The computations are the domain's (:mod:`~services.mrp.domain.sop`, :mod:`~services.mrp.domain.mps`,
:mod:`~services.mrp.domain.rough_cut`); this module gathers their inputs from the service's
tables and replicas, stores the results and turns MPS quantities into firm orders.

S&OP inputs (a family = the items whose master-data ``family`` is it; quantities are summed
without unit conversion):

- Demand of month ``m`` = open sales-order quantity due in ``m`` + the forecast left after
  consumption, per sku. An order counts on its due date moved back to a working day of the
  ``plant`` calendar (PLANNING-SEMANTICS.md); orders due before the first month count in the first
  month (backlog to serve), orders after the last month are ignored. A forecast bucket
  ``[start, next start)`` (the last one open-ended) nets ``max(0, forecast − orders due in it)``
  (orders consume by their real due date, as in MRP) and counts, whole, in the month of its start;
  a bucket started before the first month and still running then counts in the first month
  (MRP counts it at ``max(start, today)``); one that ended before is ignored.
- Opening stock: on hand − reserved over nettable locations (the stock replica), summed.
- Working days per month: the ``plant`` calendar.
- Rough cut: a bill of resources per unit of the family = the demand-weighted average (equal
  weights without demand) of its items' bills; an item's bill sums, over the item and every make
  component below it (BOM lines valid on the first day of the plan, scrap included, phantoms
  passed through), ``cumulated qty × Σ (setup / lot + run) / efficiency`` of its routing's
  operations, ``lot`` being the item's fixed lot quantity, else its ``min_qty``, else 1. Capacity of
  a work center in a month: the shift minutes of its calendar on the month's days that are not
  holidays × its machines (calendar exceptions are left to capacity analyses). No lead-time offset
  (lead times are days; buckets are months).

MPS inputs (weeks are Mondays; ``start`` defaults to this week):

- forecast per week: each bucket's quantity in the week of its start (the same rule as above, by
  week; give weekly buckets for a weekly MPS);
- customer orders per week: :func:`~services.mrp.domain.mps.orders_by_week`;
- firm MPS: the remaining quantity of the sku's firm, released and in-progress orders at their
  due date, by the same week rule as customer orders;
- on hand, safety stock, lot sizing (``lot_for_lot`` or ``fixed``) from the item.

Firming an MPS creates, for each week of the chosen range with a planned quantity not yet
firmed, a firm order of the item's kind: due on the week's first working day, released
``lead_time_days`` working days before (PLANNING-SEMANTICS.md ``back``), with
``source_run`` = the MPS id and ``source_planned_order`` = the week. Firm orders are scheduled
receipts of MRP and, for make items, parent orders of their components.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.mrp import events
from services.mrp.api.planning_schemas import (
    MpsCreate,
    MpsExceptionPublic,
    MpsFirm,
    MpsFirmResult,
    MpsPublic,
    MpsWeekPublic,
    PromisePublic,
    RoughCutCenterPublic,
    RoughCutMonthPublic,
    RoughCutOverload,
    RoughCutPublic,
    SopMonthPublic,
    SopPlanCreate,
    SopPlanPublic,
    SopTotalsPublic,
    StrategyResult,
)
from services.mrp.api.schemas import OrderPublic
from services.mrp.db import repositories as repo
from services.mrp.domain.calendar import Calendar
from services.mrp.domain.model import LotRule
from services.mrp.domain.mps import MpsInput, MpsPlan, MpsWeek, Zone, orders_by_week, plan_mps, promise
from services.mrp.domain.rough_cut import PAST_DUE, RoutingOp, bill_of_resources, rough_cut
from services.mrp.domain.sop import (
    SopCosts,
    SopInput,
    SopMonthInput,
    SopPlan,
    SopTotals,
    Strategy,
    compare_strategies,
    plan_family,
    working_days_in_month,
)
from services.mrp.handlers.common import new_id, order_public
from services.mrp.snapshot import calendar_of, dec, item_of
from shared.db.platform import utcnow
from shared.db.uow import UnitOfWork
from shared.web.problems import Conflict, FieldError, NotFound, ValidationFailed

ZERO = Decimal(0)
_MICRO = Decimal("0.000001")
_WEEK = timedelta(days=7)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RECEIPT_STATUSES = ("firm", "released", "in_progress")


def _q6(value: Decimal) -> Decimal:
    return value.quantize(_MICRO, rounding=ROUND_HALF_EVEN)


# -- reads -----------------------------------------------------------------------------------------


async def _family_items(session: AsyncSession, family: str) -> dict[str, dict[str, Any]]:
    rows = await session.execute(
        text(
            "SELECT key, record FROM replica_records WHERE source = 'masterdata' AND kind = 'item' "
            "AND record->>'family' = :f ORDER BY key"
        ),
        {"f": family},
    )
    return {r[0]: {**r[1], "sku": r[1].get("sku") or r[0]} for r in rows}


async def _plant_calendar(session: AsyncSession) -> Calendar:
    return calendar_of(await repo.replica_record(session, "calendar", "plant"))


async def _open_sales_lines(session: AsyncSession, skus: Sequence[str]) -> list[tuple[str, date, Decimal]]:
    rows = await session.execute(
        text(
            "SELECT l.sku, l.due_date, l.qty FROM sales_order_lines l "
            "JOIN sales_orders o ON o.id = l.order_id "
            "WHERE l.status = 'open' AND o.status = 'open' AND l.sku = ANY(:s)"
        ),
        {"s": list(skus)},
    )
    return [(r[0], r[1], Decimal(r[2])) for r in rows]


async def _forecasts(session: AsyncSession, skus: Sequence[str]) -> dict[str, list[tuple[date, Decimal]]]:
    rows = await session.execute(
        text("SELECT sku, start, qty FROM forecasts WHERE sku = ANY(:s) ORDER BY sku, start"),
        {"s": list(skus)},
    )
    out: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    for sku, start, qty in rows:
        out[sku].append((start, Decimal(qty)))
    return out


async def _receipts(session: AsyncSession, sku: str) -> list[tuple[date, Decimal]]:
    rows = await session.execute(
        text(
            "SELECT due_date, quantity - received_qty FROM orders "
            "WHERE sku = :s AND status = ANY(:st) AND quantity > received_qty"
        ),
        {"s": sku, "st": list(_RECEIPT_STATUSES)},
    )
    return [(r[0], Decimal(r[1])) for r in rows]


# -- demand by bucket ------------------------------------------------------------------------------


def net_forecast_buckets(
    buckets: Sequence[tuple[date, Decimal]], orders: Sequence[tuple[date, Decimal]]
) -> list[tuple[date, date | None, Decimal]]:
    """``(start, end, max(0, forecast − orders due in [start, end)))`` per bucket (the last open)."""
    out = []
    ordered = sorted(buckets)
    for i, (start, qty) in enumerate(ordered):
        end = ordered[i + 1][0] if i + 1 < len(ordered) else None
        consumed = sum((q for d, q in orders if d >= start and (end is None or d < end)), ZERO)
        out.append((start, end, max(qty - consumed, ZERO)))
    return out


def _month_index(first: date, d: date) -> int:
    return (d.year - first.year) * 12 + d.month - first.month


def _add_months(first: date, k: int) -> date:
    m = first.month - 1 + k
    return date(first.year + m // 12, m % 12 + 1, 1)


def monthly_demand(
    first: date,
    n: int,
    calendar: Calendar,
    orders: Sequence[tuple[date, Decimal]],
    forecasts: Sequence[tuple[date, Decimal]],
) -> tuple[list[Decimal], list[Decimal]]:
    """One sku's (orders, net forecast) per month (the module's rules)."""
    by_order = [ZERO] * n
    for due, qty in orders:
        k = max(_month_index(first, calendar.prev_working(due)), 0)
        if k < n:
            by_order[k] += qty
    by_forecast = [ZERO] * n
    for start, end, qty in net_forecast_buckets(forecasts, orders):
        if start < first:
            if end is not None and end <= first:
                continue
            k = 0
        else:
            k = _month_index(first, start)
        if k < n:
            by_forecast[k] += qty
    return by_order, by_forecast


def weekly_forecast(weeks: Sequence[date], buckets: Sequence[tuple[date, Decimal]]) -> list[Decimal]:
    out = [ZERO] * len(weeks)
    if not weeks:
        return out
    first = weeks[0]
    ordered = sorted(buckets)
    for i, (start, qty) in enumerate(ordered):
        end = ordered[i + 1][0] if i + 1 < len(ordered) else None
        if start < first:
            if end is not None and end <= first:
                continue
            w = 0
        else:
            w = (start - first).days // 7
        if w < len(weeks):
            out[w] += qty
    return out


# -- rough cut -------------------------------------------------------------------------------------


def shift_minutes(shifts: Sequence[Sequence[str]]) -> int:
    total = 0
    for start, end in shifts:
        sh, sm = (int(x) for x in str(start).split(":")[:2])
        eh, em = (int(x) for x in str(end).split(":")[:2])
        length = (eh * 60 + em) - (sh * 60 + sm)
        total += length if length > 0 else length + 24 * 60
    return total


def monthly_capacity_minutes(
    calendar: Mapping[str, Any] | None, machines: int, months: Sequence[date]
) -> list[Decimal]:
    """Shift minutes of the calendar on each month's non-holiday days × machines."""
    if calendar is None or machines <= 0:
        return [ZERO] * len(months)
    weekdays = calendar.get("weekdays") or {}
    per_day = [shift_minutes(weekdays.get(name) or ()) for name in _WEEKDAYS]
    holidays = {date.fromisoformat(str(h)[:10]) for h in calendar.get("holidays") or ()}
    out = []
    for month in months:
        after = _add_months(month, 1)
        d, minutes = month, 0
        while d < after:
            if d not in holidays:
                minutes += per_day[d.weekday()]
            d += timedelta(days=1)
        out.append(Decimal(minutes * machines))
    return out


def _lot_size(record: Mapping[str, Any]) -> Decimal:
    lots = record.get("lot_sizing") or {}
    for key in ("quantity", "min_qty") if lots.get("rule") == "fixed" else ("min_qty",):
        value = lots.get(key)
        if value is not None and Decimal(str(value)) > 0:
            return Decimal(str(value))
    return Decimal(1)


def _valid(line: Mapping[str, Any], at: date) -> bool:
    vf, vt = line.get("valid_from"), line.get("valid_to")
    if vf and at < date.fromisoformat(str(vf)[:10]):
        return False
    return not (vt and at >= date.fromisoformat(str(vt)[:10]))


async def _explode(
    session: AsyncSession, roots: Sequence[str], at: date
) -> tuple[dict[str, dict[str, Decimal]], dict[str, dict[str, Any]]]:
    """Per root: cumulated quantity per unit of every sku at or below it (itself = 1); and the items."""
    boms: dict[str, list[Mapping[str, Any]]] = {}
    items: dict[str, dict[str, Any]] = {}
    frontier = set(roots)
    while frontier:
        items.update(await repo.replica_records(session, "item", frontier))
        records = await repo.replica_records(session, "bom", frontier)
        for parent in frontier:
            boms[parent] = [ln for ln in (records.get(parent, {}).get("lines") or ()) if _valid(ln, at)]
        children = {ln["component"] for p in frontier for ln in boms[p]}
        frontier = children - set(boms)
    out: dict[str, dict[str, Decimal]] = {}
    for root in roots:
        totals: dict[str, Decimal] = defaultdict(Decimal)
        stack: list[tuple[str, Decimal, int]] = [(root, Decimal(1), 0)]
        while stack:
            sku, qty, depth = stack.pop()
            if depth > 50:
                raise ValidationFailed.one("family", f"the BOM below {root} is too deep (a cycle?)")
            totals[sku] += qty
            for ln in boms.get(sku, ()):
                scrap = Decimal(str(ln.get("scrap_pct") or 0))
                need = qty * Decimal(str(ln["qty_per"])) / (1 - scrap / 100)
                stack.append((ln["component"], _q6(need), depth + 1))
        out[root] = dict(totals)
    return out, items


async def family_bill(
    session: AsyncSession, weights: Mapping[str, Decimal], at: date
) -> tuple[dict[str, Decimal], list[str], dict[str, dict[str, Any]]]:
    """Minutes per family unit on each work center, the make items without routing, the work centers."""
    explosion, items = await _explode(session, sorted(weights), at)
    skus = {s for per in explosion.values() for s in per}
    routings = await repo.replica_records(session, "routing", skus)
    centers_used = {op["work_center"] for r in routings.values() for op in r.get("operations") or ()}
    centers = await repo.replica_records(session, "work_center", centers_used)
    efficiency = {c: Decimal(str(rec.get("efficiency") or 1)) for c, rec in centers.items()}
    per_sku: dict[str, dict[str, Decimal]] = {}
    missing: set[str] = set()
    for sku in skus:
        record = items.get(sku, {})
        if record.get("kind") == "buy" or record.get("phantom"):
            continue
        routing = routings.get(sku)
        if routing is None:
            missing.add(sku)
            continue
        ops = [
            RoutingOp(
                op["work_center"],
                Decimal(str(op.get("setup_minutes") or 0)),
                Decimal(str(op.get("run_minutes_per_unit") or 0)),
            )
            for op in routing.get("operations") or ()
        ]
        per_sku[sku] = bill_of_resources(ops, _lot_size(record), efficiency)
    bill: dict[str, Decimal] = defaultdict(Decimal)
    for root, weight in weights.items():
        for sku, qty in explosion[root].items():
            for wc, minutes in per_sku.get(sku, {}).items():
                bill[wc] += weight * qty * minutes
    return {wc: _q6(m) for wc, m in sorted(bill.items())}, sorted(missing), centers


async def _rough_cut(
    session: AsyncSession,
    body: SopPlanCreate,
    months: Sequence[date],
    demand_by_sku: Mapping[str, Decimal],
    production: Sequence[Decimal],
) -> RoughCutPublic:
    total = sum(demand_by_sku.values(), ZERO)
    skus = sorted(demand_by_sku)
    if total > 0:
        weights = {s: demand_by_sku[s] / total for s in skus}
    else:
        weights = {s: Decimal(1) / len(skus) for s in skus}
    bill, missing, centers = await family_bill(session, weights, months[0])
    if body.key_work_centers is not None:
        known = set(await repo.existing_keys(session, "work_center", body.key_work_centers))
        errors = [
            FieldError(field=f"key_work_centers[{i}]", message=f"unknown work center {wc!r}", code="unknown")
            for i, wc in enumerate(body.key_work_centers)
            if wc not in known
        ]
        if errors:
            raise ValidationFailed(errors)
        wanted = set(body.key_work_centers)
        bill = {wc: m for wc, m in bill.items() if wc in wanted}
        missing_centers = wanted - set(centers)
        centers.update(await repo.replica_records(session, "work_center", missing_centers))
    else:
        wanted = set(bill)
    calendars = await repo.replica_records(
        session, "calendar", {str(centers[wc].get("calendar")) for wc in wanted if wc in centers}
    )
    capacity = {
        wc: monthly_capacity_minutes(
            calendars.get(str(centers.get(wc, {}).get("calendar"))),
            len(centers.get(wc, {}).get("machines") or ()),
            months,
        )
        for wc in sorted(wanted)
    }
    result = rough_cut({"family": bill}, {"family": list(production)}, capacity)
    out_centers = []
    for wc, load in result.work_centers.items():
        out_centers.append(
            RoughCutCenterPublic(
                work_center=wc,
                minutes_per_unit=bill.get(wc, ZERO),
                months=[
                    RoughCutMonthPublic(
                        month=months[b],
                        load_minutes=_q6(load.load[b]),
                        capacity_minutes=load.capacity[b],
                        utilisation=load.utilisation[b],
                        overloaded=b in load.overloaded,
                    )
                    for b in range(len(months))
                ],
            )
        )
    overloads = [
        RoughCutOverload(
            work_center=o.work_center,
            month=months[o.bucket],
            load_minutes=_q6(o.load),
            capacity_minutes=o.capacity,
            excess_minutes=_q6(o.excess),
        )
        for o in result.overloads
        if o.bucket != PAST_DUE
    ]
    return RoughCutPublic(work_centers=out_centers, overloads=overloads, items_without_routing=missing)


# -- S&OP ------------------------------------------------------------------------------------------


def _per_month(value: Decimal | list[Decimal] | None, n: int) -> list[Decimal | None]:
    if value is None:
        return [None] * n
    if isinstance(value, list):
        return list(value)
    return [value] * n


def _check_sop(body: SopPlanCreate) -> None:
    errors = []
    if body.target_stock is not None and body.target_days is not None:
        errors.append(FieldError(field="target_days", message="give target_stock or target_days, not both"))
    for name in ("target_stock", "target_days", "capacity"):
        value = getattr(body, name)
        if isinstance(value, list) and len(value) != body.months:
            errors.append(
                FieldError(field=name, message=f"give one value, or one per month ({body.months} values)")
            )
    if errors:
        raise ValidationFailed(errors)


def _totals_public(t: SopTotals) -> SopTotalsPublic:
    return SopTotalsPublic(
        demand=t.demand,
        production=t.production,
        stock_unit_months=t.stock_unit_months,
        backlog_unit_months=t.backlog_unit_months,
        final_stock=t.final_stock,
        final_backlog=t.final_backlog,
        max_backlog=t.max_backlog,
        rate_increase=t.rate_increase,
        rate_decrease=t.rate_decrease,
        unmade=t.unmade,
        holding_cost=t.holding_cost,
        backlog_cost=t.backlog_cost,
        change_cost=t.change_cost,
        total_cost=t.total_cost,
    )


async def create_sop_plan(uow: UnitOfWork, body: SopPlanCreate) -> SopPlanPublic:
    _check_sop(body)
    session = uow.session
    items = await _family_items(session, body.family)
    if not items:
        raise ValidationFailed.one("family", f"no item of family {body.family!r}", code="unknown_family")
    skus = sorted(items)
    n = body.months
    months = [_add_months(body.first_month, k) for k in range(n)]
    calendar = await _plant_calendar(session)
    lines = await _open_sales_lines(session, skus)
    forecasts = await _forecasts(session, skus)
    orders_by_sku: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    for sku, due, qty in lines:
        orders_by_sku[sku].append((due, qty))
    orders_total = [ZERO] * n
    forecast_total = [ZERO] * n
    demand_by_sku: dict[str, Decimal] = {}
    for sku in skus:
        o, f = monthly_demand(
            body.first_month, n, calendar, orders_by_sku.get(sku, []), forecasts.get(sku, [])
        )
        orders_total = [a + b for a, b in zip(orders_total, o, strict=True)]
        forecast_total = [a + b for a, b in zip(forecast_total, f, strict=True)]
        demand_by_sku[sku] = sum(o, ZERO) + sum(f, ZERO)
    stock = await repo.net_stock_of(session, skus)
    opening = sum((dec(v) for v in stock.values()), ZERO)

    targets = _per_month(body.target_stock, n)
    days = _per_month(body.target_days, n)
    caps = _per_month(body.capacity, n)
    inp = SopInput(
        family=body.family,
        opening_stock=opening,
        months=[
            SopMonthInput(
                month=months[k],
                demand=orders_total[k] + forecast_total[k],
                working_days=working_days_in_month(calendar, months[k]),
                target_stock=targets[k],
                target_days=days[k],
                capacity=caps[k],
            )
            for k in range(n)
        ],
        initial_rate=body.initial_rate,
        unit=body.unit,
    )
    costs = (
        SopCosts(
            holding=body.costs.holding,
            backlog=body.costs.backlog,
            rate_increase=body.costs.rate_increase,
            rate_decrease=body.costs.rate_decrease,
        )
        if body.costs is not None
        else None
    )
    try:
        plan: SopPlan = plan_family(inp, body.strategy, costs)
        compared = compare_strategies(inp, costs) if costs is not None else None
    except ValueError as exc:
        raise ValidationFailed.one("months", str(exc)) from exc
    comparison = None
    cheapest = None
    if compared is not None:
        ranked = sorted(
            compared.values(), key=lambda p: (p.totals.total_cost or ZERO, list(Strategy).index(p.strategy))
        )
        comparison = [
            StrategyResult(
                strategy=p.strategy.value,
                totals=_totals_public(p.totals),
                production=[m.production for m in p.months],
            )
            for p in ranked
        ]
        cheapest = ranked[0].strategy.value
    rough = await _rough_cut(session, body, months, demand_by_sku, [m.production for m in plan.months])
    plan_id = new_id("sop")
    public = SopPlanPublic(
        id=plan_id,
        family=body.family,
        strategy=body.strategy,
        first_month=body.first_month,
        items=skus,
        opening_stock=opening,
        months=[
            SopMonthPublic(
                month=m.month,
                working_days=m.working_days,
                orders=orders_total[k],
                forecast=forecast_total[k],
                demand=m.demand,
                target_stock=m.target_stock,
                capacity=m.capacity,
                production=m.production,
                rate=m.rate,
                change=m.change,
                rate_change=m.rate_change,
                ending_stock=m.ending_stock,
                backlog=m.backlog,
                utilisation=m.utilisation,
            )
            for k, m in enumerate(plan.months)
        ],
        totals=_totals_public(plan.totals),
        rough_cut=rough,
        comparison=comparison,
        cheapest=cheapest,
        request=body.model_dump(mode="json"),
        created_at=utcnow(),
        links={"self": f"/v1/mrp/sop-plans/{plan_id}"},
    )
    data = public.model_dump(mode="json")
    row = await session.execute(
        text(
            "INSERT INTO sop_plans (id, family, strategy, first_month, request, plan) "
            "VALUES (:i, :f, :s, :m, CAST(:r AS jsonb), CAST(:p AS jsonb)) RETURNING created_at"
        ),
        {
            "i": plan_id,
            "f": body.family,
            "s": body.strategy,
            "m": body.first_month,
            "r": json.dumps(data["request"]),
            "p": json.dumps(data),
        },
    )
    public.created_at = row.scalar_one()
    return public


def _sop_public(row: RowMapping) -> SopPlanPublic:
    data = dict(row["plan"])
    data["created_at"] = row["created_at"]
    return SopPlanPublic.model_validate(data)


async def get_sop_plan(uow: UnitOfWork, plan_id: str) -> SopPlanPublic:
    row = (
        (
            await uow.session.execute(
                text("SELECT plan, created_at FROM sop_plans WHERE id = :i"), {"i": plan_id}
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no S&OP plan {plan_id!r}")
    return _sop_public(row)


async def list_sop_plans(
    uow: UnitOfWork, *, family: str | None, after: int | None, limit: int
) -> list[tuple[int, SopPlanPublic]]:
    where, params = ["true"], {"limit": limit}
    if family is not None:
        where.append("family = :f")
        params["f"] = family  # type: ignore[assignment]
    if after is not None:
        where.append("seq < :after")
        params["after"] = after
    rows = await uow.session.execute(
        text(
            f"SELECT seq, plan, created_at FROM sop_plans WHERE {' AND '.join(where)} "
            "ORDER BY seq DESC LIMIT :limit"
        ),
        params,
    )
    return [(r["seq"], _sop_public(r)) for r in rows.mappings()]


# -- MPS -------------------------------------------------------------------------------------------


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _week_rows(plan: MpsPlan) -> list[dict[str, Any]]:
    return [
        {
            "week": w.week.isoformat(),
            "zone": w.zone.value,
            "forecast": str(w.forecast),
            "orders": str(w.orders),
            "demand": str(w.demand),
            "pab": str(w.pab),
            "firm_mps": str(w.firm_mps),
            "planned_mps": str(w.planned_mps),
            "atp": None if w.atp is None else str(w.atp),
            "cumulative_atp": str(w.cumulative_atp),
        }
        for w in plan.weeks
    ]


def _rows_of(stored: Sequence[Mapping[str, Any]]) -> list[MpsWeek]:
    def d(v: Any) -> Decimal:
        return Decimal(str(v))

    return [
        MpsWeek(
            week=date.fromisoformat(r["week"]),
            zone=Zone(r["zone"]),
            forecast=d(r["forecast"]),
            orders=d(r["orders"]),
            demand=d(r["demand"]),
            pab=d(r["pab"]),
            firm_mps=d(r["firm_mps"]),
            planned_mps=d(r["planned_mps"]),
            atp=None if r["atp"] is None else d(r["atp"]),
            cumulative_atp=d(r["cumulative_atp"]),
        )
        for r in stored
    ]


def _mps_public(row: RowMapping) -> MpsPublic:
    plan = row["plan"]
    firmed: dict[str, str] = row["firmed"] or {}
    weeks = _rows_of(plan["weeks"])
    return MpsPublic(
        id=row["id"],
        sku=row["sku"],
        kind=plan["kind"],
        first_week=row["first_week"],
        dtf=plan["dtf"],
        ptf=plan["ptf"],
        on_hand=Decimal(str(plan["on_hand"])),
        safety_stock=Decimal(str(plan["safety_stock"])),
        lead_time_days=plan["lead_time_days"],
        lot_sizing=plan["lot_sizing"],
        weeks=[
            MpsWeekPublic(
                week=w.week,
                zone=w.zone.value,
                forecast=w.forecast,
                orders=w.orders,
                demand=w.demand,
                pab=w.pab,
                firm_mps=w.firm_mps,
                planned_mps=w.planned_mps,
                mps=w.mps,
                atp=w.atp,
                cumulative_atp=w.cumulative_atp,
                firmed_order=firmed.get(w.week.isoformat()),
            )
            for w in weeks
        ],
        exceptions=[
            MpsExceptionPublic(
                week=date.fromisoformat(e["week"]), kind=e["kind"], quantity=Decimal(e["quantity"])
            )
            for e in plan["exceptions"]
        ],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        links={"self": f"/v1/mrp/mps/{row['id']}", "promise": f"/v1/mrp/mps/{row['id']}/promise"},
    )


_MPS_COLUMNS = "seq, id, sku, first_week, plan, firmed, version, created_at, updated_at"


async def _mps_row(session: AsyncSession, mps_id: str, *, lock: bool = False) -> RowMapping:
    sql = f"SELECT {_MPS_COLUMNS} FROM mps_plans WHERE id = :i" + (" FOR UPDATE" if lock else "")
    row = (await session.execute(text(sql), {"i": mps_id})).mappings().first()
    if row is None:
        raise NotFound(f"no MPS {mps_id!r}")
    return row


async def create_mps(uow: UnitOfWork, body: MpsCreate, today: date | None = None) -> MpsPublic:
    session = uow.session
    record = await repo.replica_record(session, "item", body.sku)
    if record is None:
        raise ValidationFailed.one("sku", f"unknown sku {body.sku!r}", code="unknown_sku")
    item = item_of({**record, "sku": body.sku}, None)
    if LotRule(item.lot_sizing.rule) not in (LotRule.LOT_FOR_LOT, LotRule.FIXED):
        raise ValidationFailed.one(
            "sku",
            f"{body.sku} has {item.lot_sizing.rule} lot sizing: the MPS takes lot_for_lot or fixed",
            code="unsupported_lot_sizing",
        )
    first = _monday(body.start or today or date.today())
    weeks = [first + k * _WEEK for k in range(body.weeks)]
    calendar = await _plant_calendar(session)
    orders = [(due, qty) for _s, due, qty in await _open_sales_lines(session, [body.sku])]
    forecast = weekly_forecast(weeks, (await _forecasts(session, [body.sku])).get(body.sku, []))
    firm = orders_by_week(weeks, await _receipts(session, body.sku), calendar)
    on_hand = dec((await repo.net_stock_of(session, [body.sku])).get(body.sku, ZERO))
    try:
        plan = plan_mps(
            MpsInput(
                weeks=weeks,
                forecast=forecast,
                orders=orders_by_week(weeks, orders, calendar),
                on_hand=on_hand,
                safety_stock=item.safety_stock,
                lot=item.lot_sizing,
                firm=firm,
                dtf=body.dtf,
                ptf=body.ptf,
                sku=body.sku,
            )
        )
    except ValueError as exc:
        raise ValidationFailed.one("sku", str(exc)) from exc
    lots = record.get("lot_sizing") or {"rule": "lot_for_lot"}
    stored = {
        "kind": item.kind.value,
        "dtf": body.dtf,
        "ptf": body.ptf,
        "on_hand": str(on_hand),
        "safety_stock": str(item.safety_stock),
        "lead_time_days": item.lead_time_days,
        "lot_sizing": {k: v for k, v in lots.items() if v is not None},
        "weeks": _week_rows(plan),
        "exceptions": [
            {"week": e.week.isoformat(), "kind": e.kind.value, "quantity": str(e.quantity)}
            for e in plan.exceptions
        ],
    }
    mps_id = new_id("mps")
    await session.execute(
        text(
            "INSERT INTO mps_plans (id, sku, first_week, request, plan) "
            "VALUES (:i, :s, :w, CAST(:r AS jsonb), CAST(:p AS jsonb))"
        ),
        {
            "i": mps_id,
            "s": body.sku,
            "w": first,
            "r": json.dumps(body.model_dump(mode="json")),
            "p": json.dumps(stored),
        },
    )
    return _mps_public(await _mps_row(session, mps_id))


async def get_mps(uow: UnitOfWork, mps_id: str) -> MpsPublic:
    return _mps_public(await _mps_row(uow.session, mps_id))


async def list_mps(
    uow: UnitOfWork, *, sku: str | None, after: int | None, limit: int
) -> list[tuple[int, MpsPublic]]:
    where, params = ["true"], {"limit": limit}
    if sku is not None:
        where.append("sku = :s")
        params["s"] = sku  # type: ignore[assignment]
    if after is not None:
        where.append("seq < :after")
        params["after"] = after
    rows = await uow.session.execute(
        text(
            f"SELECT {_MPS_COLUMNS} FROM mps_plans WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT :limit"
        ),
        params,
    )
    return [(r["seq"], _mps_public(r)) for r in rows.mappings()]


def _first_working_day(calendar: Calendar, monday: date) -> date:
    for k in range(7):
        d = monday + timedelta(days=k)
        if calendar.is_working(d):
            return d
    return calendar.prev_working(monday)


async def firm_mps(uow: UnitOfWork, mps_id: str, body: MpsFirm) -> MpsFirmResult:
    session = uow.session
    row = await _mps_row(session, mps_id, lock=True)
    plan = row["plan"]
    weeks = _rows_of(plan["weeks"])
    limit = len(weeks)
    if body.weeks is not None:
        limit = min(limit, body.weeks)
    if body.through is not None:
        limit = min(limit, sum(1 for w in weeks if w.week <= body.through))
    firmed: dict[str, str] = dict(row["firmed"] or {})
    calendar = await _plant_calendar(session)
    created: list[OrderPublic] = []
    for w in weeks[:limit]:
        key = w.week.isoformat()
        if w.planned_mps <= 0 or key in firmed:
            continue
        due = _first_working_day(calendar, w.week)
        release = calendar.back(due, int(plan["lead_time_days"]))
        inserted = await repo.insert_order(
            session,
            {
                "id": new_id("ord"),
                "kind": plan["kind"],
                "sku": row["sku"],
                "quantity": w.planned_mps,
                "release_date": release,
                "due_date": due,
                "status": "firm",
                "source_run": mps_id,
                "source_planned_order": key,
            },
        )
        public = order_public(inserted)
        uow.emit(events.order_changed(public.model_dump(mode="json")))
        created.append(public)
        firmed[key] = public.id
    if not created and not any(w.planned_mps > 0 for w in weeks[:limit]):
        raise Conflict(f"MPS {mps_id} has no planned quantity in the chosen weeks", weeks=limit)
    if created:
        await repo.record_changes(session, [row["sku"]], "order")
        await session.execute(
            text(
                "UPDATE mps_plans SET firmed = CAST(:f AS jsonb), version = version + 1, updated_at = now() "
                "WHERE id = :i"
            ),
            {"f": json.dumps(firmed), "i": mps_id},
        )
    return MpsFirmResult(mps=_mps_public(await _mps_row(session, mps_id)), orders=created)


async def promise_from_mps(uow: UnitOfWork, mps_id: str, qty: Decimal, week: date) -> PromisePublic:
    row = await _mps_row(uow.session, mps_id)
    rows = _rows_of(row["plan"]["weeks"])
    promised = promise(rows, qty, week)
    wanted = max(_monday(week), rows[0].week) if rows else _monday(week)
    return PromisePublic(
        mps_id=mps_id,
        sku=row["sku"],
        qty=qty,
        wanted_week=wanted,
        promised_week=promised,
        on_time=promised is not None and promised <= wanted,
    )
