"""Small builders shared by the capacity unit tests (the week of Monday 2026-03-02)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, tzinfo

from services.capacity.domain.calendar import (
    CalendarSpec,
    WorkCenterCalendar,
    build_work_center_calendar,
    from_minutes,
    to_minutes,
)
from services.capacity.domain.model import WorkCenter

WEEKDAYS_5 = ("mon", "tue", "wed", "thu", "fri")
TWO_SHIFTS = [["06:00", "14:00"], ["14:00", "22:00"]]
ONE_SHIFT = [["06:00", "14:00"]]
MONDAY = date(2026, 3, 2)
HORIZON_END = date(2026, 4, 30)


def spec(
    shifts: list[list[str]] | None = None,
    days: Sequence[str] = WEEKDAYS_5,
    holidays: Sequence[str] = (),
    exceptions: Sequence[dict[str, str]] = (),
    tz: str = "UTC",
) -> CalendarSpec:
    """A calendar body as masterdata would send it, parsed."""
    body = {
        "weekdays": dict.fromkeys(days, shifts if shifts is not None else TWO_SHIFTS),
        "holidays": list(holidays),
        "exceptions": list(exceptions),
    }
    return CalendarSpec.from_body(body, tz=tz)


def calendar(
    code: str = "WC",
    machines: Sequence[str] = ("M1",),
    start: date = MONDAY,
    end: date = HORIZON_END,
    **kwargs: object,
) -> WorkCenterCalendar:
    return build_work_center_calendar(code, spec(**kwargs), machines, start, end)  # type: ignore[arg-type]


def work_center(
    code: str = "WC",
    machines: Sequence[str] = ("M1",),
    efficiency: float = 1.0,
    hourly_cost: float = 0.0,
    **kwargs: object,
) -> WorkCenter:
    return WorkCenter(code, calendar(code, machines, **kwargs), efficiency, hourly_cost)  # type: ignore[arg-type]


def at(text: str, tz: tzinfo = UTC) -> int:
    """Epoch minutes of a local ISO timestamp ("2026-03-06T20:00")."""
    return to_minutes(datetime.fromisoformat(text), tz)


def iso(minute: int, tz: tzinfo = UTC) -> str:
    """Local ISO timestamp (minutes precision, no offset) of an epoch minute."""
    return from_minutes(minute, tz).strftime("%Y-%m-%dT%H:%M")
