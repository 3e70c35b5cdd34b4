"""Capacity and load per bucket, hand-computed on March–April 2026 (Monday 2026-03-02)."""

from __future__ import annotations

import math
from datetime import date

import pytest

from services.capacity.domain.load import BucketGrid, BucketSize, bucket_grid, compute_load
from services.capacity.domain.model import PlannedOperation
from tests.unit.capacity.builders import ONE_SHIFT, at, calendar


def op(
    start: str, end: str, minutes: float, *, wc: str = "WC", machine: str | None = None
) -> PlannedOperation:
    return PlannedOperation("MO", 10, wc, at(start), at(end), minutes, machine)


def week_of_days() -> BucketGrid:
    return bucket_grid(BucketSize.DAY, date(2026, 3, 2), date(2026, 3, 9))


def test_daily_capacity_is_shift_minutes_times_machines_minus_downtime_plus_overtime() -> None:
    grid = week_of_days()
    exceptions = [
        {"start": "2026-03-02T06:00", "end": "2026-03-02T10:00", "kind": "maintenance"},
        {"start": "2026-03-03T14:00", "end": "2026-03-03T22:00", "kind": "closed", "machine": "M1"},
        {"start": "2026-03-07T06:00", "end": "2026-03-07T12:00", "kind": "overtime"},
    ]
    cal = calendar(machines=("M1", "M2"), start=grid.first_date, end=grid.end_date, exceptions=exceptions)
    profile = compute_load({"WC": cal}, [], grid)
    # Mon (960 − 240) × 2; Tue 960 + 480 (M1 closed in the afternoon); Wed–Fri 960 × 2;
    # Sat overtime 360 × 2; Sun nothing.
    assert profile.capacity[0].tolist() == [1440, 1440, 1920, 1920, 1920, 720, 0]


def test_a_night_shift_gives_capacity_to_both_days_it_covers() -> None:
    grid = week_of_days()
    cal = calendar(shifts=[["22:00", "06:00"]], start=grid.first_date, end=grid.end_date)
    profile = compute_load({"WC": cal}, [], grid)
    # Mon 22–24 = 120; Tue–Fri 00–06 + 22–24 = 480; Sat 00–06 = 360.
    assert profile.capacity[0].tolist() == [120, 480, 480, 480, 480, 360, 0]


def test_an_operation_is_spread_over_two_days_in_proportion_to_its_working_minutes() -> None:
    grid = week_of_days()
    cal = calendar(start=grid.first_date, end=grid.end_date)
    # Mon 21:00–22:00 = 60 working minutes, Tue 06:00–09:00 = 180: 200 min split 50 / 150.
    profile = compute_load({"WC": cal}, [op("2026-03-02T21:00", "2026-03-03T09:00", 200)], grid)
    assert profile.load[0].tolist() == [50, 150, 0, 0, 0, 0, 0]


def test_the_spread_follows_the_calendar_of_the_operations_machine() -> None:
    grid = week_of_days()
    down = {"start": "2026-03-02T21:00", "end": "2026-03-02T22:00", "kind": "maintenance", "machine": "M1"}
    cal = calendar(machines=("M1", "M2"), start=grid.first_date, end=grid.end_date, exceptions=[down])
    ops = [
        # On M1: Mon 20–21 = 60 and Tue 06–07 = 60 → 60 / 60.
        op("2026-03-02T20:00", "2026-03-03T07:00", 120, machine="M1"),
        # No machine: reference calendar, Mon 20–22 = 120 and Tue 06–07 = 60 → 80 / 40.
        op("2026-03-02T20:00", "2026-03-03T07:00", 120),
    ]
    profile = compute_load({"WC": cal}, ops, grid)
    assert profile.pieces_of(0) == [(0, 60.0), (1, 60.0)]
    assert profile.pieces_of(1) == [(0, 80.0), (1, 40.0)]


