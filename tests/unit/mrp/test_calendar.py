from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.mrp.domain.calendar import Calendar
from tests.unit.mrp.helpers import d

MON_FRI = Calendar()
WITH_HOLIDAYS = Calendar(holidays=frozenset({d(6), d(11), d(25, 12)}))


def test_weekends_are_not_working_days_by_default():
    assert MON_FRI.is_working(d(6))  # Friday
    assert not MON_FRI.is_working(d(7))  # Saturday
    assert not MON_FRI.is_working(d(8))  # Sunday


def test_a_holiday_is_not_a_working_day():
    assert not WITH_HOLIDAYS.is_working(d(6))
    assert WITH_HOLIDAYS.is_working(d(5))


def test_prev_working_moves_a_weekend_back_to_friday():
    assert MON_FRI.prev_working(d(7)) == d(6)
    assert MON_FRI.prev_working(d(8)) == d(6)
    assert MON_FRI.prev_working(d(9)) == d(9)


def test_prev_working_skips_a_friday_holiday_to_thursday():
    assert WITH_HOLIDAYS.prev_working(d(8)) == d(5)


def test_back_steps_working_days_from_the_previous_working_day():
    assert MON_FRI.back(d(9), 0) == d(9)
    assert MON_FRI.back(d(8), 0) == d(6)  # back(Sunday, 0) = d0 = Friday
    assert MON_FRI.back(d(9), 1) == d(6)  # Monday - 1 = Friday
    assert MON_FRI.back(d(7), 2) == d(4)  # Saturday -> Friday, -2 = Wednesday
    assert MON_FRI.back(d(16), 10) == d(2)


def test_back_skips_holidays():
    # Thursday 12 - 2 working days, Wednesday 11 being a holiday: Tuesday 10, Monday 9.
    assert WITH_HOLIDAYS.back(d(12), 2) == d(9)
    # Monday 9 - 1: Friday 6 is a holiday -> Thursday 5.
    assert WITH_HOLIDAYS.back(d(9), 1) == d(5)


def test_forward_counts_the_start_day_as_the_first_period():
    assert MON_FRI.forward(d(2), 3) == d(5)  # [Mon, Thu) holds Mon, Tue, Wed
    assert MON_FRI.forward(d(5), 3) == d(10)  # Thu, Fri, Mon -> Tuesday
    assert MON_FRI.forward(d(7), 1) == d(10)  # from a Saturday: Monday is the first period


def test_a_calendar_without_working_weekdays_is_refused():
    with pytest.raises(ValueError, match="working weekday"):
        Calendar(weekdays=(False,) * 7)


def _naive_back(cal: Calendar, day: date, lead: int) -> date:
    while not cal.is_working(day):
        day -= timedelta(days=1)
    for _ in range(lead):
        day -= timedelta(days=1)
        while not cal.is_working(day):
            day -= timedelta(days=1)
    return day


calendars = st.builds(
    Calendar,
    weekdays=st.tuples(*[st.booleans()] * 7).filter(any),
    holidays=st.frozensets(st.dates(date(2026, 10, 1), date(2027, 2, 1)), max_size=12),
)


@settings(max_examples=60, deadline=None)
@given(calendars, st.dates(date(2026, 11, 1), date(2027, 1, 15)), st.integers(0, 30))
def test_back_agrees_with_stepping_one_day_at_a_time_and_forward_inverts_it(cal, day, n):
    assert cal.back(day, n) == _naive_back(cal, day, n)
    start = cal.prev_working(day)
    assert cal.back(cal.forward(start, n), n) == start
    fwd = cal.forward(day, n)
    assert cal.is_working(fwd)
    working_between = sum(cal.is_working(day + timedelta(days=i)) for i in range((fwd - day).days))
    assert working_between == n
