"""Working-time calendars of work centers and machines, exact to the minute.

An instant is an ``int``: whole minutes since 1970-01-01T00:00Z (``to_minutes`` / ``from_minutes``
convert from and to aware datetimes). Working time is a sorted array of disjoint half-open
intervals ``[start, end)`` with prefix sums of their lengths, so "working minutes before t" is one
binary search, and so are its inverses ``add_working`` / ``sub_working``.

Rules (the handbook fixes the first four; the others are choices written down here):

- Weekly shifts are wall-clock times in the plant's time zone (default UTC). A shift whose end is
  not after its start crosses midnight (``["22:00", "06:00"]`` runs to 06:00 the next day; equal
  times mean 24 hours); ``"24:00"`` is accepted as an end.
- A shift belongs to the date on which it starts: a holiday removes the shifts starting that day,
  and a night shift starting the evening before a holiday keeps its hours after midnight.
- Working time = ((shifts − holidays) − maintenance/closed) ∪ overtime. ``maintenance`` and
  ``closed`` only remove shift time they overlap; ``overtime`` only adds the time it covers outside
  the remaining working time, so an explicit overtime window wins over a holiday or a closure.
- An exception without a machine applies to every machine of the work center; one naming a machine
  applies to that machine only (and to no machine of a work center that has no such machine).
- Adjacent shifts (06:00–14:00, 14:00–22:00) stay separate intervals, so each keeps its start; a
  piece of a shift cut by maintenance keeps the date of its shift; an overtime piece takes the
  date on which it starts.
- ``first_shift_start(d)``: the start of the first working interval belonging to ``d`` (after
  exceptions); if ``d`` has none (weekend, holiday), the first one of a later date.
  ``last_shift_end(d)``: the end of the last working interval belonging to ``d``; if none, the
  last one of an earlier date (a Sunday due date ends with Friday's last shift).
- A calendar is built for the dates ``[start, end)``: it holds the shifts of those dates (plus the
  tail of the night shift of ``start − 1``), clipped to ``[midnight(start), midnight(end + 1))``.
  Outside it there is no working time; asking for more raises ``HorizonExceeded``.
- Local times that do not exist or repeat (DST changes) take the offset before the change
  (PEP 495 ``fold=0``); a shift across a DST change is therefore one hour shorter or longer.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

__all__ = [
    "WEEKDAYS",
    "CalendarException",
    "CalendarSpec",
    "ExceptionKind",
    "HorizonExceeded",
    "Shift",
    "WorkCenterCalendar",
    "WorkingTime",
    "build_work_center_calendar",
    "build_work_center_calendars",
    "build_working_time",
    "from_minutes",
    "local_midnight",
    "to_minutes",
]

IntArray = npt.NDArray[np.int64]

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAY = 1440
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


class HorizonExceeded(ValueError):
    """The calendar has not enough working time inside its horizon for the request."""


class ExceptionKind(StrEnum):
    MAINTENANCE = "maintenance"
    CLOSED = "closed"
    OVERTIME = "overtime"


def to_minutes(at: datetime, tz: tzinfo = UTC) -> int:
    """Minutes since the epoch (UTC) of ``at``; a naive datetime is read in ``tz``; seconds floor."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=tz)
    return (at - _EPOCH) // timedelta(minutes=1)


def from_minutes(minute: int, tz: tzinfo = UTC) -> datetime:
    """The aware datetime, in ``tz``, of ``minute`` minutes since the epoch."""
    return (_EPOCH + timedelta(minutes=int(minute))).astimezone(tz)


def _local_to_utc(local_minute: int, tz: tzinfo) -> int:
    """UTC minute of a wall-clock minute (minutes since 1970-01-01 00:00 local), fold=0."""
    offset = tz.utcoffset(_EPOCH_NAIVE + timedelta(minutes=local_minute))
    return local_minute - (offset // timedelta(minutes=1) if offset else 0)


def local_midnight(day: date, tz: tzinfo = UTC) -> int:
    """UTC minute of 00:00 local time on ``day``."""
    return _local_to_utc((day.toordinal() - _EPOCH_ORDINAL) * _DAY, tz)


def _parse_hhmm(text: str) -> int:
    match = _HHMM.match(text.strip())
    if not match:
        raise ValueError(f"time of day must be HH:MM, got {text!r}")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"time of day out of range: {text!r}")
    return hours * 60 + minutes


