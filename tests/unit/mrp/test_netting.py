"""Hand-computed textbook cases. Today is Monday 2026-11-02; the calendar is Monday–Friday."""

from decimal import Decimal

import pytest

from services.mrp.domain.calendar import Calendar
from services.mrp.domain.model import (
    BomLine,
    ForecastBucket,
    Item,
    ItemKind,
    LotRule,
    LotSizing,
    OrderStatus,
    ParentOrder,
    SalesOrderLine,
    ScheduledReceipt,
    Snapshot,
)
from services.mrp.domain.netting import run_mrp
from services.mrp.domain.result import PegKind
from tests.unit.mrp.helpers import actions, d, orders, params, q, rows, run


def so(order: str, sku: str, qty: str | int, due, line: int = 1) -> SalesOrderLine:
    return SalesOrderLine(order, line, sku, q(qty), due)


def test_nets_scheduled_receipts_before_planning_orders():
    snap = Snapshot(
        params(),
        items=(Item("A", lead_time_days=1),),
        stock={"A": q(20)},
        receipts=(ScheduledReceipt("MO1", "A", q(10), d(6)),),
        sales_orders=(so("S1", "A", 15, d(4)), so("S2", "A", 30, d(6)), so("S3", "A", 25, d(10))),
    )
    result = run(snap)
    assert rows(result, "A") == [
        (d(2), "0", "0", "20", "0", "0", "0"),
        (d(4), "15", "0", "5", "0", "0", "0"),
        (d(5), "0", "0", "5", "0", "0", "15"),
        (d(6), "30", "10", "0", "15", "15", "0"),
        (d(9), "0", "0", "0", "0", "0", "25"),
        (d(10), "25", "0", "0", "25", "25", "0"),
    ]
    assert orders(result, "A") == [("15", d(5), d(6)), ("25", d(9), d(10))]
    assert [po.id for po in result.orders_of("A")] == ["A@2026-11-06#1", "A@2026-11-10#1"]
    assert actions(result) == []  # the receipt is needed exactly on its due date


def test_starting_stock_below_safety_stock_gets_an_order_due_today():
    snap = Snapshot(
        params(),
        items=(Item("A", safety_stock=q(10)),),
        stock={"A": q(3)},
        sales_orders=(so("S1", "A", 5, d(5)),),
    )
    result = run(snap)
    assert orders(result, "A") == [("7", d(2), d(2)), ("5", d(5), d(5))]
    first, second = result.orders_of("A")
    assert [(p.kind, p.quantity) for p in first.pegging] == [(PegKind.SAFETY_STOCK, 7)]
    assert [(p.kind, p.reference, p.quantity) for p in second.pegging] == [(PegKind.SALES_ORDER, "S1", 5)]
    assert rows(result, "A")[0] == (d(2), "0", "0", "10", "7", "7", "7")
    # lead time 0: released today -> release message; the second one is not in the window.
    assert actions(result) == [("release", "A@2026-11-02#1", "7", d(2), None)]


def test_a_saturday_requirement_is_planned_for_friday():
    snap = Snapshot(params(), items=(Item("A", lead_time_days=2),), sales_orders=(so("S1", "A", 4, d(7)),))
    result = run(snap)
    assert orders(result, "A") == [("4", d(4), d(6))]
    assert result.orders_of("A")[0].pegging[0].date == d(6)


def test_a_saturday_requirement_moves_before_a_friday_holiday():
    snap = Snapshot(
        params(),
        items=(Item("A", lead_time_days=2),),
        sales_orders=(so("S1", "A", 4, d(7)),),
        calendar=Calendar(holidays=frozenset({d(6)})),
    )
    assert orders(run(snap), "A") == [("4", d(3), d(5))]


def test_a_late_sales_order_counts_today_and_its_order_is_past_due():
    snap = Snapshot(
        params(), items=(Item("A", lead_time_days=3),), sales_orders=(so("S1", "A", 8, d(20, 10)),)
    )
    result = run(snap)
    # due today (Mon 2), released 3 working days earlier: Wed 28 Oct.
    assert orders(result, "A") == [("8", d(28, 10), d(2))]
    assert actions(result) == [("past_due", "A@2026-11-02#1", "8", d(28, 10), None)]
    assert rows(result, "A")[0] == (d(28, 10), "0", "0", "0", "0", "0", "8")


def test_requirements_on_or_after_the_horizon_end_are_ignored():
    snap = Snapshot(
        params(horizon_days=14),  # horizon [2 Nov, 16 Nov)
        items=(Item("A"),),
        sales_orders=(so("S1", "A", 1, d(13)), so("S2", "A", 2, d(16)), so("S3", "A", 3, d(20))),
    )
    assert orders(run(snap), "A") == [("1", d(13), d(13))]


