"""Plant working-day calendar for MRP date arithmetic.

Rules (PLANNING-SEMANTICS.md, "Dates and calendars"):

- A day is working when its weekday is in the weekday mask and it is not a holiday.
  The default calendar is Monday–Friday without holidays.
- ``prev_working(d)`` ("d0"): ``d`` if it is a working day, else the previous working day.
- ``back(d, L)``: step back ``L`` working days from ``d0``; ``back(d, 0) = d0``.
- ``forward(d, n)``: the inverse used by the ``period`` lot-sizing rule: the earliest working day
  ``x`` such that ``[d, x)`` holds exactly ``n`` working days. For a working day ``d`` this is the
  ``n``-th working day after ``d`` and ``back(forward(d, n), n) = d``.

Implementation: every day has a *rank*, the number of working days strictly before it (counted
from ``date.min``). Ranks are computed arithmetically (whole weeks times working days per week,
minus the holidays before the day, found by bisection), so every operation is ``O(log h)`` for
``h`` holidays and works for any date, without a precomputed range. The engine works on
``date.toordinal()`` integers; the ``*_ord`` methods take and return ordinals.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date

_DEFAULT_WEEKDAYS = (True, True, True, True, True, False, False)


@dataclass(frozen=True, slots=True)
class Calendar:
    """Working days of the plant: ``weekdays[i]`` tells whether weekday ``i`` (0 = Monday) works."""

    weekdays: tuple[bool, bool, bool, bool, bool, bool, bool] = _DEFAULT_WEEKDAYS
    holidays: frozenset[date] = frozenset()
    # Derived tables (not part of the calendar's identity).
    _per_week: int = field(init=False, repr=False, compare=False)
    _prefix: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _positions: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _holiday_ords: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.weekdays) != 7:
            raise ValueError("a calendar needs exactly 7 weekday flags (Monday first)")
        if not any(self.weekdays):
            raise ValueError("a calendar needs at least one working weekday")
        prefix = [0]
        for works in self.weekdays:
            prefix.append(prefix[-1] + int(works))
        # Ordinal 1 (0001-01-01) is a Monday, so weekday(o) == (o - 1) % 7.
        holiday_ords = sorted({h.toordinal() for h in self.holidays if self.weekdays[h.weekday()]})
        object.__setattr__(self, "_per_week", prefix[-1])
        object.__setattr__(self, "_prefix", tuple(prefix))
        object.__setattr__(self, "_positions", tuple(i for i, w in enumerate(self.weekdays) if w))
        object.__setattr__(self, "_holiday_ords", tuple(holiday_ords))

    # -- ordinal API (used by the engine) -------------------------------------------------------

    def is_working_ord(self, o: int) -> bool:
        """True when the day with ordinal ``o`` is a working day."""
        if not self.weekdays[(o - 1) % 7]:
            return False
        i = bisect_left(self._holiday_ords, o)
        return i == len(self._holiday_ords) or self._holiday_ords[i] != o

    def rank_ord(self, o: int) -> int:
        """Number of working days strictly before ordinal ``o`` (from ordinal 1)."""
        weeks, rem = divmod(o - 1, 7)
        return weeks * self._per_week + self._prefix[rem] - bisect_left(self._holiday_ords, o)

    def nth_ord(self, k: int) -> int:
        """Ordinal of the working day whose rank is ``k`` (the ``k``-th working day, from 0)."""
        # Fixed point: the k-th working day is the (k + h)-th weekday-working day, h being the
        # number of holidays up to it; h only grows, starting from a lower bound of the answer.
        holidays = 0
        while True:
            weeks, r = divmod(k + holidays, self._per_week)
            candidate = 1 + 7 * weeks + self._positions[r]
            seen = bisect_right(self._holiday_ords, candidate)
            if seen == holidays:
                return candidate
            holidays = seen

    def prev_working_ord(self, o: int) -> int:
        """``d0``: ``o`` itself if working, else the previous working day."""
        if self.is_working_ord(o):
            return o
        return self.nth_ord(self.rank_ord(o) - 1)

    def back_ord(self, o: int, lead_days: int) -> int:
        """Step back ``lead_days`` working days from ``prev_working(o)``."""
        if lead_days < 0:
            raise ValueError("lead time must not be negative")
        d0 = self.prev_working_ord(o)
        if lead_days == 0:
            return d0
        return self.nth_ord(self.rank_ord(d0) - lead_days)

    def forward_ord(self, o: int, n: int) -> int:
        """Earliest working day ``x`` such that ``[o, x)`` holds exactly ``n`` working days."""
        if n < 0:
            raise ValueError("a number of periods must not be negative")
        return self.nth_ord(self.rank_ord(o) + n)

    # -- date API ------------------------------------------------------------------------------

    def is_working(self, d: date) -> bool:
        """True when ``d`` is a working day."""
        return self.is_working_ord(d.toordinal())

    def prev_working(self, d: date) -> date:
        """``d`` if it is a working day, else the previous working day (the ``d0`` rule)."""
        return date.fromordinal(self.prev_working_ord(d.toordinal()))

    def back(self, d: date, lead_days: int) -> date:
        """``back(d, L)``: ``L`` working days before ``prev_working(d)``."""
        return date.fromordinal(self.back_ord(d.toordinal(), lead_days))

    def forward(self, d: date, n: int) -> date:
        """The earliest working day ``x`` with exactly ``n`` working days in ``[d, x)``."""
        return date.fromordinal(self.forward_ord(d.toordinal(), n))