@dataclass(frozen=True)
class Shift:
    """A daily shift in wall-clock minutes after midnight; ``end <= start`` crosses midnight."""

    start: int
    end: int

    @classmethod
    def parse(cls, start: str, end: str) -> Shift:
        """``Shift.parse("22:00", "06:00")``; ``"24:00"`` is accepted as an end."""
        return cls(_parse_hhmm(start) % _DAY, _parse_hhmm(end))

    @property
    def length(self) -> int:
        """Minutes of the shift: ``end − start``, plus a day when it crosses midnight."""
        end = self.end if self.end > self.start else self.end + _DAY
        return end - self.start


@dataclass(frozen=True)
class CalendarException:
    """A dated window (aware datetimes, or naive in the plant's zone)."""

    start: datetime
    end: datetime
    kind: ExceptionKind
    machine: str | None = None


@dataclass(frozen=True)
class CalendarSpec:
    """A calendar as master data states it: shifts per weekday (0 = Monday), holidays, exceptions."""

    weekdays: Mapping[int, tuple[Shift, ...]]
    holidays: frozenset[date] = frozenset()
    exceptions: tuple[CalendarException, ...] = ()
    tz: tzinfo = UTC

    @classmethod
    def from_body(cls, body: Mapping[str, object], tz: str | tzinfo = "UTC") -> CalendarSpec:
        """Parse the masterdata calendar body (``weekdays``, ``holidays``, ``exceptions``)."""
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        raw_days = body.get("weekdays") or {}
        if not isinstance(raw_days, Mapping):
            raise TypeError("weekdays must map a weekday name to a list of shifts")
        weekdays: dict[int, tuple[Shift, ...]] = {}
        for name, shifts in raw_days.items():
            weekdays[WEEKDAYS.index(str(name).lower()[:3])] = tuple(
                Shift.parse(start, end) for start, end in shifts
            )
        raw_holidays = body.get("holidays") or []
        if not isinstance(raw_holidays, Iterable):
            raise TypeError("holidays must be a list of dates")
        holidays = frozenset(h if isinstance(h, date) else date.fromisoformat(str(h)) for h in raw_holidays)
        raw_exceptions = body.get("exceptions") or []
        if not isinstance(raw_exceptions, Iterable):
            raise TypeError("exceptions must be a list")
        exceptions = tuple(
            CalendarException(
                start=_as_datetime(e["start"]),
                end=_as_datetime(e["end"]),
                kind=ExceptionKind(e["kind"]),
                machine=e.get("machine"),
            )
            for e in raw_exceptions
        )
        return cls(weekdays=weekdays, holidays=holidays, exceptions=exceptions, tz=zone)