def test_bom_effectivity_uses_the_parent_release_date_with_valid_to_excluded():
    snap = Snapshot(
        params(),
        items=(Item("P", lead_time_days=1), Item("C1"), Item("C2")),
        bom=(
            BomLine("P", "C1", q(2), valid_to=d(5)),
            BomLine("P", "C2", q(3), valid_from=d(5)),
        ),
        sales_orders=(so("S1", "P", 10, d(5)), so("S2", "P", 10, d(6))),
    )
    result = run(snap)
    # P orders release Wed 4 (C1 valid, C2 not yet) and Thu 5 (C2 valid from 5, C1 ends at 5).
    assert orders(result, "P") == [("10", d(4), d(5)), ("10", d(5), d(6))]
    assert orders(result, "C1") == [("20", d(4), d(4))]
    assert orders(result, "C2") == [("30", d(5), d(5))]
    peg = result.orders_of("C2")[0].pegging[0]
    assert (peg.kind, peg.reference, peg.parent_sku) == (PegKind.PARENT_ORDER, "P@2026-11-06#1", "P")


def test_scrap_inflates_dependent_demand_and_keeps_six_decimals():
    snap = Snapshot(
        params(),
        items=(Item("P"), Item("C"), Item("D")),
        bom=(BomLine("P", "C", q(1), q(3)), BomLine("C", "D", q(1), q(3))),
        sales_orders=(so("S1", "P", 10, d(4)),),
    )
    result = run(snap)
    # 10 / 0.97 = 10.3092783505... -> 10.309278; 10.309278 / 0.97 = 10.6281216494... -> 10.628122
    assert orders(result, "C") == [("10.309278", d(4), d(4))]
    assert orders(result, "D") == [("10.628122", d(4), d(4))]


def test_phantom_nets_its_stock_and_passes_the_rest_to_its_components_the_same_day():
    snap = Snapshot(
        params(),
        items=(
            Item("E", lead_time_days=1),
            Item("F", lead_time_days=5, phantom=True, safety_stock=q(100)),
            Item("G", lead_time_days=1),
        ),
        bom=(BomLine("E", "F", q(2)), BomLine("F", "G", q(3))),
        stock={"F": q(4)},
        sales_orders=(so("S1", "E", 10, d(5)),),
    )
    result = run(snap)
    assert orders(result, "E") == [("10", d(4), d(5))]
    assert result.orders_of("F") == ()
    # F: gross 20 on Wed 4, stock 4 -> net 16, no order, passed through on the same day.
    assert rows(result, "F") == [(d(2), "0", "0", "4", "0", "0", "0"), (d(4), "20", "0", "0", "16", "0", "0")]
    assert orders(result, "G") == [("48", d(3), d(4))]
    peg = result.orders_of("G")[0].pegging[0]
    assert (peg.kind, peg.reference, peg.quantity) == (PegKind.PHANTOM, "F", 48)


def test_a_receipt_due_after_the_shortage_gets_reschedule_in():
    snap = Snapshot(
        params(),
        items=(Item("R"),),
        receipts=(ScheduledReceipt("MO1", "R", q(10), d(10)),),
        sales_orders=(so("S1", "R", 10, d(5)),),
    )
    result = run(snap)
    assert actions(result) == [("reschedule_in", "MO1", "10", d(10), d(5))]
    # advice only: the run still plans an order for Thursday and the receipt stays on the 10th.
    assert orders(result, "R") == [("10", d(5), d(5))]
    assert rows(result, "R")[-1] == (d(10), "0", "10", "10", "0", "0", "0")


def test_a_receipt_not_needed_until_later_gets_reschedule_out():
    snap = Snapshot(
        params(),
        items=(Item("R"),),
        receipts=(ScheduledReceipt("MO1", "R", q(10), d(4)),),
        sales_orders=(so("S1", "R", 10, d(12)),),
    )
    assert actions(run(snap)) == [("reschedule_out", "MO1", "10", d(4), d(12))]


def test_reschedule_respects_safety_stock_and_earlier_receipts():
    snap = Snapshot(
        params(),
        items=(Item("R", safety_stock=q(5)),),
        stock={"R": q(8)},
        receipts=(
            ScheduledReceipt("MO1", "R", q(10), d(3)),
            ScheduledReceipt("MO2", "R", q(10), d(4)),
        ),
        sales_orders=(so("S1", "R", 6, d(9)), so("S2", "R", 10, d(11))),
    )
    # MO1: 8 - 6 = 2 < 5 on the 9th -> out to 9. MO2: 8 + 10 - 16 = 2 < 5 on the 11th -> out to 11.
    assert actions(run(snap)) == [
        ("reschedule_out", "MO1", "10", d(3), d(9)),
        ("reschedule_out", "MO2", "10", d(4), d(11)),
    ]


