"""The snapshot an MRP run works on, and the quantity representation.

The service builds a :class:`Snapshot` from its replicas (master data, stock, order book,
demand); the engine never reads anything else.

Quantities
----------
Quantities enter and leave as :class:`decimal.Decimal`. Inside the engine every quantity is a
Python ``int`` counting millionths of a unit ("micro-units", :data:`SCALE` = 10**6). Sums,
differences, comparisons, ``ceil`` to a lot size or a multiple and the max split are therefore
exact, and much faster than ``Decimal``. The one division of the semantics, the scrap factor of a
dependent demand, is evaluated exactly (as a fraction) and rounded once, half to even, to 6
decimal places: ``round6(Q × qty_per / (1 − scrap_pct/100))``. The EOQ lot size (a square root)
is rounded half up to 6 places. Nothing else is rounded.

Consequently every input quantity (stock, orders, forecast, safety stock, lot-sizing parameters)
must have at most 6 decimal places; more is a :class:`ValueError`. ``qty_per``, ``scrap_pct``
and the EOQ cost parameters may have any number of decimals (they only enter the rounded
expressions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from services.mrp.domain.calendar import Calendar

SCALE = 1_000_000
"""Internal quantities are integers of 1/SCALE unit."""

_SCALE_DECIMAL_EXPONENT = -6


def to_micro(value: Decimal | int, what: str = "quantity") -> int:
    """Exact conversion of a decimal quantity to micro-units; more than 6 decimals is an error."""
    if isinstance(value, int):
        return value * SCALE
    scaled = value.scaleb(6)
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise ValueError(f"{what} {value} has more than 6 decimal places or is not finite")
    return int(scaled)


def from_micro(value: int) -> Decimal:
    """Micro-units back to a ``Decimal`` with exactly 6 decimal places."""
    return Decimal(value).scaleb(_SCALE_DECIMAL_EXPONENT)


def round_half_even_div(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to the nearest integer, ties to even (denominator > 0)."""
    q, r = divmod(numerator, denominator)
    twice = 2 * r
    if twice > denominator or (twice == denominator and q % 2 == 1):
        return q + 1
    return q


def ceil_div(numerator: int, denominator: int) -> int:
    """``ceil(numerator / denominator)`` for a positive denominator."""
    return -((-numerator) // denominator)


class ItemKind(StrEnum):
    MAKE = "make"
    BUY = "buy"


class LotRule(StrEnum):
    LOT_FOR_LOT = "lot_for_lot"
    FIXED = "fixed"
    PERIOD = "period"
    EOQ = "eoq"


@dataclass(frozen=True, slots=True)
class LotSizing:
    """An item's lot-sizing policy as stored in master data (``None`` = not set)."""

    rule: LotRule = LotRule.LOT_FOR_LOT
    quantity: Decimal | None = None
    periods: int | None = None
    min_qty: Decimal | None = None
    max_qty: Decimal | None = None
    multiple: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Item:
    sku: str
    kind: ItemKind = ItemKind.MAKE
    lead_time_days: int = 0
    safety_stock: Decimal = Decimal(0)
    lot_sizing: LotSizing = field(default_factory=LotSizing)
    standard_cost: Decimal = Decimal(0)
    phantom: bool = False
    low_level_code: int | None = None


@dataclass(frozen=True, slots=True)
class BomLine:
    """``qty_per`` of ``component`` per unit of ``parent``; valid on ``[valid_from, valid_to)``."""

    parent: str
    component: str
    qty_per: Decimal
    scrap_pct: Decimal = Decimal(0)
    valid_from: date | None = None
    valid_to: date | None = None


class OrderStatus(StrEnum):
    PLANNED = "planned"
    FIRM = "firm"
    RELEASED = "released"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CLOSED = "closed"


RECEIPT_STATUSES = frozenset({OrderStatus.FIRM, OrderStatus.RELEASED, OrderStatus.IN_PROGRESS})
"""Statuses of an open order that make it a scheduled receipt."""


@dataclass(frozen=True, slots=True)
class ScheduledReceipt:
    """An open manufacturing or purchase order: its remaining quantity is expected at ``due_date``."""

    order_id: str
    sku: str
    quantity: Decimal
    due_date: date
    kind: ItemKind = ItemKind.MAKE
    status: OrderStatus = OrderStatus.FIRM


@dataclass(frozen=True, slots=True)
class SalesOrderLine:
    order_id: str
    line: int
    sku: str
    quantity: Decimal
    due_date: date


@dataclass(frozen=True, slots=True)
class ForecastBucket:
    """Forecast of ``sku`` for the bucket starting at ``start`` (it ends at the next bucket's start)."""

    sku: str
    start: date
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class ParentOrder:
    """A firm (or firm planned) order not yet released: it generates dependent demand at release."""

    order_id: str
    sku: str
    quantity: Decimal
    release_date: date
    status: OrderStatus = OrderStatus.FIRM


DEFAULT_ORDER_COST = Decimal(100)
"""EOQ ordering (set-up) cost per order, in currency units, when the run does not give one."""
DEFAULT_HOLDING_RATE = Decimal("0.25")
"""EOQ yearly holding cost as a fraction of the standard cost, when the run does not give one."""


@dataclass(frozen=True, slots=True)
class RunParameters:
    today: date
    horizon_days: int
    release_window_days: int = 0
    order_cost: Decimal = DEFAULT_ORDER_COST
    holding_rate: Decimal = DEFAULT_HOLDING_RATE

    def __post_init__(self) -> None:
        if self.horizon_days < 1:
            raise ValueError("horizon_days must be at least 1")
        if self.release_window_days < 0:
            raise ValueError("release_window_days must not be negative")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one MRP run reads. ``stock`` maps sku to on hand − reserved (nettable)."""

    parameters: RunParameters
    items: tuple[Item, ...]
    bom: tuple[BomLine, ...] = ()
    stock: Mapping[str, Decimal] = field(default_factory=lambda: MappingProxyType({}))
    receipts: tuple[ScheduledReceipt, ...] = ()
    sales_orders: tuple[SalesOrderLine, ...] = ()
    forecasts: tuple[ForecastBucket, ...] = ()
    parent_orders: tuple[ParentOrder, ...] = ()
    calendar: Calendar = field(default_factory=Calendar)