def test_week_buckets_start_on_monday_and_lose_a_holiday() -> None:
    grid = bucket_grid("week", date(2026, 3, 4), date(2026, 3, 21))
    assert grid.dates == (date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16), date(2026, 3, 23))
    cal = calendar(start=grid.first_date, end=grid.end_date, holidays=["2026-03-11"])
    profile = compute_load({"WC": cal}, [op("2026-03-06T21:00", "2026-03-09T07:00", 120)], grid)
    assert profile.capacity[0].tolist() == [4800, 3840, 4800]
    # Fri 21–22 and Mon 06–07: one hour in each week.
    assert profile.load[0].tolist() == [60, 60, 0]


def test_month_buckets_count_working_days_and_overtime() -> None:
    grid = bucket_grid(BucketSize.MONTH, date(2026, 3, 1), date(2026, 4, 30))
    overtime = {"start": "2026-03-07T06:00", "end": "2026-03-07T12:00", "kind": "overtime"}
    cal = calendar(shifts=ONE_SHIFT, start=grid.first_date, end=grid.end_date, exceptions=[overtime])
    # Mar 31 08–14 = 360 and Apr 1 06–10 = 240 working minutes.
    profile = compute_load({"WC": cal}, [op("2026-03-31T08:00", "2026-04-01T10:00", 600)], grid)
    # 22 weekdays in each month × 480, plus 360 of Saturday overtime in March.
    assert profile.capacity[0].tolist() == [10920, 10560]
    assert profile.load[0].tolist() == [360, 240]


def test_reports_utilisation_overloads_idle_buckets_and_the_bottleneck() -> None:
    grid = bucket_grid(BucketSize.DAY, date(2026, 3, 2), date(2026, 3, 7))
    cals = {
        code: calendar(code, shifts=ONE_SHIFT, start=grid.first_date, end=grid.end_date)
        for code in ("A", "B")
    }
    ops = [
        op("2026-03-02T06:00", "2026-03-02T14:00", 600, wc="A"),
        op("2026-03-03T06:00", "2026-03-03T08:00", 120, wc="B"),
    ]
    profile = compute_load(cals, ops, grid)
    assert [(c.work_center, c.bucket_start, c.utilisation) for c in profile.overloaded()] == [
        ("A", date(2026, 3, 2), 1.25)
    ]
    idle = [(c.work_center, c.bucket_start.day) for c in profile.idle()]
    assert idle == [("A", 3), ("A", 4), ("A", 5), ("A", 6), ("B", 2), ("B", 3), ("B", 4), ("B", 5), ("B", 6)]
    bottleneck = profile.bottleneck()
    assert bottleneck is not None
    # A: 600 / (5 × 480) = 0.25; B: 120 / 2400 = 0.05.
    assert (bottleneck.work_center, bottleneck.utilisation) == ("A", 0.25)


def test_load_on_a_day_without_capacity_has_infinite_utilisation() -> None:
    grid = week_of_days()
    cal = calendar(start=grid.first_date, end=grid.end_date)
    # A zero-length operation on Saturday: its minutes stay in the bucket of its start.
    profile = compute_load({"WC": cal}, [op("2026-03-07T10:00", "2026-03-07T10:00", 30)], grid)
    saturday = profile.cell("WC", 5)
    assert (saturday.load_minutes, saturday.capacity_minutes) == (30, 0)
    assert math.isinf(saturday.utilisation)


def test_minutes_outside_the_grid_are_reported_apart() -> None:
    grid = bucket_grid(BucketSize.DAY, date(2026, 3, 3), date(2026, 3, 5))
    cal = calendar(start=date(2026, 3, 2), end=grid.end_date)
    # Mon 20–22 (before the grid) = 120 and Tue 06–08 = 120.
    profile = compute_load({"WC": cal}, [op("2026-03-02T20:00", "2026-03-03T08:00", 240)], grid)
    assert profile.load[0].tolist() == [120, 0]
    assert profile.outside_minutes.tolist() == [120]


def test_an_operation_on_an_unknown_work_center_is_refused() -> None:
    grid = week_of_days()
    with pytest.raises(KeyError, match="ZZ"):
        compute_load({"WC": calendar()}, [op("2026-03-02T06:00", "2026-03-02T07:00", 60, wc="ZZ")], grid)