def test_a_receipt_not_needed_within_the_horizon_gets_cancel():
    snap = Snapshot(
        params(),
        items=(Item("R"),),
        stock={"R": q(5)},
        receipts=(ScheduledReceipt("PO1", "R", q(10), d(4), kind=ItemKind.BUY),),
        sales_orders=(so("S1", "R", 5, d(6)),),
    )
    assert actions(run(snap)) == [("cancel", "PO1", "10", d(4), None)]


def test_a_late_receipt_is_past_due_and_still_advised():
    snap = Snapshot(
        params(),
        items=(Item("R"),),
        receipts=(ScheduledReceipt("MO1", "R", q(10), d(30, 10)),),
        sales_orders=(so("S1", "R", 5, d(3)),),
    )
    result = run(snap)
    assert actions(result) == [
        ("past_due", "MO1", "10", d(30, 10), None),
        ("reschedule_out", "MO1", "10", d(30, 10), d(3)),
    ]
    assert rows(result, "R")[0] == (d(2), "0", "10", "10", "0", "0", "0")


def test_orders_not_in_a_receipt_status_are_ignored():
    snap = Snapshot(
        params(),
        items=(Item("R"),),
        receipts=(
            ScheduledReceipt("MO1", "R", q(10), d(3), status=OrderStatus.PLANNED),
            ScheduledReceipt("MO2", "R", q(10), d(3), status=OrderStatus.DONE),
        ),
        sales_orders=(so("S1", "R", 5, d(4)),),
    )
    assert orders(run(snap), "R") == [("5", d(4), d(4))]


def test_forecast_is_consumed_by_orders_due_in_its_bucket():
    snap = Snapshot(
        params(),
        items=(Item("A"),),
        forecasts=(
            ForecastBucket("A", d(26, 10), q(40)),  # ended before today: expired
            ForecastBucket("A", d(2), q(100)),
            ForecastBucket("A", d(9), q(50)),
            ForecastBucket("A", d(16), q(30)),  # last bucket: open-ended
        ),
        sales_orders=(
            so("S1", "A", 30, d(4)),
            so("S2", "A", 80, d(10)),
            so("S3", "A", 10, d(20)),
            so("S4", "A", 5, d(25)),
        ),
    )
    result = run(snap)
    gross = [(r[0], r[1]) for r in rows(result, "A")]
    # 100 - 30 = 70 on the 2nd; 50 - 80 -> 0; 30 - 15 = 15 on the 16th.
    assert gross == [(d(2), "70"), (d(4), "30"), (d(10), "80"), (d(16), "15"), (d(20), "10"), (d(25), "5")]
    fc_peg = result.orders_of("A")[0].pegging[0]
    assert (fc_peg.kind, fc_peg.reference, fc_peg.quantity) == (PegKind.FORECAST, "2026-11-02", 70)


def test_a_forecast_bucket_started_before_today_counts_today_and_late_orders_consume_it():
    snap = Snapshot(
        params(),
        items=(Item("A"),),
        forecasts=(ForecastBucket("A", d(28, 10), q(20)), ForecastBucket("A", d(4), q(0))),
        sales_orders=(so("S1", "A", 5, d(30, 10)),),
    )
    # net forecast 20 - 5 = 15 at today; the late order counts today too.
    assert rows(run(snap), "A") == [(d(2), "20", "0", "0", "20", "20", "20")]


def test_period_rule_covers_the_next_working_days():
    snap = Snapshot(
        params(),
        items=(Item("A", lot_sizing=LotSizing(LotRule.PERIOD, periods=3)),),
        sales_orders=(so("S1", "A", 10, d(2)), so("S2", "A", 5, d(4)), so("S3", "A", 7, d(5))),
    )
    # [Mon 2, Thu 5) covers Mon and Wed: 15; then Thu 5 starts a new window: 7.
    assert orders(run(snap), "A") == [("15", d(2), d(2)), ("7", d(5), d(5))]


def test_period_rule_covers_safety_stock_over_the_window():
    snap = Snapshot(
        params(),
        items=(Item("A", safety_stock=q(4), lot_sizing=LotSizing(LotRule.PERIOD, periods=2)),),
        stock={"A": q(6)},
        receipts=(ScheduledReceipt("MO1", "A", q(3), d(4)),),
        sales_orders=(so("S1", "A", 5, d(3)), so("S2", "A", 9, d(4)), so("S3", "A", 1, d(5))),
    )
    # Tue 3: 6 - 5 = 1 < 4 (short 3); window [Tue 3, Thu 5): Wed 4: 1 + 3 - 9 = -5 (short 9) -> 9.
    # Wed 4 ends at 4; Thu 5: 4 - 1 = 3 < 4 -> 1.
    assert orders(run(snap), "A") == [("9", d(3), d(3)), ("1", d(5), d(5))]


