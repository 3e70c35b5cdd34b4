"""Plain data shared by milestones, load and proposals (no behaviour beyond small derivations)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from services.capacity.domain.calendar import WorkCenterCalendar

__all__ = [
    "Alternate",
    "ManufacturingOrder",
    "PlannedOperation",
    "RoutingOperation",
    "Subcontract",
    "WorkCenter",
    "occupied_minutes",
    "operation_minutes",
]

# Float noise below this is not a started minute (0.1 + 0.2 minutes of setup is not 0.30000001).
_EPSILON = 1e-9


def operation_minutes(
    setup_minutes: float, quantity: float, run_minutes_per_unit: float, efficiency: float
) -> float:
    """Operation time on a work center: ``(setup + Q × run) / efficiency`` minutes (not rounded)."""
    if efficiency <= 0:
        raise ValueError(f"efficiency must be positive, got {efficiency}")
    return (setup_minutes + quantity * run_minutes_per_unit) / efficiency


def occupied_minutes(minutes: float) -> int:
    """Whole working minutes an operation of ``minutes`` occupies: a started minute is used."""
    return max(0, math.ceil(minutes - _EPSILON))


@dataclass(frozen=True)
class WorkCenter:
    """A work center with its built calendar, efficiency and hourly cost (per machine hour)."""

    code: str
    calendar: WorkCenterCalendar
    efficiency: float = 1.0
    hourly_cost: float = 0.0


@dataclass(frozen=True)
class Alternate:
    """An alternate work center of a routing operation, with its own run time per unit."""

    work_center: str
    run_minutes_per_unit: float


@dataclass(frozen=True)
class Subcontract:
    """An operation that a supplier can do instead, at ``unit_price`` per unit."""

    supplier: str
    unit_price: float


@dataclass(frozen=True)
class RoutingOperation:
    seq: int
    work_center: str
    setup_minutes: float
    run_minutes_per_unit: float
    alternates: tuple[Alternate, ...] = ()
    subcontract: Subcontract | None = None


@dataclass(frozen=True)
class ManufacturingOrder:
    """An order to plan: quantity, release and due dates, and its routing in sequence order."""

    id: str
    quantity: float
    release_date: date
    due_date: date
    operations: tuple[RoutingOperation, ...]


@dataclass(frozen=True)
class PlannedOperation:
    """An operation placed in time (epoch minutes) on a work center, the unit of load.

    ``minutes`` is the exact operation time; ``earliest_start`` / ``latest_end`` bound where a
    move proposal may put it (its forward start and backward end), when known.
    """

    order: str
    seq: int
    work_center: str
    start: int
    end: int
    minutes: float
    machine: str | None = None
    quantity: float = 0.0
    setup_minutes: float = 0.0
    alternates: tuple[Alternate, ...] = ()
    subcontract: Subcontract | None = None
    earliest_start: int | None = None
    latest_end: int | None = None
