"""Plant schedules: calendars, the union working-time model, frozen operations and setups, with
cases computed by hand (2026-03-02 is a Monday; times UTC)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

from services.scheduler.domain.calendar import WorkCalendar, WorkingTime
from services.scheduler.domain.cpsat import SolverParams, solve
from services.scheduler.domain.model import Objective
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
    operation_minutes,
    tardiness,
    to_plant,
    validate_plant,
)
from services.scheduler.domain.validator import validate

MON = datetime(2026, 3, 2, tzinfo=UTC)
DAY_SHIFT = {d: [["06:00", "14:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 2 + day, hour, minute, tzinfo=UTC)


def calendar(**extra: object) -> WorkCalendar:
    return WorkCalendar.from_record({"code": "day", "weekdays": DAY_SHIFT, **extra})


def plant(
    orders: list[PlantOrder],
    *,
    cal: WorkCalendar | None = None,
    machines: tuple[str, ...] = ("M1",),
    routing: tuple[RoutingOperation, ...] | None = None,
    **extra: object,
) -> PlantData:
    cal = cal or calendar()
    return PlantData(
        orders=tuple(orders),
        routings={"P": routing or (RoutingOperation(10, "WC", Decimal(0), Decimal(60)),)},
        work_centers={"WC": WorkCenter("WC", machines, cal.code)},
        calendars={cal.code: cal},
        **extra,  # type: ignore[arg-type]
    )


def order(oid: str = "MO1", qty: int = 10, due_day: int = 4, sku: str = "P") -> PlantOrder:
    return PlantOrder(oid, sku, Decimal(qty), MON, at(due_day + 1, 0))


def schedule(
    data: PlantData, now: datetime = MON, **kw: object
) -> tuple[PlantProblem, list[PlantAssignment]]:
    pp = build(data, now=now, horizon_days=14, **kw)  # type: ignore[arg-type]
    solution = solve(pp.problem, SolverParams(time_limit_s=2.0, num_workers=1))
    assert validate(pp.problem, solution.assignments) == []
    items = to_plant(pp, solution.assignments)
    assert validate_plant(pp, items) == []
    return pp, items


def real(pp: PlantProblem, item: PlantAssignment) -> tuple[datetime, datetime]:
    return pp.at(item.start), pp.at(item.end)


# -- calendars -------------------------------------------------------------------------------


def test_a_night_shift_crossing_midnight_belongs_to_the_day_it_starts_on() -> None:
    cal = WorkCalendar.from_record({"code": "n", "weekdays": {"mon": [["22:00", "06:00"]]}})
    assert cal.machine_intervals("M", MON, 0, 3 * 1440) == [(22 * 60, 30 * 60)]


def test_a_holiday_removes_the_shifts_starting_on_it() -> None:
    cal = calendar(holidays=["2026-03-03"])
    days = cal.machine_intervals("M", MON, 0, 3 * 1440)
    assert days == [(360, 840), (2 * 1440 + 360, 2 * 1440 + 840)]


def test_maintenance_cuts_shift_time_and_overtime_adds_time_outside_shifts() -> None:
    cal = calendar(
        exceptions=[
            {"start": "2026-03-02T10:00:00Z", "end": "2026-03-02T12:00:00Z", "kind": "maintenance"},
            {"start": "2026-03-02T13:00:00Z", "end": "2026-03-02T16:00:00Z", "kind": "overtime"},
            {
                "start": "2026-03-02T07:00:00Z",
                "end": "2026-03-02T08:00:00Z",
                "kind": "closed",
                "machine": "M2",
            },
        ]
    )
    assert cal.machine_intervals("M1", MON, 0, 1440) == [(360, 600), (720, 960)]
    assert cal.machine_intervals("M2", MON, 0, 1440) == [(360, 420), (480, 600), (720, 960)]


def test_working_time_counts_and_walks_working_minutes() -> None:
    work = WorkingTime([(360, 840), (1440 + 360, 1440 + 840)])
    assert work.minutes(0, 3000) == 960
    assert work.advance(360, 600) == 1440 + 480
    assert work.advance(800, 40) == 840
    assert work.advance(840, 1) == 1440 + 361
    assert work.advance(1440 + 800, 100) is None


def test_operation_minutes_are_setup_plus_quantity_times_run_over_efficiency_rounded_up() -> None:
    assert operation_minutes(Decimal(15), Decimal("2.5"), Decimal(10), Decimal("0.8")) == 50  # 40/0.8
    assert operation_minutes(Decimal(0), Decimal(1), Decimal(7), Decimal("0.9")) == 8  # 7.78


# -- plant schedules -------------------------------------------------------------------------


def test_an_operation_crossing_the_night_pauses_and_resumes_at_the_next_shift_start() -> None:
    pp, [op] = schedule(plant([order(qty=10)]))  # 600 working minutes, 480 a day
    assert op.duration == 600
    assert real(pp, op) == (at(0, 6), at(1, 8))


def test_a_holiday_is_skipped_by_a_running_operation() -> None:
    pp, [op] = schedule(plant([order(qty=10)], cal=calendar(holidays=["2026-03-03"])))
    assert real(pp, op) == (at(0, 6), at(2, 8))


def test_a_maintenance_window_of_the_only_machine_is_a_pause() -> None:
    cal = calendar(
        exceptions=[{"start": "2026-03-02T10:00:00Z", "end": "2026-03-02T12:00:00Z", "kind": "maintenance"}]
    )
    pp, [op] = schedule(plant([order(qty=5)], cal=cal))  # 300 minutes: 06–10, then 12–13
    assert real(pp, op) == (at(0, 6), at(0, 13))


def two_machines(cal: WorkCalendar, **extra: object) -> PlantData:
    routing = (RoutingOperation(10, "WC", Decimal(0), Decimal(60)),)
    return PlantData(
        orders=(order(qty=3), order("MO2", qty=1, sku="Q")),  # M2 works 08–10: not a plant-wide break
        routings={"P": routing, "Q": (RoutingOperation(10, "OTHER", Decimal(0), Decimal(1)),)},
        work_centers={"WC": WorkCenter("WC", ("M1",), "day"), "OTHER": WorkCenter("OTHER", ("M2",), "day")},
        calendars={"day": cal},
        **extra,  # type: ignore[arg-type]
    )


def test_a_calendar_break_of_one_machine_only_is_paused_across_like_a_night() -> None:
    cal = calendar(
        exceptions=[
            {
                "start": "2026-03-02T08:00:00Z",
                "end": "2026-03-02T10:00:00Z",
                "kind": "maintenance",
                "machine": "M1",
            }
        ]
    )
    pp, items = schedule(two_machines(cal))
    [op] = [a for a in items if a.job == "MO1"]
    assert real(pp, op) == (at(0, 6), at(0, 11))  # 06–08, pause, 10–11


def test_a_downtime_of_one_machine_only_is_waited_for_not_spanned() -> None:
    pp, items = schedule(two_machines(calendar(), downtimes=(Downtime("M1", at(0, 8), at(0, 10)),)))
    [op] = [a for a in items if a.job == "MO1"]
    assert real(pp, op) == (at(0, 10), at(0, 13))
    assert {w.pausable for w in pp.problem.unavailability if w.machine == "M1"} == {False}


def test_a_started_operation_is_frozen_and_the_next_one_follows_it() -> None:
    routing = (
        RoutingOperation(10, "WC", Decimal(0), Decimal(6)),
        RoutingOperation(20, "WC", Decimal(0), Decimal(6)),
    )
    frozen = (FrozenOperation("MO1", "10", "M1", at(0, 7), at(0, 8, 30), "started"),)
    pp, items = schedule(plant([order(qty=10)], routing=routing, frozen=frozen), now=at(0, 8))
    first, second = sorted(items, key=lambda a: a.start)
    assert (first.frozen, *real(pp, first)) == (True, at(0, 7), at(0, 8, 30))
    assert real(pp, second) == (at(0, 8, 30), at(0, 9, 30))


def test_freeze_keeps_finished_started_and_early_planned_operations() -> None:
    previous = [
        FrozenOperation("A", "10", "M1", at(0, 6), at(0, 7)),
        FrozenOperation("A", "20", "M1", at(0, 7), at(0, 9)),
        FrozenOperation("B", "10", "M2", at(0, 8), at(0, 9)),
        FrozenOperation("C", "10", "M1", at(0, 9), at(0, 10)),
        FrozenOperation("D", "10", "M3", at(0, 12), at(0, 13)),
    ]
    progress = {
        ("A", "10"): ("finished", "M1", at(0, 6), at(0, 7, 10)),
        ("A", "20"): ("started", "M1", at(0, 7, 10), None),
    }
    got = freeze(
        previous,
        progress,
        origin=MON,
        frozen_until=at(0, 11),
        downtimes=[Downtime("M2", at(0, 8, 30), None)],
    )
    assert {(f.job, f.operation): (f.reason, f.start, f.end) for f in got} == {
        ("A", "10"): ("finished", at(0, 6), at(0, 7, 10)),
        ("A", "20"): ("started", at(0, 7, 10), at(0, 9)),
        ("C", "10"): ("frozen", at(0, 9), at(0, 10)),
    }


def test_setups_between_families_run_in_working_time_before_the_operation() -> None:
    data = PlantData(
        orders=(order("MO1", qty=1, sku="A1"), order("MO2", qty=1, sku="B1")),
        routings={
            "A1": (RoutingOperation(10, "WC", Decimal(0), Decimal(60)),),
            "B1": (RoutingOperation(10, "WC", Decimal(0), Decimal(60)),),
        },
        work_centers={"WC": WorkCenter("WC", ("M1",), "day")},
        calendars={"day": calendar()},
        families={"A1": "red", "B1": "blue"},
        setup_matrices={"WC": {("red", "blue"): 30, ("blue", "red"): 45}},
    )
    pp, items = schedule(data, objective=(Objective.MAKESPAN,))
    first, second = sorted(items, key=lambda a: a.start)
    assert real(pp, first) == (at(0, 6), at(0, 7))
    assert second.setup == (30 if first.job == "MO1" else 45)
    assert pp.at(second.start) == at(0, 7, second.setup)


def test_a_setup_that_does_not_fit_before_the_night_runs_the_next_morning() -> None:
    data = PlantData(
        orders=(order("MO1", qty=470, sku="A1"), order("MO2", qty=60, sku="B1")),
        routings={
            "A1": (RoutingOperation(10, "WC", Decimal(0), Decimal(1)),),
            "B1": (RoutingOperation(10, "WC", Decimal(0), Decimal(1)),),
        },
        work_centers={"WC": WorkCenter("WC", ("M1",), "day")},
        calendars={"day": calendar()},
        families={"A1": "red", "B1": "blue"},
        setup_matrices={"WC": {("red", "blue"): 30, ("blue", "red"): 600}},
    )
    pp, items = schedule(data, objective=(Objective.MAKESPAN,))
    first, second = sorted(items, key=lambda a: a.start)
    # MO1 06:00–13:50, 10 minutes left that day, 20 of setup on Tuesday: MO2 06:20–07:20.
    assert (first.job, real(pp, first)) == ("MO1", (at(0, 6), at(0, 13, 50)))
    assert real(pp, second) == (at(1, 6, 20), at(1, 7, 20))


def test_a_downtime_makes_the_machine_unavailable_and_the_validator_sees_the_real_rule() -> None:
    data = plant([order(qty=2)], machines=("M1", "M2"), downtimes=(Downtime("M1", at(0, 0), None),))
    pp, [op] = schedule(data)
    assert op.machine == "M2"
    broken = PlantAssignment(
        op.job, op.operation, "M2", "WC", pp.minute(at(0, 13)), pp.minute(at(1, 7)), 120, 0
    )
    assert validate_plant(pp, [broken]) == []  # 60 + 60 working minutes across the night
    short = PlantAssignment(
        op.job, op.operation, "M2", "WC", pp.minute(at(0, 13)), pp.minute(at(1, 6, 30)), 120, 0
    )
    assert any("working minutes" in v for v in validate_plant(pp, [short]))


def test_tardiness_is_reported_in_clock_minutes_after_the_end_of_the_due_date() -> None:
    pp, items = schedule(plant([order(qty=10, due_day=0)]))  # due end of Monday, ends Tue 08:00
    assert tardiness(pp, items).per_job == {"MO1": 8 * 60}


# -- pausing across one machine's breaks while other machines work -----------------------------

THREE_SHIFTS = {
    d: [["00:00", "08:00"], ["08:00", "16:00"], ["16:00", "24:00"]]
    for d in ("mon", "tue", "wed", "thu", "fri", "sat")
}
ONE_SHIFT = {d: [["08:00", "16:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def wheel_plant(*orders: PlantOrder, lacing_hours: int = 47) -> PlantData:
    """Welding runs 3×8 Monday to Saturday; lacing one shift (08–16) Monday to Friday."""
    return PlantData(
        orders=orders,
        routings={
            "WHEEL": (
                RoutingOperation(10, "WELD", Decimal(0), Decimal(60)),
                RoutingOperation(20, "LACE", Decimal(0), Decimal(60 * lacing_hours)),
            ),
            "LACED": (RoutingOperation(10, "LACE", Decimal(0), Decimal(60)),),
        },
        work_centers={
            "WELD": WorkCenter("WELD", ("W1",), "3x8"),
            "LACE": WorkCenter("LACE", ("L1",), "1x8"),
        },
        calendars={
            "3x8": WorkCalendar.from_record({"code": "3x8", "weekdays": THREE_SHIFTS}),
            "1x8": WorkCalendar.from_record({"code": "1x8", "weekdays": ONE_SHIFT}),
        },
    )


def test_a_47_hour_operation_on_a_one_shift_machine_pauses_across_nights_and_a_weekend() -> None:
    pp, items = schedule(wheel_plant(PlantOrder("W", "WHEEL", Decimal(1), MON, at(14, 0))))
    assert {w.pausable for w in pp.problem.unavailability} == {True}
    weld, lace = sorted(items, key=lambda a: a.start)
    assert (weld.machine, real(pp, weld)) == ("W1", (at(0, 0), at(0, 1)))
    # Monday to Friday 08–16 is 40 hours (nights and Saturday, when welding works, are paused
    # across; Sunday nobody works), then 7 hours on the next Monday.
    assert (lace.machine, lace.duration) == ("L1", 47 * 60)
    assert real(pp, lace) == (at(0, 8), at(7, 15))
    assert pp.machine_time["L1"].minutes(lace.start, lace.end) == 47 * 60


def test_two_operations_pausing_on_one_machine_never_interleave() -> None:
    data = wheel_plant(
        PlantOrder("A", "LACED", Decimal(10), MON, at(14, 0)),
        PlantOrder("B", "LACED", Decimal(10), MON, at(14, 0)),
        PlantOrder("F", "WHEEL", Decimal(1), MON, at(14, 0)),
    )
    pp, items = schedule(data, objective=(Objective.MAKESPAN,))
    lacing = sorted((a for a in items if a.machine == "L1"), key=lambda a: a.start)
    assert [a.duration for a in lacing] == [600, 600, 47 * 60]
    for a, b in itertools.pairwise(lacing):
        assert a.end <= b.start
    first, second, third = (real(pp, a) for a in lacing)
    assert first == (at(0, 8), at(1, 10))  # Mon 08–16, Tue 08–10
    assert second == (at(1, 10), at(2, 12))  # Tue 10–16, Wed 08–12
    assert third[0] == at(2, 12)


def test_the_plant_validator_rejects_an_operation_that_misses_working_minutes_across_a_pause() -> None:
    pp, items = schedule(wheel_plant(PlantOrder("W", "WHEEL", Decimal(1), MON, at(14, 0)), lacing_hours=10))
    lace = next(a for a in items if a.machine == "L1")
    assert real(pp, lace) == (at(0, 8), at(1, 10))
    short = PlantAssignment(
        lace.job, lace.operation, "L1", "LACE", lace.start, pp.minute(at(1, 9)), lace.duration, 0
    )
    assert any(
        "working minutes" in v for v in validate_plant(pp, [*(a for a in items if a is not lace), short])
    )