def test_max_split_orders_share_dates_and_peg_in_turn():
    snap = Snapshot(
        params(),
        items=(Item("A", lot_sizing=LotSizing(min_qty=q(20), max_qty=q(50), multiple=q(6))),),
        sales_orders=(so("S1", "A", 130, d(4)),),
    )
    result = run(snap)
    assert orders(result, "A") == [("50", d(4), d(4)), ("50", d(4), d(4)), ("36", d(4), d(4))]
    assert [po.id for po in result.orders_of("A")] == ["A@2026-11-04#1", "A@2026-11-04#2", "A@2026-11-04#3"]
    assert [[p.quantity for p in po.pegging] for po in result.orders_of("A")] == [[50], [50], [30]]


def test_fixed_lot_excess_covers_later_requirements():
    snap = Snapshot(
        params(),
        items=(Item("A", lot_sizing=LotSizing(LotRule.FIXED, quantity=q(25))),),
        sales_orders=(so("S1", "A", 10, d(3)), so("S2", "A", 20, d(5))),
    )
    result = run(snap)
    # Tue: short 10 -> 25 (15 left); Thu: 15 - 20 = -5 -> 25.
    assert orders(result, "A") == [("25", d(3), d(3)), ("25", d(5), d(5))]
    first, second = result.orders_of("A")
    assert [(p.reference, p.quantity) for p in first.pegging] == [("S1", 10), ("S2", 15)]
    assert [(p.reference, p.quantity) for p in second.pegging] == [("S2", 5)]


def test_eoq_uses_the_annualised_gross_requirement():
    snap = Snapshot(
        params(horizon_days=73),
        items=(Item("A", standard_cost=q(20), lot_sizing=LotSizing(LotRule.EOQ)),),
        sales_orders=(so("S1", "A", 120, d(4)), so("S2", "A", 80, d(18))),
    )
    # 200 over 73 days = 1000 a year; sqrt(2 x 1000 x 100 / (0.25 x 20)) = 200.
    assert orders(run(snap), "A") == [("200", d(4), d(4))]


def test_firm_parent_orders_generate_dependent_demand_at_their_release():
    snap = Snapshot(
        params(),
        items=(Item("P"), Item("C")),
        bom=(BomLine("P", "C", q("2.5")),),
        parent_orders=(
            ParentOrder("MO7", "P", q(4), d(7)),  # Saturday -> Friday 6
            ParentOrder("MO8", "P", q(4), d(9), status=OrderStatus.RELEASED),  # already issued
        ),
    )
    result = run(snap)
    assert orders(result, "C") == [("10", d(6), d(6))]
    peg = result.orders_of("C")[0].pegging[0]
    assert (peg.kind, peg.reference, peg.parent_sku) == (PegKind.PARENT_ORDER, "MO7", "P")


def test_release_window_advises_orders_released_within_it():
    snap = Snapshot(
        params(release_window_days=3),
        items=(Item("A", lead_time_days=2),),
        sales_orders=(so("S1", "A", 1, d(6)), so("S2", "A", 2, d(10))),
    )
    # releases Wed 4 (within today + 3 days) and Fri 6 (not).
    assert actions(run(snap)) == [("release", "A@2026-11-06#1", "1", d(4), None)]


def test_low_level_codes_are_the_deepest_level():
    snap = Snapshot(
        params(),
        items=(Item("A"), Item("B"), Item("C")),
        bom=(BomLine("A", "B", q(1)), BomLine("B", "C", q(1)), BomLine("A", "C", q(1))),
    )
    result = run(snap)
    assert [result.record(s).low_level_code for s in "ABC"] == [0, 1, 2]


def test_a_bom_cycle_is_refused():
    snap = Snapshot(
        params(), items=(Item("A"), Item("B")), bom=(BomLine("A", "B", q(1)), BomLine("B", "A", q(1)))
    )
    with pytest.raises(ValueError, match="cycle"):
        run_mrp(snap)


def test_demand_for_an_unknown_sku_is_refused():
    snap = Snapshot(params(), items=(Item("A"),), sales_orders=(so("S1", "X", 1, d(3)),))
    with pytest.raises(ValueError, match="unknown sku"):
        run_mrp(snap)


def test_counts_summarise_the_plan():
    snap = Snapshot(params(), items=(Item("A", lead_time_days=1),), sales_orders=(so("S1", "A", 1, d(2)),))
    result = run(snap)
    assert result.counts["planned_orders"] == 1
    assert result.counts["actions_past_due"] == 1
    assert result.planned_orders[0].quantity == Decimal(1)
