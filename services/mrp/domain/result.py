"""Immutable results of an MRP run: planned orders with pegging, records and action messages.

Equality of two :class:`MrpResult` objects compares the plan (orders, pegging, records, actions,
counts), never the timings nor how much work the run did; this is what lets a net-change run be
checked against a regenerative one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

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


@dataclass(frozen=True)
class MrpResult:
    parameters: RunParameters
    calendar: Calendar
    items: Mapping[str, ItemPlan]
    planned_orders: tuple[PlannedOrder, ...]
    actions: tuple[Action, ...]
    counts: Mapping[str, int]
    # Seconds spent per low-level code (key -1: preparation); not part of the plan.
    timings: Mapping[int, float] = field(default_factory=dict, compare=False)
    # How many items this run (re)planned; not part of the plan.
    items_planned: int = field(default=0, compare=False)

    def record(self, sku: str) -> ItemRecord:
        return self.items[sku].record

    def orders_of(self, sku: str) -> tuple[PlannedOrder, ...]:
        return self.items[sku].planned_orders
