"""Working-time calendar: hand-computed on the week of Monday 2026-03-02 (two shifts 06–22 Mon–Fri)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from services.capacity.domain.calendar import HorizonExceeded, Shift
from tests.unit.capacity.builders import at, calendar, iso


def test_counts_working_minutes_across_a_weekend() -> None:
    working = calendar().reference
    # Fri 10:00–22:00 = 720, nothing on Sat/Sun, Mon 06:00–10:00 = 240.
    assert working.working_minutes(at("2026-03-06T10:00"), at("2026-03-09T10:00")) == 960


def test_adds_working_time_over_a_weekend_to_monday_morning() -> None:
    working = calendar().reference
    # 120 min until Fri 22:00, the other 60 from Mon 06:00.
    assert iso(working.add_working(at("2026-03-06T20:00"), 180)) == "2026-03-09T07:00"


def test_adding_exactly_up_to_the_end_of_a_shift_stops_at_that_end() -> None:
    working = calendar().reference
    assert iso(working.add_working(at("2026-03-06T20:00"), 120)) == "2026-03-06T22:00"


def test_subtracting_stops_at_a_shift_start_and_crosses_the_weekend_backwards() -> None:
    working = calendar().reference
    assert iso(working.sub_working(at("2026-03-09T07:00"), 60)) == "2026-03-09T06:00"
    assert iso(working.sub_working(at("2026-03-09T07:00"), 180)) == "2026-03-06T20:00"


def test_a_holiday_removes_the_whole_day() -> None:
    working = calendar(holidays=["2026-03-04"]).reference
    # Tue 21:00–22:00 = 60, Wednesday is off, Thu 06:00 + 60.
    assert iso(working.add_working(at("2026-03-03T21:00"), 120)) == "2026-03-05T07:00"
    assert working.working_minutes(at("2026-03-04T00:00"), at("2026-03-05T00:00")) == 0


def test_maintenance_removes_only_the_shift_time_it_overlaps() -> None:
    maintenance = {"start": "2026-03-03T04:00", "end": "2026-03-03T07:00", "kind": "maintenance"}
    working = calendar(exceptions=[maintenance]).reference
    # Only 06:00–07:00 was shift time: Tuesday keeps 960 − 60 = 900 minutes, starting at 07:00.
    assert working.working_minutes(at("2026-03-03T00:00"), at("2026-03-04T00:00")) == 900
    assert iso(working.first_shift_start(date(2026, 3, 3))) == "2026-03-03T07:00"


def test_closed_window_in_the_middle_of_a_shift_splits_it() -> None:
    closed = {"start": "2026-03-03T10:00", "end": "2026-03-03T12:00", "kind": "closed"}
    working = calendar(exceptions=[closed]).reference
    # 06:00–10:00 = 240, then resume at 12:00 for the other 60.
    assert iso(working.add_working(at("2026-03-03T06:00"), 300)) == "2026-03-03T13:00"


def test_overtime_on_a_saturday_adds_working_time_and_a_shift_start() -> None:
    overtime = {"start": "2026-03-07T08:00", "end": "2026-03-07T12:00", "kind": "overtime"}
    working = calendar(exceptions=[overtime]).reference
    assert iso(working.first_shift_start(date(2026, 3, 7))) == "2026-03-07T08:00"
    assert iso(working.last_shift_end(date(2026, 3, 7))) == "2026-03-07T12:00"
    # Fri 21:00–22:00 = 60, then Sat 08:00 + 60.
    assert iso(working.add_working(at("2026-03-06T21:00"), 120)) == "2026-03-07T09:00"


def test_overtime_adds_only_the_time_outside_shifts() -> None:
    overtime = {"start": "2026-03-02T20:00", "end": "2026-03-02T23:30", "kind": "overtime"}
    working = calendar(exceptions=[overtime]).reference
    # 20:00–22:00 was already a shift: only 22:00–23:30 is added, 960 + 90.
    assert working.working_minutes(at("2026-03-02T00:00"), at("2026-03-03T00:00")) == 1050


def test_a_night_shift_crosses_midnight_and_belongs_to_the_day_it_starts() -> None:
    working = calendar(shifts=[["22:00", "06:00"]]).reference
    assert iso(working.first_shift_start(date(2026, 3, 3))) == "2026-03-03T22:00"
    assert iso(working.last_shift_end(date(2026, 3, 6))) == "2026-03-07T06:00"
    # Tue 22:00 + 480 = Wed 06:00; then Wed 22:00 + 120.
    assert iso(working.add_working(at("2026-03-03T22:00"), 600)) == "2026-03-05T00:00"


def test_a_holiday_keeps_the_night_shift_started_the_evening_before() -> None:
    working = calendar(shifts=[["22:00", "06:00"]], holidays=["2026-03-03"]).reference
    # Monday's night shift runs until Tue 06:00; Tuesday's own night shift is gone.
    assert iso(working.last_shift_end(date(2026, 3, 2))) == "2026-03-03T06:00"
    assert working.working_minutes(at("2026-03-03T00:00"), at("2026-03-04T00:00")) == 360


def test_days_without_shifts_point_to_the_neighbouring_working_days() -> None:
    working = calendar().reference
    assert iso(working.first_shift_start(date(2026, 3, 7))) == "2026-03-09T06:00"
    assert iso(working.last_shift_end(date(2026, 3, 8))) == "2026-03-06T22:00"


def test_a_machine_exception_applies_to_that_machine_only() -> None:
    down = {"start": "2026-03-02T06:00", "end": "2026-03-02T10:00", "kind": "maintenance", "machine": "M1"}
    cal = calendar(machines=("M1", "M2"), exceptions=[down])
    monday = (at("2026-03-02T00:00"), at("2026-03-03T00:00"))
    assert cal.machines["M1"].working_minutes(*monday) == 720
    assert cal.machines["M2"].working_minutes(*monday) == 960
    assert cal.reference.working_minutes(*monday) == 960


def test_shifts_are_wall_clock_times_of_the_plant_time_zone() -> None:
    paris = ZoneInfo("Europe/Paris")
    working = calendar(shifts=[["00:00", "06:00"]], days=("sun", "mon"), tz="Europe/Paris").reference
    # Winter: Monday 00:00 in Paris is Sunday 23:00 UTC, 06:00 is 05:00 UTC.
    assert iso(working.first_shift_start(date(2026, 3, 9))) == "2026-03-08T23:00"
    assert iso(working.last_shift_end(date(2026, 3, 9))) == "2026-03-09T05:00"
    assert iso(working.last_shift_end(date(2026, 3, 9)), paris) == "2026-03-09T06:00"
    # 2026-03-29: clocks jump from 02:00 to 03:00, the Sunday shift lasts 5 hours.
    sunday = (at("2026-03-29T00:00", paris), at("2026-03-30T00:00", paris))
    assert working.working_minutes(*sunday) == 300


def test_asking_beyond_the_horizon_raises() -> None:
    working = calendar(end=date(2026, 3, 7)).reference
    with pytest.raises(HorizonExceeded):
        working.add_working(at("2026-03-06T21:00"), 61)
    with pytest.raises(HorizonExceeded):
        working.sub_working(at("2026-03-02T07:00"), 61)


def test_parses_shift_times_including_24_00_and_midnight_crossing() -> None:
    assert Shift.parse("14:00", "24:00").length == 600
    assert Shift.parse("22:00", "06:00").length == 480
    with pytest.raises(ValueError, match="HH:MM"):
        Shift.parse("6h", "14:00")
