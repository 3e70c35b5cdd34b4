"""Property tests on random product structures (random DAG BOMs, random demand and supply)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.mrp.domain.calendar import Calendar
from services.mrp.domain.diff import diff_results
from services.mrp.domain.model import (
    BomLine,
    ForecastBucket,
    Item,
    ItemKind,
    LotRule,
    LotSizing,
    OrderStatus,
    ParentOrder,
    RunParameters,
    SalesOrderLine,
    ScheduledReceipt,
    Snapshot,
)
from services.mrp.domain.netting import net_change, run_mrp
from services.mrp.domain.reference import reference_run

QTYS = st.sampled_from([Decimal(x) for x in ("1", "2", "3", "5", "7.5", "10", "12", "0.25", "20", "33")])
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def lot_sizings(draw: st.DrawFn) -> LotSizing:
    rule = draw(st.sampled_from(list(LotRule)))
    opt = st.none() | st.sampled_from([Decimal(x) for x in ("3", "5", "8", "12", "2.5")])
    return LotSizing(
        rule=rule,
        quantity=draw(st.sampled_from([Decimal(x) for x in ("4", "10", "25", "7.5")])),
        periods=draw(st.integers(1, 4)),
        min_qty=draw(opt),
        max_qty=draw(st.none() | st.sampled_from([Decimal(x) for x in ("15", "40", "9")])),
        multiple=draw(opt),
    )


@st.composite
def snapshots(draw: st.DrawFn, max_items: int = 14) -> Snapshot:
    today = draw(st.dates(date(2026, 10, 31), date(2026, 11, 8)))
    horizon = draw(st.integers(5, 30))

    def some_date(before: int = 6, after: int = 3) -> date:
        return today + timedelta(days=draw(st.integers(-before, horizon + after)))

    n = draw(st.integers(2, max_items))
    skus = [f"I{i:02d}" for i in range(n)]
    items = []
    for sku in skus:
        items.append(
            Item(
                sku=sku,
                kind=draw(st.sampled_from(list(ItemKind))),
                lead_time_days=draw(st.integers(0, 4)),
                safety_stock=draw(st.sampled_from([Decimal(0), Decimal(0), Decimal(4), Decimal("2.5")])),
                lot_sizing=draw(lot_sizings()),
                standard_cost=draw(st.sampled_from([Decimal(0), Decimal(2), Decimal("12.5")])),
                phantom=draw(st.integers(0, 6)) == 0,
            )
        )
    bom = []
    for j in range(1, n):
        for i in range(j):
            if draw(st.integers(0, 3)) == 0:
                bom.append(
                    BomLine(
                        skus[i],
                        skus[j],
                        draw(st.sampled_from([Decimal(x) for x in ("1", "2", "0.5", "1.25", "3")])),
                        draw(st.sampled_from([Decimal(0), Decimal(0), Decimal(3), Decimal("12.5")])),
                        draw(st.none() | st.just(some_date())),
                        draw(st.none() | st.just(some_date())),
                    )
                )
    stock = {
        s: draw(st.sampled_from([Decimal(x) for x in ("0", "0", "-3", "5", "12.5", "40")])) for s in skus
    }
    sales = [
        SalesOrderLine(f"S{k}", 1 + k % 3, draw(st.sampled_from(skus)), draw(QTYS), some_date())
        for k in range(draw(st.integers(0, 12)))
    ]
    forecasts = [
        ForecastBucket(draw(st.sampled_from(skus)), some_date(10, 0), draw(QTYS))
        for _ in range(draw(st.integers(0, 5)))
    ]
    receipts = [
        ScheduledReceipt(
            f"M{k}",
            draw(st.sampled_from(skus)),
            draw(QTYS),
            some_date(),
            status=draw(st.sampled_from([OrderStatus.FIRM, OrderStatus.RELEASED, OrderStatus.PLANNED])),
        )
        for k in range(draw(st.integers(0, 5)))
    ]
    parents = sorted({b.parent for b in bom})
    firm = [
        ParentOrder(f"F{k}", draw(st.sampled_from(parents)), draw(QTYS), some_date())
        for k in range(draw(st.integers(0, 3)) if parents else 0)
    ]
    weekend_work = draw(st.booleans())
    calendar = Calendar(
        weekdays=(True, True, True, True, True, weekend_work, False),
        holidays=frozenset(draw(st.lists(st.just(some_date(0, 0)), max_size=3))),
    )
    return Snapshot(
        RunParameters(today, horizon, release_window_days=draw(st.integers(0, 3))),
        items=tuple(items),
        bom=tuple(bom),
        stock=stock,
        receipts=tuple(receipts),
        sales_orders=tuple(sales),
        forecasts=tuple(forecasts),
        parent_orders=tuple(firm),
        calendar=calendar,
    )


@SETTINGS
@given(snapshots(max_items=30))
def test_engine_equals_the_plain_reference(snap):
    assert run_mrp(snap) == reference_run(snap)


@SETTINGS
@given(snapshots())
def test_projected_available_never_ends_a_date_below_safety_stock(snap):
    result = run_mrp(snap)
    for item in snap.items:
        if item.phantom:
            continue
        for row in result.record(item.sku).rows:
            if row.date >= snap.parameters.today:
                assert row.projected_available >= item.safety_stock


@SETTINGS
@given(snapshots())
def test_planned_orders_respect_the_lot_rules(snap):
    result = run_mrp(snap)
    for item in snap.items:
        lot = item.lot_sizing
        for po in result.orders_of(item.sku):
            assert po.quantity > 0
            if lot.max_qty is not None and po.quantity == lot.max_qty:
                continue  # a full piece of a max split
            if lot.min_qty is not None:
                assert po.quantity >= lot.min_qty
            if lot.multiple is not None:
                assert po.quantity % lot.multiple == 0
            elif lot.rule is LotRule.FIXED and lot.min_qty is None and lot.max_qty is None:
                assert po.quantity % lot.quantity == 0


@SETTINGS
@given(snapshots())
def test_lot_for_lot_planned_receipts_total_the_net_requirements(snap):
    lfl = LotSizing(LotRule.LOT_FOR_LOT)
    snap = replace(snap, items=tuple(replace(it, lot_sizing=lfl) for it in snap.items))
    result = run_mrp(snap)
    for item in snap.items:
        if item.phantom:
            continue  # a phantom passes its net requirements on, it plans nothing
        rows = result.record(item.sku).rows
        net = sum(r.net_requirements for r in rows)
        assert sum(r.planned_receipts for r in rows) == net
        assert sum(po.quantity for po in result.orders_of(item.sku)) == net


def _round6(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)


@SETTINGS
@given(snapshots())
def test_dependent_demand_is_parent_releases_times_qty_per_over_one_minus_scrap(snap):
    result = run_mrp(snap)
    today = snap.parameters.today
    end = today + timedelta(days=snap.parameters.horizon_days)
    cal = snap.calendar
    independent = {s.sku for s in snap.sales_orders} | {f.sku for f in snap.forecasts}
    phantoms = {it.sku for it in snap.items if it.phantom}
    expected: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for line in snap.bom:
        sources = [(po.release_date, po.quantity) for po in result.orders_of(line.parent)]
        sources += [(f.release_date, f.quantity) for f in snap.parent_orders if f.sku == line.parent]
        if line.parent in phantoms:  # no planned orders: its net requirements pass through
            sources += [
                (r.date, r.net_requirements) for r in result.record(line.parent).rows if r.net_requirements
            ]
        for r, qty in sources:
            if (
                (line.valid_from and r < line.valid_from)
                or (line.valid_to and r >= line.valid_to)
                or r >= end
            ):
                continue
            dep = _round6(qty * line.qty_per / (1 - line.scrap_pct / 100))
            expected[line.component][max(today, cal.prev_working(r))] += dep
    for item in snap.items:
        if item.sku in independent:
            continue
        gross = {r.date: r.gross_requirements for r in result.record(item.sku).rows if r.gross_requirements}
        assert gross == {k: v for k, v in expected[item.sku].items() if v}


@SETTINGS
@given(snapshots(), st.data())
def test_net_change_after_a_demand_and_stock_change_equals_a_regenerative_run(snap, data):
    previous = run_mrp(snap)
    sku = data.draw(st.sampled_from([it.sku for it in snap.items]))
    due = snap.parameters.today + timedelta(days=data.draw(st.integers(0, snap.parameters.horizon_days)))
    stock = dict(snap.stock)
    stock[sku] = stock.get(sku, Decimal(0)) + data.draw(st.sampled_from([Decimal(-5), Decimal(7)]))
    changed = replace(
        snap,
        stock=stock,
        sales_orders=(*snap.sales_orders, SalesOrderLine("NEW", 1, sku, Decimal(9), due)),
    )
    incremental = net_change(previous, changed, {sku})
    assert incremental == run_mrp(changed)
    assert incremental.items_planned <= len(snap.items)


@SETTINGS
@given(snapshots(), st.data())
def test_net_change_after_a_bom_change_equals_a_regenerative_run(snap, data):
    previous = run_mrp(snap)
    if snap.bom:
        removed = data.draw(st.sampled_from(snap.bom))
        changed = replace(snap, bom=tuple(b for b in snap.bom if b is not removed))
        skus = {removed.parent}
    else:  # no BOM: add an item instead (net change must notice new skus by itself)
        changed = replace(
            snap,
            items=(*snap.items, Item("NEW", lead_time_days=1)),
            sales_orders=(
                *snap.sales_orders,
                SalesOrderLine("N", 1, "NEW", Decimal(3), snap.parameters.today),
            ),
        )
        skus = set()
    assert net_change(previous, changed, skus) == run_mrp(changed)


@SETTINGS
@given(snapshots())
def test_a_run_diffed_against_itself_is_empty(snap):
    assert diff_results(run_mrp(snap), run_mrp(snap)).is_empty
