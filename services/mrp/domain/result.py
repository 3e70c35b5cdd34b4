"""Immutable results of an MRP run: planned orders with pegging, records and action messages.

Equality of two :class:`MrpResult` objects compares the plan (orders, pegging, records, actions,
counts), never the timings nor how much work the run did; this is what lets a net-change run be
checked against a regenerative one.

Lazy views: the engine keeps its plan as arrays and gives ``items`` as a :class:`LazyPlans`
mapping (an item's :class:`ItemPlan`, with record rows, pegging and actions, is built when it is
first read; the last few are cached) and ``planned_orders`` / ``actions`` as :class:`Concat`
sequences over the items in sku order. They compare equal to plain dicts and tuples holding the
same objects. A result built by hand (the service rebuilding a stored run) may use plain ones.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from itertools import accumulate
from typing import Any, TypeVar, overload

from services.mrp.domain.calendar import Calendar
from services.mrp.domain.model import ItemKind, RunParameters, from_micro

_Date = date  # the field name `date` shadows the type inside classes


class PegKind(StrEnum):
    SALES_ORDER = "sales_order"
    FORECAST = "forecast"
    PARENT_ORDER = "parent_order"
    PHANTOM = "phantom"
    SAFETY_STOCK = "safety_stock"


@dataclass(frozen=True, slots=True)
class Peg:
    """A requirement (or part of one) covered by a planned order.

    ``reference``: the sales order id, the parent order id (planned or firm), the phantom's sku,
    or the forecast bucket's start date (ISO); empty for safety stock. ``line`` is the sales-order
    line. ``parent_sku`` names the parent (or phantom) item of a dependent demand. ``date`` is the
    date the requirement counts on.
    """

    kind: PegKind
    reference: str
    line: int | None
    parent_sku: str | None
    date: _Date
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class PlannedOrder:
    id: str
    sku: str
    kind: ItemKind
    quantity: Decimal
    release_date: date
    due_date: date
    pegging: tuple[Peg, ...]


class ActionKind(StrEnum):
    RELEASE = "release"
    PAST_DUE = "past_due"
    RESCHEDULE_IN = "reschedule_in"
    RESCHEDULE_OUT = "reschedule_out"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True)
class Action:
    """Advice on one order. ``date``: the planned order's release date, or the receipt's due date;
    ``new_date``: where to move the receipt (reschedule only)."""

    kind: ActionKind
    sku: str
    order_id: str
    quantity: Decimal
    date: _Date
    new_date: _Date | None = None


@dataclass(frozen=True, slots=True)
class RecordRow:
    date: _Date
    gross_requirements: Decimal
    scheduled_receipts: Decimal
    projected_available: Decimal
    net_requirements: Decimal
    planned_receipts: Decimal
    planned_releases: Decimal


# Raw row: (ordinal, gross, scheduled receipts, projected available, net, planned receipts,
# planned releases), quantities in micro-units.
RawRow = tuple[int, int, int, int, int, int, int]


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """The time-phased MRP record of one item (rows kept as micro-unit integers)."""

    sku: str
    low_level_code: int
    starting_available: int
    safety_stock: int
    raw_rows: tuple[RawRow, ...]

    @property
    def rows(self) -> tuple[RecordRow, ...]:
        """The rows as decimals."""
        return tuple(
            RecordRow(
                date.fromordinal(o),
                from_micro(g),
                from_micro(sr),
                from_micro(pab),
                from_micro(net),
                from_micro(prc),
                from_micro(prl),
            )
            for (o, g, sr, pab, net, prc, prl) in self.raw_rows
        )

    def row(self, d: date) -> RecordRow | None:
        """The row of date ``d``, if the record has one."""
        o = d.toordinal()
        for r in self.rows:
            if r.date.toordinal() == o:
                return r
        return None


@dataclass(frozen=True, slots=True)
class ItemPlan:
    """Everything the run decided for one item; ``components`` are its BOM children (all lines)."""

    record: ItemRecord
    planned_orders: tuple[PlannedOrder, ...]
    actions: tuple[Action, ...]
    components: tuple[str, ...]


T = TypeVar("T")


class LazyPlans(Mapping[str, ItemPlan]):
    """sku -> :class:`ItemPlan`, in sku order, each built on first access by ``build``."""

    def __init__(self, skus: Sequence[str], build: Callable[[str], ItemPlan], cache_size: int = 64):
        self._skus = skus
        self._known = frozenset(skus)
        self._build = build
        self._cache: OrderedDict[str, ItemPlan] = OrderedDict()
        self._cache_size = cache_size

    def __getitem__(self, sku: str) -> ItemPlan:
        plan = self._cache.get(sku)
        if plan is not None:
            self._cache.move_to_end(sku)
            return plan
        if sku not in self._known:
            raise KeyError(sku)
        plan = self._build(sku)
        self._cache[sku] = plan
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return plan

    def __contains__(self, sku: object) -> bool:
        return sku in self._known

    def __iter__(self) -> Iterator[str]:
        return iter(self._skus)

    def __len__(self) -> int:
        return len(self._skus)

    def __repr__(self) -> str:
        return f"LazyPlans({len(self)} items)"


class Concat(Sequence[T]):
    """The concatenation of ``part(key)`` over ``keys`` (``sizes[i]`` = len of part i)."""

    def __init__(self, keys: Sequence[str], sizes: Sequence[int], part: Callable[[str], Sequence[T]]):
        self._keys = [k for k, n in zip(keys, sizes, strict=True) if n]
        self._starts = [0, *accumulate(n for n in sizes if n)]
        self._part = part

    def __len__(self) -> int:
        return self._starts[-1]

    @overload
    def __getitem__(self, i: int) -> T: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[T, ...]: ...
    def __getitem__(self, i: int | slice) -> T | tuple[T, ...]:
        if isinstance(i, slice):
            return tuple(self[j] for j in range(*i.indices(len(self))))
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        k = bisect_right(self._starts, i) - 1
        return self._part(self._keys[k])[i - self._starts[k]]

    def __iter__(self) -> Iterator[T]:
        for key in self._keys:
            yield from self._part(key)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Concat({len(self)})"


@dataclass(frozen=True)
class MrpResult:
    parameters: RunParameters
    calendar: Calendar
    items: Mapping[str, ItemPlan]
    planned_orders: Sequence[PlannedOrder]
    actions: Sequence[Action]
    counts: Mapping[str, int]
    # Seconds spent per low-level code (key -1: preparation); not part of the plan.
    timings: Mapping[int, float] = field(default_factory=dict, compare=False)
    # How many items this run (re)planned; not part of the plan.
    items_planned: int = field(default=0, compare=False)
    # The engine's arrays (for net change); not part of the plan.
    engine_state: Any = field(default=None, compare=False, repr=False)

    def record(self, sku: str) -> ItemRecord:
        return self.items[sku].record

    def orders_of(self, sku: str) -> tuple[PlannedOrder, ...]:
        return self.items[sku].planned_orders
