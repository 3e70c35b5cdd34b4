"""Properties: working-time arithmetic round-trips, and spreading never loses or invents minutes."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.capacity.domain.calendar import WorkCenterCalendar
from services.capacity.domain.load import bucket_grid, compute_load
from services.capacity.domain.model import PlannedOperation
from tests.unit.capacity.builders import at, calendar

START, END = date(2026, 3, 2), date(2026, 4, 30)
EXCEPTIONS = [
    {"start": "2026-03-03T10:00", "end": "2026-03-03T12:00", "kind": "maintenance"},
    {"start": "2026-03-14T06:00", "end": "2026-03-14T18:00", "kind": "overtime"},
    {"start": "2026-03-18T00:00", "end": "2026-03-19T00:00", "kind": "closed", "machine": "M2"},
]
# Two day shifts Mon–Fri and a night shift on Wednesdays, a holiday, maintenance, overtime.
MIXED = calendar(
    machines=("M1", "M2"),
    start=START,
    end=END,
    shifts=[["06:00", "14:00"], ["14:00", "22:00"], ["22:00", "06:00"]],
    holidays=["2026-03-11", "2026-04-06"],
    exceptions=EXCEPTIONS,
)
NIGHTS = calendar("N", start=START, end=END, shifts=[["22:00", "06:00"]], days=("mon", "wed", "fri"))
FIRST, LAST = at("2026-03-01T00:00"), at("2026-04-01T00:00")


@pytest.mark.parametrize("cal", [MIXED, NIGHTS], ids=["mixed", "nights"])
@given(t=st.integers(FIRST, LAST), minutes=st.integers(1, 4000))
@settings(max_examples=150, deadline=None)
def test_add_then_sub_working_returns_to_a_working_instant_at_the_same_distance(
    cal: WorkCenterCalendar, t: int, minutes: int
) -> None:
    working = cal.reference
    later = working.add_working(t, minutes)
    back = working.sub_working(later, minutes)
    assert working.working_minutes(back, later) == minutes
    assert working.working_minutes(t, back) == 0
    assert working.is_working(back)
    assert back == working.next_working(t)


@given(
    ops=st.lists(
        st.tuples(
            st.integers(at("2026-02-25T00:00"), at("2026-05-05T00:00")),
            st.integers(0, 20000),
            st.floats(0, 5000, allow_nan=False),
            st.sampled_from(["WC", "N"]),
            st.sampled_from([None, "M1", "M2"]),
        ),
        max_size=40,
    )
)
@settings(max_examples=100, deadline=None)
def test_total_spread_load_equals_total_operation_minutes(
    ops: list[tuple[int, int, float, str, str | None]],
) -> None:
    grid = bucket_grid("day", date(2026, 3, 2), date(2026, 4, 27))
    planned = [
        PlannedOperation(f"O{i}", 10, wc, start, start + length, minutes, machine if wc == "WC" else None)
        for i, (start, length, minutes, wc, machine) in enumerate(ops)
    ]
    profile = compute_load({"WC": MIXED, "N": NIGHTS}, planned, grid)
    total = sum(o.minutes for o in planned)
    assert float(profile.load.sum() + profile.outside_minutes.sum()) == pytest.approx(total, abs=1e-6)
    assert (profile.load >= 0).all()
