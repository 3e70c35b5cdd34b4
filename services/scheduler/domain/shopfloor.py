"""Shop-floor tracking, pure: the state machine of an operation's confirmations, order costs,
plan-versus-actual adherence and Pareto lists.

State machine per (order, operation)::

    (none) --start--> started --pause--> paused --resume--> started --finish--> finished

Events must come in time order (``at`` never before the previous event's), on the machine the
operation was started on. Good and scrap quantities add up over the events that report them.
Actual working minutes are the clock minutes while the operation runs (start/resume → pause/
finish): the operator pauses it when work stops.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

EVENTS = ("start", "pause", "resume", "finish")
TRANSITIONS: Mapping[str | None, Mapping[str, str]] = {
    None: {"start": "started"},
    "started": {"pause": "paused", "finish": "finished"},
    "paused": {"resume": "started"},
    "finished": {},
}


class TransitionError(ValueError):
    """A confirmation the operation's state does not allow; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class OperationProgress:
    state: str | None = None
    machine: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    last_at: datetime | None = None
    running_since: datetime | None = None
    worked_minutes: Decimal = Decimal(0)
    good_qty: Decimal = Decimal(0)
    scrap_qty: Decimal = Decimal(0)


def apply(
    current: OperationProgress,
    event: str,
    *,
    machine: str,
    at: datetime,
    good_qty: Decimal = Decimal(0),
    scrap_qty: Decimal = Decimal(0),
) -> OperationProgress:
    """The operation's progress after one confirmation, or a :class:`TransitionError`."""
    allowed = TRANSITIONS[current.state]
    if event not in allowed:
        state = current.state or "not started"
        can = ", ".join(allowed) or "nothing (it is finished)"
        raise TransitionError("event", f"cannot {event} an operation that is {state}; it allows {can}")
    if current.machine is not None and machine != current.machine:
        raise TransitionError("machine", f"the operation runs on {current.machine}, not {machine}")
    if current.last_at is not None and at < current.last_at:
        raise TransitionError(
            "at", f"must not be before the previous confirmation ({current.last_at.isoformat()})"
        )
    state = allowed[event]
    worked = current.worked_minutes
    if current.running_since is not None and event in ("pause", "finish"):
        worked += Decimal(str(round((at - current.running_since).total_seconds() / 60, 3)))
    return replace(
        current,
        state=state,
        machine=machine,
        started_at=current.started_at or at,
        finished_at=at if state == "finished" else None,
        last_at=at,
        running_since=at if state == "started" else None,
        worked_minutes=worked,
        good_qty=current.good_qty + good_qty,
        scrap_qty=current.scrap_qty + scrap_qty,
    )


# -- cost --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CostLine:
    operation: str
    work_center: str
    minutes: Decimal
    hourly_cost: Decimal

    @property
    def cost(self) -> Decimal:
        return self.minutes * self.hourly_cost / 60


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    labour: Decimal
    material: Decimal
    lines: tuple[CostLine, ...]

    @property
    def total(self) -> Decimal:
        return self.labour + self.material


def material_cost(
    components: Iterable[tuple[str, Decimal, Decimal]], quantity: Decimal, costs: Mapping[str, Decimal]
) -> Decimal:
    """Σ component qty_per / (1 − scrap%/100) × quantity × standard cost."""
    total = Decimal(0)
    for sku, qty_per, scrap_pct in components:
        per = qty_per / (1 - scrap_pct / 100) if scrap_pct else qty_per
        total += per * quantity * costs.get(sku, Decimal(0))
    return total


def cost(lines: Sequence[CostLine], material: Decimal) -> CostBreakdown:
    return CostBreakdown(sum((ln.cost for ln in lines), Decimal(0)), material, tuple(lines))


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


# -- adherence and Pareto -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Adherence:
    operations: int
    started: int
    started_on_time: int
    finished: int
    finished_on_time: int

    @property
    def start_adherence(self) -> float | None:
        return None if not self.operations else self.started_on_time / self.operations

    @property
    def finish_adherence(self) -> float | None:
        return None if not self.operations else self.finished_on_time / self.operations


def within(planned: datetime, actual: datetime | None, tolerance_minutes: float) -> bool:
    return actual is not None and abs((actual - planned).total_seconds()) <= tolerance_minutes * 60


def adherence(
    rows: Iterable[tuple[datetime, datetime, datetime | None, datetime | None]], tolerance_minutes: float
) -> Adherence:
    """``rows``: (planned start, planned end, actual start, actual end) per planned operation."""
    n = started = s_ok = finished = f_ok = 0
    for ps, pe, as_, ae in rows:
        n += 1
        started += as_ is not None
        finished += ae is not None
        s_ok += within(ps, as_, tolerance_minutes)
        f_ok += within(pe, ae, tolerance_minutes)
    return Adherence(n, started, s_ok, finished, f_ok)


@dataclass(frozen=True, slots=True)
class ParetoItem:
    cause: str
    amount: Decimal
    share: float
    cumulative_share: float


def pareto(amounts: Iterable[tuple[str | None, Decimal]]) -> list[ParetoItem]:
    """Causes by amount, largest first (ties by name), with their share and cumulative share."""
    totals: dict[str, Decimal] = {}
    for cause, amount in amounts:
        if amount > 0:
            key = cause or "unspecified"
            totals[key] = totals.get(key, Decimal(0)) + amount
    grand = sum(totals.values(), Decimal(0))
    out: list[ParetoItem] = []
    running = Decimal(0)
    for cause, amount in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])):
        running += amount
        out.append(
            ParetoItem(
                cause, amount, float(amount / grand), 1.0 if running == grand else float(running / grand)
            )
        )
    return out


def minutes_between(start: datetime, end: datetime) -> Decimal:
    return Decimal(math.floor((end - start).total_seconds() / 60 * 1000)) / 1000
