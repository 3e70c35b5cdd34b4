"""Master-data records as plain, immutable dataclasses.

These mirror the bodies of the public API (``/work/shared/API.md``, masterdata section) with
Python types: quantities, costs and minutes are :class:`decimal.Decimal`, dates are
:class:`datetime.date`, exception windows are timezone-aware :class:`datetime.datetime`.
Nothing here checks anything: a record can hold bad values (a negative lead time, a malformed
"25:00" shift) so that :mod:`services.masterdata.domain.validation` can report every problem of a
batch at once instead of failing on the first.

Conventions chosen where the handbook is silent:

- ``UnitConversion(from_uom, to_uom, factor)`` reads "1 ``from_uom`` = ``factor`` ``to_uom``"; it
  is usable both ways and conversions chain (KG → G → MG). A conversion with a ``sku`` only
  applies to that item (1 BOX of one item = 12 EA) and wins over a general one.
- A BOM line's effectivity is the half-open interval ``[valid_from, valid_to)``; ``None`` means
  open (since always / for ever).
- ``SupplierItem.priority``: the lower the number, the more preferred the source.
- ``WorkCenter.efficiency`` is a ratio (``0.85`` = 85 %): operation time is divided by it.
- Calendar weekdays are the keys ``mon`` … ``sun``; a shift is ``(start, end)`` as ``"HH:MM"``;
  ``end <= start`` means the shift crosses midnight into the next day; ``"24:00"`` is allowed as
  an end only.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ItemKind(StrEnum):
    MAKE = "make"
    BUY = "buy"


class LotSizingRule(StrEnum):
    LOT_FOR_LOT = "lot_for_lot"
    FIXED = "fixed"
    PERIOD = "period"
    EOQ = "eoq"


class ExceptionKind(StrEnum):
    MAINTENANCE = "maintenance"
    CLOSED = "closed"
    OVERTIME = "overtime"


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class UnitConversion:
    """1 ``from_uom`` = ``factor`` ``to_uom`` (for ``sku`` only when given)."""

    from_uom: str
    to_uom: str
    factor: Decimal
    sku: str | None = None


@dataclass(frozen=True, slots=True)
class Family:
    code: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class LotSizing:
    rule: LotSizingRule = LotSizingRule.LOT_FOR_LOT
    quantity: Decimal | None = None
    periods: int | None = None
    min_qty: Decimal | None = None
    max_qty: Decimal | None = None
    multiple: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Item:
    sku: str
    name: str
    uom: str
    kind: ItemKind
    family: str | None = None
    lead_time_days: int = 0
    safety_stock: Decimal = ZERO
    lot_sizing: LotSizing = field(default_factory=LotSizing)
    standard_cost: Decimal | None = None
    phantom: bool = False


@dataclass(frozen=True, slots=True)
class BomLine:
    """One component of ``parent``: ``qty_per`` units (in ``uom``, default the component's)."""

    parent: str
    component: str
    qty_per: Decimal
    scrap_pct: Decimal = ZERO
    valid_from: date | None = None
    valid_to: date | None = None
    uom: str | None = None

    def is_valid_at(self, day: date) -> bool:
        """Effectivity rule: ``valid_from <= day < valid_to`` (open ends always hold)."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day < self.valid_to
        )


@dataclass(frozen=True, slots=True)
class Bom:
    """All lines of one parent (the body of ``PUT /boms/{parent}``)."""

    parent: str
    lines: tuple[BomLine, ...] = ()


@dataclass(frozen=True, slots=True)
class Alternate:
    work_center: str
    run_minutes_per_unit: Decimal


@dataclass(frozen=True, slots=True)
class Operation:
    seq: int
    work_center: str
    setup_minutes: Decimal = ZERO
    run_minutes_per_unit: Decimal = ZERO
    alternates: tuple[Alternate, ...] = ()


@dataclass(frozen=True, slots=True)
class Routing:
    sku: str
    operations: tuple[Operation, ...] = ()


@dataclass(frozen=True, slots=True)
class Machine:
    code: str


@dataclass(frozen=True, slots=True)
class WorkCenter:
    code: str
    name: str
    calendar: str
    machines: tuple[Machine, ...] = ()
    efficiency: Decimal = ONE
    hourly_cost: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class CalendarException:
    start: datetime
    end: datetime
    kind: ExceptionKind
    machine: str | None = None


Shift = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Calendar:
    code: str
    weekdays: Mapping[str, tuple[Shift, ...]] = field(default_factory=dict)
    holidays: tuple[date, ...] = ()
    exceptions: tuple[CalendarException, ...] = ()


@dataclass(frozen=True, slots=True)
class SupplierItem:
    sku: str
    lead_time_days: int = 0
    min_order_qty: Decimal = ZERO
    multiple: Decimal | None = None
    price: Decimal = ZERO
    priority: int = 1
    uom: str | None = None


@dataclass(frozen=True, slots=True)
class Supplier:
    code: str
    name: str = ""
    items: tuple[SupplierItem, ...] = ()


@dataclass(frozen=True, slots=True)
class MasterDataBatch:
    """The body of ``POST /imports``: lists of records, validated and applied as a whole."""

    items: tuple[Item, ...] = ()
    boms: tuple[Bom, ...] = ()
    routings: tuple[Routing, ...] = ()
    work_centers: tuple[WorkCenter, ...] = ()
    calendars: tuple[Calendar, ...] = ()
    suppliers: tuple[Supplier, ...] = ()
    units: tuple[Unit, ...] = ()
    unit_conversions: tuple[UnitConversion, ...] = ()
    families: tuple[Family, ...] = ()


@dataclass(frozen=True, slots=True)
class MasterData:
    """The existing, already valid master data, keyed by each record's code."""

    items: Mapping[str, Item] = field(default_factory=dict)
    boms: Mapping[str, Bom] = field(default_factory=dict)
    routings: Mapping[str, Routing] = field(default_factory=dict)
    work_centers: Mapping[str, WorkCenter] = field(default_factory=dict)
    calendars: Mapping[str, Calendar] = field(default_factory=dict)
    suppliers: Mapping[str, Supplier] = field(default_factory=dict)
    units: Mapping[str, Unit] = field(default_factory=dict)
    unit_conversions: tuple[UnitConversion, ...] = ()
    families: Mapping[str, Family] = field(default_factory=dict)


class UnitConverter:
    """Conversion factors between units, through chains of declared conversions.

    Rule: ``factor(a, b, sku)`` is the number of ``b`` in one ``a``. It is 1 for ``a == b``; else
    the product of factors along the shortest chain of conversions (each usable both ways, the
    reverse way as ``1 / factor``), using the item-specific conversions of ``sku`` together with
    the general ones; ``None`` when no chain exists. Non-positive factors are ignored.
    """

    __slots__ = ("_edges",)

    def __init__(self, conversions: Iterable[UnitConversion]) -> None:
        self._edges: dict[str | None, dict[str, list[tuple[str, Decimal]]]] = {}
        for conv in conversions:
            if not conv.factor.is_finite() or conv.factor <= ZERO:
                continue
            graph = self._edges.setdefault(conv.sku, {})
            graph.setdefault(conv.from_uom, []).append((conv.to_uom, conv.factor))
            graph.setdefault(conv.to_uom, []).append((conv.from_uom, ONE / conv.factor))

    def factor(self, from_uom: str, to_uom: str, sku: str | None = None) -> Decimal | None:
        if from_uom == to_uom:
            return ONE
        general = self._edges.get(None, {})
        specific = self._edges.get(sku, {}) if sku is not None else {}
        seen = {from_uom: ONE}
        queue = deque([from_uom])
        while queue:
            unit = queue.popleft()
            # item-specific edges first, so a specific conversion wins over a general one
            for nxt, f in (*specific.get(unit, ()), *general.get(unit, ())):
                if nxt not in seen:
                    seen[nxt] = seen[unit] * f
                    if nxt == to_uom:
                        return seen[nxt]
                    queue.append(nxt)
        return None
