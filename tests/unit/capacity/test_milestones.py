"""Milestones at infinite capacity, hand-computed (two shifts 06–22 Mon–Fri unless said otherwise)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest

from services.capacity.domain.calendar import HorizonExceeded
from services.capacity.domain.milestones import (
    Direction,
    OperationMilestone,
    plan_order,
    schedule_backward,
    schedule_forward,
)
from services.capacity.domain.model import ManufacturingOrder, RoutingOperation, operation_minutes
from tests.unit.capacity.builders import iso, work_center

# Q = 300: op 10 = 60 + 300 × 2 = 660 min, op 20 = 30 + 300 × 5 = 1530 min.
ROUTING = (
    RoutingOperation(10, "WC", setup_minutes=60, run_minutes_per_unit=2),
    RoutingOperation(20, "WC", setup_minutes=30, run_minutes_per_unit=5),
)


def order(
    release: date, due: date, operations: tuple[RoutingOperation, ...] = ROUTING, qty: float = 300
) -> ManufacturingOrder:
    return ManufacturingOrder("MO-1", qty, release, due, operations)


def spans(milestones: Sequence[OperationMilestone]) -> list[tuple[str, str]]:
    return [(iso(m.start), iso(m.end)) for m in milestones]


def test_operation_time_is_setup_plus_quantity_times_run_over_efficiency() -> None:
    assert operation_minutes(20, 10, 7, 0.8) == 112.5


def test_backward_ends_at_the_due_dates_last_shift_and_crosses_the_weekend() -> None:
    wcs = {"WC": work_center()}
    placed = schedule_backward(order(date(2026, 3, 2), date(2026, 3, 9)), wcs)
    # op 20: Mon 06–22 = 960, 570 more on Friday → Fri 12:30. op 10: Fri 06:00–12:30 = 390,
    # 270 more on Thursday → Thu 17:30.
    assert spans(placed) == [
        ("2026-03-05T17:30", "2026-03-06T12:30"),
        ("2026-03-06T12:30", "2026-03-09T22:00"),
    ]
    assert [m.minutes for m in placed] == [660, 1530]


def test_forward_starts_at_the_first_shift_of_the_release_date_and_crosses_the_weekend() -> None:
    wcs = {"WC": work_center()}
    placed = schedule_forward(order(date(2026, 3, 5), date(2026, 3, 9)), wcs)
    # op 10: Thu 06:00 + 660 = 17:00. op 20: Thu 17–22 = 300, Fri 960, Mon 270 → Mon 10:30.
    assert spans(placed) == [
        ("2026-03-05T06:00", "2026-03-05T17:00"),
        ("2026-03-05T17:00", "2026-03-09T10:30"),
    ]


def test_slack_is_the_working_time_between_forward_and_backward_starts() -> None:
    wcs = {"WC": work_center()}
    plan = plan_order(order(date(2026, 3, 5), date(2026, 3, 9)), wcs)
    # op 10: Thu 06:00 → Thu 17:30 = 690; op 20: Thu 17:00 → Fri 12:30 = 300 + 390 = 690.
    assert plan.operation_slack == (690, 690)
    assert plan.slack_minutes == 690


def test_an_order_that_cannot_make_its_due_date_has_negative_slack() -> None:
    wcs = {"WC": work_center()}
    plan = plan_order(order(date(2026, 3, 6), date(2026, 3, 9)), wcs)
    # Forward from Fri 06:00 ends Tue 10:30, 270 working minutes after Mon 22:00.
    assert plan.slack_minutes == -270


def test_a_due_date_on_a_holiday_ends_with_the_previous_working_days_last_shift() -> None:
    wcs = {"WC": work_center(holidays=["2026-03-04"])}
    one_op = (RoutingOperation(10, "WC", setup_minutes=0, run_minutes_per_unit=1),)
    placed = schedule_backward(order(date(2026, 3, 2), date(2026, 3, 4), one_op, qty=120), wcs)
    assert spans(placed) == [("2026-03-03T20:00", "2026-03-03T22:00")]


def test_forward_skips_a_holiday() -> None:
    wcs = {"WC": work_center(holidays=["2026-03-04"])}
    one_op = (RoutingOperation(10, "WC", setup_minutes=0, run_minutes_per_unit=1),)
    placed = schedule_forward(order(date(2026, 3, 3), date(2026, 3, 9), one_op, qty=1080), wcs)
    # Tuesday 960, Wednesday off, Thu 06:00 + 120.
    assert spans(placed) == [("2026-03-03T06:00", "2026-03-05T08:00")]


def test_forward_pauses_during_a_maintenance_window() -> None:
    down = {"start": "2026-03-03T08:00", "end": "2026-03-03T10:00", "kind": "maintenance"}
    wcs = {"WC": work_center(exceptions=[down])}
    one_op = (RoutingOperation(10, "WC", setup_minutes=0, run_minutes_per_unit=1),)
    placed = schedule_forward(order(date(2026, 3, 3), date(2026, 3, 9), one_op, qty=300), wcs)
    # 06–08 = 120, resume at 10:00 for 180 → 13:00.
    assert spans(placed) == [("2026-03-03T06:00", "2026-03-03T13:00")]


def test_forward_uses_overtime_on_a_saturday() -> None:
    overtime = {"start": "2026-03-07T06:00", "end": "2026-03-07T12:00", "kind": "overtime"}
    wcs = {"WC": work_center(exceptions=[overtime])}
    one_op = (RoutingOperation(10, "WC", setup_minutes=0, run_minutes_per_unit=1),)
    placed = schedule_forward(order(date(2026, 3, 6), date(2026, 3, 9), one_op, qty=1200), wcs)
    # Friday 960, Saturday 06:00 + 240.
    assert spans(placed) == [("2026-03-06T06:00", "2026-03-07T10:00")]


def test_backward_end_is_where_work_stopped_not_where_the_next_operation_resumes() -> None:
    wcs = {"WC": work_center()}
    ops = (
        RoutingOperation(10, "WC", setup_minutes=60, run_minutes_per_unit=0),
        RoutingOperation(20, "WC", setup_minutes=360, run_minutes_per_unit=0),
    )
    placed = schedule_backward(order(date(2026, 3, 2), date(2026, 3, 9), ops, qty=1), wcs)
    # op 20 wants 360 min before Mon 22:00 → 16:00; op 10 ends there.
    assert spans(placed) == [
        ("2026-03-09T15:00", "2026-03-09T16:00"),
        ("2026-03-09T16:00", "2026-03-09T22:00"),
    ]
    ops_over_weekend = (
        RoutingOperation(10, "WC", setup_minutes=60, run_minutes_per_unit=0),
        RoutingOperation(20, "WC", setup_minutes=960, run_minutes_per_unit=0),
    )
    placed = schedule_backward(order(date(2026, 3, 2), date(2026, 3, 9), ops_over_weekend, qty=1), wcs)
    # op 20 fills Monday and starts Mon 06:00; op 10 ends Fri 22:00, not Mon 06:00.
    assert spans(placed) == [
        ("2026-03-06T21:00", "2026-03-06T22:00"),
        ("2026-03-09T06:00", "2026-03-09T22:00"),
    ]


def test_efficiency_below_one_lengthens_the_operation_to_the_started_minute() -> None:
    wcs = {"WC": work_center(efficiency=0.8)}
    one_op = (RoutingOperation(10, "WC", setup_minutes=20, run_minutes_per_unit=7),)
    (placed,) = schedule_forward(order(date(2026, 3, 2), date(2026, 3, 9), one_op, qty=10), wcs)
    # (20 + 70) / 0.8 = 112.5 min, occupying 113 working minutes: 06:00 → 07:53.
    assert placed.minutes == 112.5
    assert placed.working_minutes == 113
    assert (iso(placed.start), iso(placed.end)) == ("2026-03-02T06:00", "2026-03-02T07:53")


def test_with_two_machines_an_operation_runs_on_the_one_that_finishes_first() -> None:
    down = {"start": "2026-03-02T06:00", "end": "2026-03-02T10:00", "kind": "maintenance", "machine": "M1"}
    wcs = {"WC": work_center(machines=("M1", "M2"), exceptions=[down])}
    one_op = (RoutingOperation(10, "WC", setup_minutes=0, run_minutes_per_unit=1),)
    (placed,) = schedule_forward(order(date(2026, 3, 2), date(2026, 3, 9), one_op, qty=120), wcs)
    assert placed.machine == "M2"
    assert (iso(placed.start), iso(placed.end)) == ("2026-03-02T06:00", "2026-03-02T08:00")


def test_with_two_identical_machines_the_operation_still_takes_its_full_time_on_one() -> None:
    wcs = {"WC": work_center(machines=("M1", "M2"))}
    one_op = (RoutingOperation(10, "WC", setup_minutes=0, run_minutes_per_unit=1),)
    (placed,) = schedule_forward(order(date(2026, 3, 2), date(2026, 3, 9), one_op, qty=1200), wcs)
    assert placed.machine == "M1"
    assert (iso(placed.start), iso(placed.end)) == ("2026-03-02T06:00", "2026-03-03T10:00")


def test_night_shift_milestones_cross_midnight() -> None:
    wcs = {"WC": work_center(shifts=[["22:00", "06:00"]])}
    one_op = (RoutingOperation(10, "WC", setup_minutes=0, run_minutes_per_unit=1),)
    (forward,) = schedule_forward(order(date(2026, 3, 3), date(2026, 3, 6), one_op, qty=600), wcs)
    # Tue 22:00 + 480 = Wed 06:00, then Wed 22:00 + 120 = Thu 00:00.
    assert (iso(forward.start), iso(forward.end)) == ("2026-03-03T22:00", "2026-03-05T00:00")
    (backward,) = schedule_backward(order(date(2026, 3, 3), date(2026, 3, 6), one_op, qty=600), wcs)
    # Friday's night shift ends Sat 06:00: 480 back to Fri 22:00, 120 more from Fri 06:00 → Fri 04:00.
    assert (iso(backward.start), iso(backward.end)) == ("2026-03-06T04:00", "2026-03-07T06:00")


def test_planned_operations_carry_their_move_window() -> None:
    wcs = {"WC": work_center()}
    plan = plan_order(order(date(2026, 3, 5), date(2026, 3, 9)), wcs)
    ops = plan.planned_operations(Direction.FORWARD)
    assert [(iso(o.start), iso(o.earliest_start or 0), iso(o.latest_end or 0)) for o in ops] == [
        ("2026-03-05T06:00", "2026-03-05T06:00", "2026-03-06T12:30"),
        ("2026-03-05T17:00", "2026-03-05T17:00", "2026-03-09T22:00"),
    ]


def test_an_order_beyond_the_calendar_horizon_is_refused() -> None:
    wcs = {"WC": work_center(end=date(2026, 3, 7))}
    with pytest.raises(HorizonExceeded):
        schedule_forward(order(date(2026, 3, 6), date(2026, 3, 9)), wcs)
