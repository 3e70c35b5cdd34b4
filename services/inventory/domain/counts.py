"""Physical and cycle counts: count sheets, posting the differences, accuracy, count planning.

Rules:

- A count sheet freezes the expected on-hand quantity of each (sku, location, lot) at its
  snapshot. Counted quantities are compared with that snapshot: the count is taken to describe the
  stock at the snapshot (movements must be frozen, or booked after the count is posted).
- Stock found where none was expected is recorded as a new line with expected 0.
- Posting books one adjustment per counted line whose count differs from the expectation
  (``counted - expected``, signed), with the count's reason and the sheet id as reference; lines
  never counted are left untouched (not treated as zero). A sheet is posted once.
- Stock accuracy is the share of counted lines whose absolute difference is within tolerance:
  ``|counted - expected| <= max(tolerance_qty, tolerance_ratio x expected)``; both tolerances
  default to 0 (exact match). The share is given to 4 places (0.7500 = 75 %).
- Cycle counting: an item is due when it has never been counted, or when its last count plus the
  interval of its ABC class (in calendar months; default A 1, B 3, C 12) is on or before the day
  asked. A month after the 31st of January is the last day of February.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from services.inventory.domain.ledger import StockPosition
from services.inventory.domain.model import (
    ZERO,
    InvalidField,
    InventoryError,
    Movement,
    MovementType,
    StockKey,
)

DEFAULT_CYCLE_MONTHS: Mapping[str, int] = {"A": 1, "B": 3, "C": 12}
SHARE_QUANTUM = Decimal("0.0001")


@dataclass(slots=True)
class CountLine:
    """Expected (snapshot) and counted quantity of one key; ``counted`` is None until counted."""

    key: StockKey
    expected: Decimal
    counted: Decimal | None = None

    @property
    def difference(self) -> Decimal | None:
        """``counted - expected`` (None while not counted)."""
        return None if self.counted is None else self.counted - self.expected


@dataclass(slots=True)
class CountSheet:
    """A physical or cycle count: the expected quantities at ``snapshot_at`` and what was counted."""

    id: str
    snapshot_at: datetime
    lines: dict[StockKey, CountLine] = field(default_factory=dict)
    posted: bool = False

    def record(self, key: StockKey, counted: Decimal) -> CountLine:
        """Record the counted quantity of ``key`` (a recount replaces the previous figure)."""
        if self.posted:
            raise InventoryError(f"count {self.id} is already posted")
        if counted < 0:
            raise InvalidField("counted", "a counted quantity cannot be negative")
        line = self.lines.get(key)
        if line is None:
            line = self.lines[key] = CountLine(key, ZERO)
        line.counted = counted
        return line


def open_count(
    position: StockPosition,
    *,
    count_id: str,
    at: datetime,
    skus: Iterable[str] | None = None,
    location: str | None = None,
) -> CountSheet:
    """A count sheet with the on-hand quantity of every key in scope (``skus``, ``location``) now."""
    wanted = set(skus) if skus is not None else None
    lines = {
        b.key: CountLine(b.key, b.on_hand)
        for b in position.balances(location=location)
        if b.on_hand != 0 and (wanted is None or b.key.sku in wanted)
    }
    return CountSheet(count_id, at, lines)


def post_count(sheet: CountSheet, *, at: datetime, reason: str = "physical count") -> list[Movement]:
    """The adjustments that bring the books to the count (counted lines that differ), in key
    order; marks the sheet posted."""
    if sheet.posted:
        raise InventoryError(f"count {sheet.id} is already posted")
    adjustments: list[Movement] = []
    for line in sorted(sheet.lines.values(), key=lambda ln: (ln.key.sku, ln.key.location, ln.key.lot or "")):
        difference = line.difference
        if difference is None or difference == 0:
            continue
        adjustments.append(
            Movement(
                type=MovementType.ADJUSTMENT,
                sku=line.key.sku,
                qty=difference,
                location=line.key.location,
                lot=line.key.lot,
                at=at,
                reason=reason,
                reference=sheet.id,
            )
        )
    sheet.posted = True
    return adjustments


@dataclass(frozen=True, slots=True)
class Accuracy:
    """``within`` of ``lines`` counted lines were within tolerance; ``share`` to 4 places."""

    lines: int
    within: int
    share: Decimal | None


def stock_accuracy(
    lines: Iterable[CountLine], *, tolerance_ratio: Decimal = ZERO, tolerance_qty: Decimal = ZERO
) -> Accuracy:
    """Share of counted lines with ``|counted - expected| <= max(tolerance_qty, ratio x expected)``."""
    counted = [ln for ln in lines if ln.difference is not None]
    within = 0
    for line in counted:
        assert line.difference is not None
        allowed = max(tolerance_qty, tolerance_ratio * abs(line.expected))
        if abs(line.difference) <= allowed:
            within += 1
    if not counted:
        return Accuracy(0, 0, None)
    share = (Decimal(within) / Decimal(len(counted))).quantize(SHARE_QUANTUM, rounding=ROUND_HALF_UP)
    return Accuracy(len(counted), within, share)


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, the day clamped to the end of the target month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class CycleCountItem:
    sku: str
    abc_class: str
    last_counted: date | None


@dataclass(frozen=True, slots=True)
class DueCount:
    """An item to count: when it fell due (None: never counted) and how many days late."""

    sku: str
    abc_class: str
    due_on: date | None
    days_overdue: int | None


def cycle_counts_due(
    items: Iterable[CycleCountItem], on: date, interval_months: Mapping[str, int] = DEFAULT_CYCLE_MONTHS
) -> list[DueCount]:
    """Items due for a count on ``on``: never counted first, then the longest overdue, then by sku."""
    due: list[DueCount] = []
    for item in items:
        if item.abc_class not in interval_months:
            raise ValueError(f"no cycle-count interval for class {item.abc_class!r}")
        if item.last_counted is None:
            due.append(DueCount(item.sku, item.abc_class, None, None))
            continue
        due_on = add_months(item.last_counted, interval_months[item.abc_class])
        if due_on <= on:
            due.append(DueCount(item.sku, item.abc_class, due_on, (on - due_on).days))
    return sorted(due, key=lambda d: (d.due_on is not None, d.due_on or on, d.sku))
