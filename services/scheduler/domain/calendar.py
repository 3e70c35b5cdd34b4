"""Working time of machines, from a master-data calendar record, in integer minutes.

A calendar record is ``{code, weekdays: {mon: [["06:00", "14:00"], ...], ...}, holidays: [dates],
exceptions: [{start, end, kind: maintenance|closed|overtime, machine?}]}``. The rules (the same as
the capacity service's, written again here: services never import each other):

- a shift belongs to the day it starts on; ``["22:00", "06:00"]`` (end at or before start) runs
  into the next day; ``"24:00"`` is midnight at the end of the day;
- a holiday removes every shift that starts on it (a night shift started the evening before runs
  on into the holiday);
- ``maintenance`` and ``closed`` exceptions cut working time; ``overtime`` adds the time it covers
  outside shifts. The result is ``(shifts − cuts) ∪ (overtime − shifts)``;
- an exception applies to every machine of the calendar's work centers, unless it names one
  machine; then to that machine only;
- times are UTC (the plant's time zone by default); a timestamp without offset is read as UTC.

Everything is in whole minutes from an ``origin`` (a datetime); intervals are half-open
``[start, end)`` and lists of them are kept sorted and merged.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY = 1440

Interval = tuple[int, int]


def as_utc(value: datetime | date | str) -> datetime:
    """A timestamp in UTC (a date is its midnight; naive timestamps are UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def floor_minute(value: datetime) -> datetime:
    return as_utc(value).replace(second=0, microsecond=0)


def minutes_from(origin: datetime, value: datetime) -> int:
    """Whole minutes from ``origin`` to ``value`` (rounded down)."""
    return math.floor((as_utc(value) - origin).total_seconds() / 60)


def minutes_up_from(origin: datetime, value: datetime) -> int:
    """Whole minutes from ``origin`` to ``value`` (rounded up)."""
    return math.ceil((as_utc(value) - origin).total_seconds() / 60)


def at_minute(origin: datetime, minute: int) -> datetime:
    return origin + timedelta(minutes=minute)


def parse_clock(text: str) -> int:
    """``"06:30"`` → 390; ``"24:00"`` → 1440."""
    hours, _, minutes = text.strip().partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if not 0 <= value <= DAY:
        raise ValueError(f"not a time of day: {text!r}")
    return value


# -- interval algebra -------------------------------------------------------------------------


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for s, e in sorted(i for i in intervals if i[1] > i[0]):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def subtract(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """``a − b`` for merged, sorted lists."""
    out: list[Interval] = []
    cuts = merge(b)
    for s, e in a:
        cur = s
        for cs, ce in cuts:
            if ce <= cur:
                continue
            if cs >= e:
                break
            if cs > cur:
                out.append((cur, cs))
            cur = max(cur, ce)
            if cur >= e:
                break
        if cur < e:
            out.append((cur, e))
    return out


def clip(intervals: Sequence[Interval], lo: int, hi: int) -> list[Interval]:
    return [(max(s, lo), min(e, hi)) for s, e in intervals if e > lo and s < hi and min(e, hi) > max(s, lo)]


# -- calendars --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CalendarException:
    start: datetime
    end: datetime
    kind: str  # maintenance | closed | overtime
    machine: str | None = None


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    code: str
    #: per weekday index (0 = Monday): shifts as (start, end) minutes after midnight; end may be
    #: at or before start (the shift runs into the next day)
    shifts: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[date] = frozenset()
    exceptions: tuple[CalendarException, ...] = ()

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> WorkCalendar:
        weekdays = record.get("weekdays") or {}
        shifts = []
        for name in WEEKDAYS:
            day: list[Interval] = []
            for shift in weekdays.get(name) or ():
                start, end = shift[0], shift[1]
                day.append((parse_clock(start), parse_clock(end)))
            shifts.append(tuple(day))
        holidays = frozenset(
            h if isinstance(h, date) and not isinstance(h, datetime) else date.fromisoformat(str(h)[:10])
            for h in record.get("holidays") or ()
        )
        exceptions = tuple(
            CalendarException(
                start=as_utc(e["start"]),
                end=as_utc(e["end"]),
                kind=str(e["kind"]),
                machine=e.get("machine"),
            )
            for e in record.get("exceptions") or ()
        )
        return cls(str(record.get("code") or ""), tuple(shifts), holidays, exceptions)

    def shift_intervals(self, origin: datetime, lo: int, hi: int) -> list[Interval]:
        """Shift time (holidays removed) within ``[lo, hi)`` minutes from ``origin``."""
        first = (origin + timedelta(minutes=lo)).date() - timedelta(days=1)
        last = (origin + timedelta(minutes=hi)).date()
        out: list[Interval] = []
        day = first
        while day <= last:
            if day not in self.holidays:
                midnight = minutes_from(origin, as_utc(day))
                for s, e in self.shifts[day.weekday()]:
                    end = e if e > s else e + DAY
                    out.append((midnight + s, midnight + end))
            day += timedelta(days=1)
        return clip(merge(out), lo, hi)

    def machine_intervals(self, machine: str | None, origin: datetime, lo: int, hi: int) -> list[Interval]:
        """Working time of ``machine`` within ``[lo, hi)`` minutes from ``origin``."""
        shifts = self.shift_intervals(origin, lo, hi)
        cuts: list[Interval] = []
        overtime: list[Interval] = []
        for x in self.exceptions:
            if x.machine is not None and x.machine != machine:
                continue
            span = (minutes_from(origin, x.start), minutes_up_from(origin, x.end))
            if x.kind == "overtime":
                overtime.append(span)
            else:
                cuts.append(span)
        working = subtract(shifts, cuts)
        extra = subtract(merge(overtime), shifts)
        return clip(merge(working + extra), lo, hi)


# -- working time -----------------------------------------------------------------------------


class WorkingTime:
    """Sorted, merged working intervals with prefix sums: counting and walking working minutes."""

    def __init__(self, intervals: Iterable[Interval]) -> None:
        self.intervals = merge(intervals)
        self.starts = [s for s, _ in self.intervals]
        self.cumulative = [0]
        for s, e in self.intervals:
            self.cumulative.append(self.cumulative[-1] + e - s)

    @property
    def total(self) -> int:
        return self.cumulative[-1]

    def before(self, t: int) -> int:
        """Working minutes in ``(-∞, t)``."""
        k = bisect.bisect_right(self.starts, t) - 1
        if k < 0:
            return 0
        s, e = self.intervals[k]
        return self.cumulative[k] + min(t, e) - s

    def minutes(self, a: int, b: int) -> int:
        """Working minutes in ``[a, b)``."""
        return 0 if b <= a else self.before(b) - self.before(a)

    def is_working(self, t: int) -> bool:
        k = bisect.bisect_right(self.starts, t) - 1
        return k >= 0 and t < self.intervals[k][1]

    def nth_minute(self, u: int) -> int | None:
        """The minute at which working minute number ``u`` (0-based) starts; None past the end."""
        if u < 0 or u >= self.total:
            return None
        k = bisect.bisect_right(self.cumulative, u) - 1
        return self.intervals[k][0] + u - self.cumulative[k]

    def advance(self, t: int, duration: int) -> int | None:
        """The end of ``duration`` working minutes from ``t`` (pausing outside working time): the
        minute after the last one worked; None when the working time runs out first."""
        if duration <= 0:
            return t
        last = self.nth_minute(self.before(t) + duration - 1)
        return None if last is None else last + 1
