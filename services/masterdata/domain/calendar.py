"""Calendar checks and a plain description of a calendar's weekly shifts.

The capacity and scheduling services do the working-time arithmetic themselves; this module only
says whether a calendar is well formed and how many shift minutes its week holds.

Rules:

- A time is ``"HH:MM"`` with two digits each, ``00:00`` to ``23:59``; ``"24:00"`` is accepted as a
  shift end only (``["00:00", "24:00"]`` is the whole day).
- A shift ``[start, end]`` with ``end <= start`` crosses midnight: it runs from ``start`` on its
  weekday to ``end`` on the next day (``sun`` spills into ``mon``). ``start == end`` is rejected
  (ambiguous: zero or 24 hours).
- Shifts are placed on the week as half-open minute intervals; two shifts overlap when they share
  at least one minute (``06:00–14:00`` and ``14:00–22:00`` touch, they do not overlap). Each shift
  overlapping an earlier one (in week order) is reported once, naming the earlier shift it
  overlaps the most recently ending of.
- A shift's minutes count on the weekday it starts on. A day is a working day when it has at
  least one shift starting on it and is not a holiday.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from services.masterdata.domain.model import WEEKDAYS, Calendar

MINUTES_PER_DAY = 1440
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


def parse_time(text: object, *, as_end: bool = False) -> int | None:
    """Minutes since midnight of an ``"HH:MM"`` string, ``None`` when malformed.

    ``"24:00"`` is 1440 and only accepted when ``as_end`` is true.
    """
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        return None
    hh, mm = text[:2], text[3:]
    if not (hh.isascii() and hh.isdigit() and mm.isascii() and mm.isdigit()):
        return None
    hours, minutes = int(hh), int(mm)
    if as_end and hours == 24 and minutes == 0:
        return MINUTES_PER_DAY
    if hours > 23 or minutes > 59:
        return None
    return hours * 60 + minutes


@dataclass(frozen=True, slots=True)
class CalendarIssue:
    """A problem in a calendar; ``path`` is relative to the calendar record."""

    path: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class PlacedShift:
    """A shift on the weekly timeline: ``[start, end)`` minutes from Monday 00:00.

    ``end`` may exceed one week when a Sunday shift crosses midnight.
    """

    weekday: str
    index: int
    start: int
    end: int
    label: str

    @property
    def minutes(self) -> int:
        return self.end - self.start


def _fmt_shift(shift: Sequence[object]) -> str:
    return f"{shift[0]}–{shift[1]}"


def place_shifts(calendar: Calendar) -> tuple[list[PlacedShift], list[CalendarIssue]]:
    """Place every well-formed shift on the week; report the malformed ones (no overlap check)."""
    placed: list[PlacedShift] = []
    issues: list[CalendarIssue] = []
    for day, shifts in calendar.weekdays.items():
        if day not in WEEKDAYS:
            issues.append(
                CalendarIssue(
                    f"weekdays/{day}",
                    "unknown_weekday",
                    f"'{day}' is not a weekday ({', '.join(WEEKDAYS)})",
                )
            )
            continue
        day_start = WEEKDAYS.index(day) * MINUTES_PER_DAY
        for index, shift in enumerate(shifts):
            path = f"weekdays/{day}/{index}"
            if isinstance(shift, str | bytes) or len(shift) != 2:
                issues.append(
                    CalendarIssue(path, "malformed_shift", "a shift is a pair [start, end] of HH:MM times")
                )
                continue
            start = parse_time(shift[0])
            end = parse_time(shift[1], as_end=True)
            if start is None:
                issues.append(
                    CalendarIssue(
                        f"{path}/0",
                        "malformed_time",
                        f"'{shift[0]}' is not a time of day as HH:MM (00:00–23:59)",
                    )
                )
            if end is None:
                issues.append(
                    CalendarIssue(
                        f"{path}/1",
                        "malformed_time",
                        f"'{shift[1]}' is not a time of day as HH:MM (00:00–24:00)",
                    )
                )
            if start is None or end is None:
                continue
            if start == end:
                issues.append(
                    CalendarIssue(
                        path,
                        "empty_shift",
                        f"shift starts and ends at {shift[0]}: write a whole day as 00:00–24:00",
                    )
                )
                continue
            if end < start:
                end += MINUTES_PER_DAY
            placed.append(PlacedShift(day, index, day_start + start, day_start + end, _fmt_shift(shift)))
    return placed, issues


def overlap_issues(placed: Sequence[PlacedShift]) -> list[CalendarIssue]:
    """Overlapping shifts on the (circular) week, each later shift reported once."""
    pieces: list[tuple[int, int, int, PlacedShift]] = []
    for order, shift in enumerate(placed):
        if shift.end > MINUTES_PER_WEEK:  # a Sunday night shift spills into Monday
            pieces.append((shift.start, MINUTES_PER_WEEK, order, shift))
            pieces.append((0, shift.end - MINUTES_PER_WEEK, order, shift))
        else:
            pieces.append((shift.start, shift.end, order, shift))
    pieces.sort(key=lambda p: (p[0], p[1]))
    issues: list[CalendarIssue] = []
    reported: set[tuple[int, int]] = set()
    latest: tuple[int, int, int, PlacedShift] | None = None  # the piece ending last so far
    for piece in pieces:
        start, end, order, shift = piece
        if latest is not None and start < latest[1] and latest[2] != order:
            pair = (min(order, latest[2]), max(order, latest[2]))
            if pair not in reported:
                reported.add(pair)
                other = latest[3]
                issues.append(
                    CalendarIssue(
                        f"weekdays/{shift.weekday}/{shift.index}",
                        "overlapping_shifts",
                        f"shift {shift.label} on {shift.weekday} overlaps shift {other.label} "
                        f"on {other.weekday}",
                    )
                )
        if latest is None or end > latest[1]:
            latest = piece
    return issues


def calendar_issues(calendar: Calendar) -> list[CalendarIssue]:
    """Every problem of a calendar's week and exceptions (references are checked elsewhere)."""
    placed, issues = place_shifts(calendar)
    issues.extend(overlap_issues(placed))
    for i, exc in enumerate(calendar.exceptions):
        aware = True
        for name, stamp in (("start", exc.start), ("end", exc.end)):
            if stamp.utcoffset() is None:
                aware = False
                issues.append(
                    CalendarIssue(
                        f"exceptions/{i}/{name}", "malformed_time", "a timestamp needs a UTC offset"
                    )
                )
        if aware and exc.end <= exc.start:
            issues.append(
                CalendarIssue(
                    f"exceptions/{i}/end",
                    "invalid_period",
                    f"end {exc.end.isoformat()} is not after start {exc.start.isoformat()}",
                )
            )
    return issues


@dataclass(frozen=True, slots=True)
class WeeklyShifts:
    """Shift minutes per weekday (counted on the day a shift starts) and for the whole week."""

    minutes_by_weekday: dict[str, int]
    total_minutes: int
    working_weekdays: tuple[str, ...]


def weekly_shift_minutes(calendar: Calendar) -> WeeklyShifts:
    """Describe a calendar's week: minutes of its well-formed shifts, by starting weekday."""
    placed, _ = place_shifts(calendar)
    by_day = dict.fromkeys(WEEKDAYS, 0)
    for shift in placed:
        by_day[shift.weekday] += shift.minutes
    return WeeklyShifts(
        minutes_by_weekday=by_day,
        total_minutes=sum(by_day.values()),
        working_weekdays=tuple(d for d in WEEKDAYS if by_day[d] > 0),
    )


def is_working_day(calendar: Calendar, day: date) -> bool:
    """A day works when a well-formed shift starts on its weekday and it is not a holiday."""
    if day in calendar.holidays:
        return False
    weekday = WEEKDAYS[day.weekday()]
    placed, _ = place_shifts(calendar)
    return any(s.weekday == weekday for s in placed)
