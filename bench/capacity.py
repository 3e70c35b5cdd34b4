"""Capacity: 50k operations on 500 work centers, daily buckets over six months (target < 5 s).

The whole analysis as the service runs it: build the calendars, place every operation backward
and forward (milestones), compute load versus capacity per day, find overloads and the bottleneck.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from bench.common import machine, timed, write_section
from services.capacity.domain.calendar import (
    CalendarException,
    CalendarSpec,
    ExceptionKind,
    Shift,
    build_work_center_calendars,
)
from services.capacity.domain.load import bucket_grid, compute_load
from services.capacity.domain.milestones import Direction, plan_order
from services.capacity.domain.model import ManufacturingOrder, RoutingOperation, WorkCenter

START = date(2026, 1, 5)
END = date(2026, 7, 6)


def calendars() -> dict[str, CalendarSpec]:
    one = (Shift.parse("08:00", "16:00"),)
    two = (Shift.parse("06:00", "14:00"), Shift.parse("14:00", "22:00"))
    three = (*two, Shift.parse("22:00", "06:00"))
    holidays = frozenset({date(2026, 4, 6), date(2026, 5, 1), date(2026, 5, 14), date(2026, 5, 25)})
    maintenance = tuple(
        CalendarException(
            start=datetime(2026, m, 10, 6, tzinfo=UTC),
            end=datetime(2026, m, 10, 14, tzinfo=UTC),
            kind=ExceptionKind.MAINTENANCE,
        )
        for m in range(1, 7)
    )
    week = range(5)
    return {
        "1x8": CalendarSpec(weekdays=dict.fromkeys(week, one), holidays=holidays),
        "2x8": CalendarSpec(weekdays=dict.fromkeys(week, two), holidays=holidays, exceptions=maintenance),
        "3x8": CalendarSpec(weekdays=dict.fromkeys(week, three), holidays=holidays),
        "2x8+sat": CalendarSpec(weekdays={**dict.fromkeys(week, two), 5: one}, holidays=holidays),
    }


Scenario = tuple[dict[str, CalendarSpec], list[tuple[str, str, list[str]]], list[ManufacturingOrder]]


def scenario(n_wc: int = 500, n_orders: int = 10_000, ops_per_order: int = 5, seed: int = 7) -> Scenario:
    rng = random.Random(seed)
    specs = calendars()
    names = list(specs)
    wcs = [
        (f"WC{i:03d}", names[i % len(names)], [f"WC{i:03d}-M{m}" for m in range(1 + i % 3)])
        for i in range(n_wc)
    ]
    orders = []
    for o in range(n_orders):
        release = START + timedelta(days=rng.randrange(0, 150))
        due = release + timedelta(days=rng.randrange(5, 25))
        ops = tuple(
            RoutingOperation(
                seq=10 * (k + 1),
                work_center=wcs[rng.randrange(n_wc)][0],
                setup_minutes=float(rng.choice((0, 15, 30, 60))),
                run_minutes_per_unit=round(rng.uniform(0.2, 3.0), 2),
            )
            for k in range(ops_per_order)
        )
        orders.append(ManufacturingOrder(f"MO{o:05d}", float(rng.randrange(10, 200)), release, due, ops))
    return specs, wcs, orders


def run() -> str:
    specs, wcs, orders = scenario()
    t: dict[str, float] = {}
    with timed("calendars of 500 work centers", t):
        cals = build_work_center_calendars(wcs, specs, START - timedelta(days=60), END + timedelta(days=60))
        centers = {
            code: WorkCenter(code, cal, efficiency=0.9, hourly_cost=60.0) for code, cal in cals.items()
        }
    with timed("milestones, backward and forward (10k orders)", t):
        plans = [plan_order(o, centers, (Direction.FORWARD, Direction.BACKWARD)) for o in orders]
    ops = [op for p in plans for op in p.planned_operations(Direction.BACKWARD)]
    with timed("load vs capacity, daily buckets", t):
        grid = bucket_grid("day", START, END)
        profile = compute_load(cals, ops, grid)
    with timed("overloads and bottleneck", t):
        over = profile.overloaded()
        neck = profile.bottleneck()
    total = sum(t.values())
    lines = [
        "## Capacity analysis: 50k operations, 500 work centers, six months of daily buckets",
        "",
        f"Machine: {machine()}. Target: under 5 s for the whole analysis.",
        "",
        "| step | seconds |",
        "|---|---|",
        *(f"| {k} | {v:.2f} |" for k, v in t.items()),
        f"| **total** | **{total:.2f}** |",
        "",
        f"{len(ops):,} operations placed, {len(grid)} buckets × {len(cals)} work centers, "
        f"{len(over):,} overloaded cells, bottleneck {neck.work_center if neck else '-'}.",
    ]
    return "\n".join(lines)


def main() -> None:
    text = run()
    print(text)
    write_section("capacity", text)


if __name__ == "__main__":
    main()
