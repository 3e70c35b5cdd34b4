from datetime import date

from services.masterdata.domain.calendar import is_working_day, parse_time, weekly_shift_minutes
from services.masterdata.domain.model import Calendar


def test_parses_hh_mm_and_accepts_24_00_only_as_an_end() -> None:
    assert parse_time("06:30") == 390
    assert parse_time("24:00") is None
    assert parse_time("24:00", as_end=True) == 1440
    assert [parse_time(t) for t in ("6:30", "06:60", "0630", "ab:cd", "")] == [None] * 5


def test_weekly_minutes_count_a_night_shift_on_the_day_it_starts() -> None:
    cal = Calendar(
        "two-shifts",
        {"mon": (("06:00", "14:00"), ("22:00", "06:00")), "sat": (("08:00", "12:00"),), "sun": ()},
    )
    week = weekly_shift_minutes(cal)
    assert week.minutes_by_weekday == {
        "mon": 960,
        "tue": 0,
        "wed": 0,
        "thu": 0,
        "fri": 0,
        "sat": 240,
        "sun": 0,
    }
    assert week.total_minutes == 1200
    assert week.working_weekdays == ("mon", "sat")


def test_a_holiday_or_a_day_without_shift_is_not_a_working_day() -> None:
    cal = Calendar("plant", {"mon": (("00:00", "24:00"),)}, holidays=(date(2026, 3, 9),))
    assert is_working_day(cal, date(2026, 3, 2))  # a Monday
    assert not is_working_day(cal, date(2026, 3, 9))  # a Monday holiday
    assert not is_working_day(cal, date(2026, 3, 3))  # a Tuesday