def _as_datetime(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


# --------------------------------------------------------------------------- interval algebra
# Intervals are lists of (start, end, day) with day = the ordinal of the date they belong to.

_Interval = tuple[int, int, int]


def _merge(windows: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted union of windows; touching windows merge."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(w for w in windows if w[1] > w[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _subtract(intervals: Sequence[_Interval], cuts: Sequence[tuple[int, int]]) -> list[_Interval]:
    """Sorted disjoint ``intervals`` minus merged sorted ``cuts``; pieces keep their day."""
    out: list[_Interval] = []
    j = 0
    for start, end, day in intervals:
        while j < len(cuts) and cuts[j][1] <= start:
            j += 1
        cursor = start
        k = j
        while k < len(cuts) and cuts[k][0] < end:
            if cuts[k][0] > cursor:
                out.append((cursor, cuts[k][0], day))
            cursor = max(cursor, cuts[k][1])
            k += 1
        if cursor < end:
            out.append((cursor, end, day))
    return out


class WorkingTime:
    """Working time of one resource: sorted disjoint intervals of epoch minutes and prefix sums.

    ``W(t)`` (``working_before``) is the number of working minutes before instant ``t`` since the
    start of the calendar; every query is a binary search on the interval arrays (numpy arrays for
    vectorised queries, plain lists with ``bisect`` for the scalar ones, which are much cheaper).
    """

    __slots__ = (
        "_ce",
        "_cs",
        "_cum_end",
        "_day_max",
        "_day_min",
        "_dmax",
        "_dmin",
        "_e",
        "_s",
        "cum",
        "days",
        "ends",
        "span",
        "starts",
        "total",
        "tz",
    )

    def __init__(self, intervals: Sequence[_Interval], span: tuple[int, int], tz: tzinfo = UTC) -> None:
        self.tz = tz
        self.span = span
        self.starts: IntArray = np.fromiter((i[0] for i in intervals), np.int64, len(intervals))
        self.ends: IntArray = np.fromiter((i[1] for i in intervals), np.int64, len(intervals))
        self.days: IntArray = np.fromiter((i[2] for i in intervals), np.int64, len(intervals))
        lengths = self.ends - self.starts
        if len(intervals) and (np.any(lengths <= 0) or np.any(self.starts[1:] < self.ends[:-1])):
            raise ValueError("working intervals must be non-empty, sorted and disjoint")
        self._cum_end: IntArray = np.cumsum(lengths)
        self.cum: IntArray = self._cum_end - lengths
        self.total = int(self._cum_end[-1]) if len(intervals) else 0
        # Day tags are monotone except in rare exception overlaps: the running max from the left
        # and min from the right give exact "first with day >= d" / "last with day <= d" searches.
        self._day_max: IntArray = np.maximum.accumulate(self.days) if len(intervals) else self.days
        self._day_min: IntArray = (
            np.minimum.accumulate(self.days[::-1])[::-1] if len(intervals) else self.days
        )
        self._s: list[int] = self.starts.tolist()
        self._e: list[int] = self.ends.tolist()
        self._cs: list[int] = self.cum.tolist()
        self._ce: list[int] = self._cum_end.tolist()
        self._dmax: list[int] = self._day_max.tolist()
        self._dmin: list[int] = self._day_min.tolist()

    def __len__(self) -> int:
        return len(self.starts)

    def intervals(self) -> list[tuple[int, int]]:
        """The working intervals as ``(start, end)`` epoch minutes."""
        return list(zip(self.starts.tolist(), self.ends.tolist(), strict=True))

    def same_as(self, other: WorkingTime) -> bool:
        """True when both have exactly the same working intervals."""
        return self._s == other._s and self._e == other._e

    # -- the W function and its inverses
    def working_before(self, t: int) -> int:
        """Working minutes of the calendar before instant ``t``."""
        i = bisect_right(self._s, t) - 1
        if i < 0:
            return 0
        return self._cs[i] + min(t, self._e[i]) - self._s[i]

    def working_before_many(self, ts: npt.ArrayLike) -> IntArray:
        """``working_before`` of every instant of an array (vectorised)."""
        at = np.asarray(ts, dtype=np.int64)
        if not len(self.starts):
            return np.zeros(at.shape, np.int64)
        i = np.searchsorted(self.starts, at, "right") - 1
        safe = np.maximum(i, 0)
        inside = self.cum[safe] + np.minimum(at, self.ends[safe]) - self.starts[safe]
        return np.where(i < 0, 0, inside).astype(np.int64)

    def working_minutes(self, start: int, end: int) -> int:
        """Working minutes in ``[start, end)``; negative when ``end < start``."""
        return self.working_before(end) - self.working_before(start)

    def is_working(self, t: int) -> bool:
        """True when the minute starting at ``t`` is working time."""
        i = bisect_right(self._s, t) - 1
        return i >= 0 and t < self._e[i]

    def add_working(self, t: int, minutes: int) -> int:
        """Forward: the earliest instant at which ``minutes`` working minutes have elapsed since ``t``.

        Ending exactly at the end of a shift returns that end (not the next shift's start);
        ``minutes == 0`` returns ``t`` itself.
        """
        if minutes < 0:
            return self.sub_working(t, -minutes)
        if minutes == 0:
            return t
        target = self.working_before(t) + minutes
        if target > self.total:
            raise HorizonExceeded(
                f"{minutes} working minutes from {from_minutes(t, self.tz).isoformat()} "
                "run past the calendar's horizon"
            )
        i = bisect_left(self._ce, target)
        return self._s[i] + target - self._cs[i]

    def sub_working(self, t: int, minutes: int) -> int:
        """Backward: the latest instant from which ``minutes`` working minutes end at ``t``.

        Starting exactly at the start of a shift returns that start (not the previous shift's
        end); ``minutes == 0`` returns ``t`` itself.
        """
        if minutes < 0:
            return self.add_working(t, -minutes)
        if minutes == 0:
            return t
        target = self.working_before(t) - minutes
        if target < 0:
            raise HorizonExceeded(
                f"{minutes} working minutes before {from_minutes(t, self.tz).isoformat()} "
                "start before the calendar's horizon"
            )
        i = bisect_right(self._cs, target) - 1
        return self._s[i] + target - self._cs[i]

    def next_working(self, t: int) -> int:
        """The first working instant at or after ``t`` (where work resumes)."""
        i = bisect_right(self._e, t)
        if i == len(self._e):
            raise HorizonExceeded(f"no working time after {from_minutes(t, self.tz).isoformat()}")
        return max(t, self._s[i])

    def previous_working_end(self, t: int) -> int:
        """The last instant at or before ``t`` that closes working time (``t`` itself if working)."""
        i = bisect_left(self._s, t) - 1
        if i < 0:
            raise HorizonExceeded(f"no working time before {from_minutes(t, self.tz).isoformat()}")
        return min(t, self._e[i])

    def first_shift_start(self, day: date) -> int:
        """Start of the first working interval of ``day``, else of the first later date having one."""
        i = bisect_left(self._dmax, day.toordinal())
        if i == len(self._s):
            raise HorizonExceeded(f"no shift on or after {day.isoformat()} in the calendar's horizon")
        return self._s[i]

    def last_shift_end(self, day: date) -> int:
        """End of the last working interval of ``day``, else of the last earlier date having one."""
        i = bisect_right(self._dmin, day.toordinal()) - 1
        if i < 0:
            raise HorizonExceeded(f"no shift on or before {day.isoformat()} in the calendar's horizon")
        return self._e[i]


# --------------------------------------------------------------------------- building


def _base_intervals(spec: CalendarSpec, start: date, end: date) -> tuple[list[_Interval], tuple[int, int]]:
    """Shift instances of the dates ``[start - 1, end)`` minus holidays, clipped to the span."""
    span = (local_midnight(start, spec.tz), local_midnight(end + timedelta(days=1), spec.tz))
    raw: list[_Interval] = []
    for ordinal in range(start.toordinal() - 1, end.toordinal()):
        day = date.fromordinal(ordinal)
        if day in spec.holidays:
            continue
        midnight = (ordinal - _EPOCH_ORDINAL) * _DAY
        for shift in spec.weekdays.get(day.weekday(), ()):
            local_start = midnight + shift.start
            raw.append(
                (
                    _local_to_utc(local_start, spec.tz),
                    _local_to_utc(local_start + shift.length, spec.tz),
                    ordinal,
                )
            )
    raw.sort()
    # Overlapping shifts of a badly written calendar: later pieces lose the overlap.
    clean: list[_Interval] = []
    for s, e, d in raw:
        begin = max(s, clean[-1][1]) if clean else s
        if e > begin:
            clean.append((begin, e, d))
    clipped = [(max(s, span[0]), min(e, span[1]), d) for s, e, d in clean if e > span[0] and s < span[1]]
    return clipped, span


def _apply_exceptions(
    base: Sequence[_Interval], span: tuple[int, int], exceptions: Iterable[CalendarException], tz: tzinfo
) -> list[_Interval]:
    """``(base − maintenance/closed) ∪ overtime``, everything clipped to the span."""
    down: list[tuple[int, int]] = []
    extra: list[tuple[int, int]] = []
    for exc in exceptions:
        window = (max(to_minutes(exc.start, tz), span[0]), min(to_minutes(exc.end, tz), span[1]))
        (extra if exc.kind is ExceptionKind.OVERTIME else down).append(window)
    intervals = _subtract(base, _merge(down))
    if extra:
        occupied = _merge((s, e) for s, e, _ in intervals)
        added = _subtract([(s, e, 0) for s, e in _merge(extra)], occupied)
        intervals = sorted(intervals + [(s, e, from_minutes(s, tz).date().toordinal()) for s, e, _ in added])
    return intervals


def build_working_time(spec: CalendarSpec, start: date, end: date, machine: str | None = None) -> WorkingTime:
    """Working time of the dates ``[start, end)``: for the work center (exceptions without a
    machine) when ``machine`` is None, else for that machine (its own exceptions too)."""
    base, span = _base_intervals(spec, start, end)
    exceptions = [e for e in spec.exceptions if e.machine is None or e.machine == machine]
    return WorkingTime(_apply_exceptions(base, span, exceptions, spec.tz), span, spec.tz)


@dataclass(frozen=True)
class WorkCenterCalendar:
    """The working time of a work center and of each of its machines.

    ``reference`` ignores exceptions naming a machine; ``machines`` maps each machine code to its
    own working time (the very ``reference`` object when no exception names it). A work center
    declared without machines has one machine named after the work center.
    """

    code: str
    reference: WorkingTime
    machines: Mapping[str, WorkingTime] = field(default_factory=dict)

    @property
    def machine_count(self) -> int:
        return len(self.machines)

    @property
    def tz(self) -> tzinfo:
        return self.reference.tz

    def for_machine(self, machine: str | None) -> WorkingTime:
        """The machine's working time, or the reference one for None / an unknown machine."""
        if machine is None:
            return self.reference
        return self.machines.get(machine, self.reference)

    @cached_property
    def _distinct(self) -> tuple[tuple[str, WorkingTime], ...]:
        seen: list[tuple[str, WorkingTime]] = []
        for code, working in self.machines.items():
            if not any(working is w or working.same_as(w) for _, w in seen):
                seen.append((code, working))
        return tuple(seen)

    def distinct_machines(self) -> tuple[tuple[str, WorkingTime], ...]:
        """One ``(machine, working time)`` per distinct working time, first machine in order."""
        return self._distinct


def _work_center_calendar(
    code: str,
    *,
    spec: CalendarSpec,
    machines: Sequence[str],
    base: Sequence[_Interval],
    span: tuple[int, int],
    reference: WorkingTime,
) -> WorkCenterCalendar:
    named = {e.machine for e in spec.exceptions if e.machine is not None}
    by_machine: dict[str, WorkingTime] = {}
    for machine in machines or (code,):
        if machine in named:
            exceptions = [e for e in spec.exceptions if e.machine is None or e.machine == machine]
            by_machine[machine] = WorkingTime(
                _apply_exceptions(base, span, exceptions, spec.tz), span, spec.tz
            )
        else:
            by_machine[machine] = reference
    return WorkCenterCalendar(code=code, reference=reference, machines=by_machine)


def build_work_center_calendar(
    code: str, spec: CalendarSpec, machines: Sequence[str], start: date, end: date
) -> WorkCenterCalendar:
    """The calendar of one work center with the given machines over the dates ``[start, end)``."""
    base, span = _base_intervals(spec, start, end)
    common = [e for e in spec.exceptions if e.machine is None]
    reference = WorkingTime(_apply_exceptions(base, span, common, spec.tz), span, spec.tz)
    return _work_center_calendar(
        code, spec=spec, machines=machines, base=base, span=span, reference=reference
    )


def build_work_center_calendars(
    work_centers: Iterable[tuple[str, str, Sequence[str]]],
    calendars: Mapping[str, CalendarSpec],
    start: date,
    end: date,
) -> dict[str, WorkCenterCalendar]:
    """Calendars of many work centers ``(code, calendar code, machines)``; each calendar code is
    expanded once and its reference working time shared by every work center using it."""
    cache: dict[str, tuple[list[_Interval], tuple[int, int], WorkingTime]] = {}
    out: dict[str, WorkCenterCalendar] = {}
    for code, calendar_code, machines in work_centers:
        spec = calendars[calendar_code]
        if calendar_code not in cache:
            base, span = _base_intervals(spec, start, end)
            common = [e for e in spec.exceptions if e.machine is None]
            cache[calendar_code] = (
                base,
                span,
                WorkingTime(_apply_exceptions(base, span, common, spec.tz), span, spec.tz),
            )
        base, span, reference = cache[calendar_code]
        out[code] = _work_center_calendar(
            code, spec=spec, machines=machines, base=base, span=span, reference=reference
        )
    return out
