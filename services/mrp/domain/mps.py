"""Master production schedule (MPS, "PDP — plan directeur de production") by end item and week.

Buckets are consecutive weeks identified by their Monday; week ``w`` is ``0``-based below.
Quantities are :class:`~decimal.Decimal` with at most 6 decimal places (as in MRP).

Customer orders to weeks (:func:`orders_by_week`): an order due on a non-working day counts on
the previous working day (PLANNING-SEMANTICS.md, "Dates and calendars"), then falls in the week
(Monday–Sunday) containing that day. So an order due on a Monday that is a holiday counts in the
previous week. Orders due before the first week count in the first week (late); orders due after
the last week are outside the horizon and ignored.

Time fences: the first ``dtf`` weeks are inside the demand time fence, the first ``ptf`` weeks
inside the planning time fence.

1. Demand: inside the DTF ``demand = orders``; after it ``demand = max(forecast, orders)``.
2. Projected available balance: ``PAB(w) = PAB(w−1) + MPS(w) − demand(w)``, ``PAB(−1) = on hand``.
3. ``MPS(w) = firm(w) + planned(w)``. Firm receipts are taken as given, in every week.
   Inside the PTF the schedule is frozen to them: nothing is planned there; a ``PAB`` below the
   safety stock is a ``shortage_inside_ptf`` exception (quantity ``safety_stock − PAB``).
   After the PTF, when ``PAB(w−1) + firm(w) − demand(w) < safety_stock``, a planned quantity
   covers the shortage, sized by the lot rule (the MRP rules: ``lot_for_lot`` or ``fixed``
   ``quantity × ceil(s / quantity)``, then ``min_qty``, ``multiple``, ``max_qty``, the pieces
   of a max split summed in the week). So ``PAB ≥ safety_stock`` after the PTF.
4. Discrete available-to-promise. ATP weeks: the first week and every week with ``MPS > 0``.
   ``ATP(first) = on hand + MPS(first) − orders`` and ``ATP(k) = MPS(k) − orders``, the orders
   summed from the ATP week up to the week before the next ATP week. Backward netting: from the
   last ATP week back, a negative ATP is set to 0 and added to the previous ATP week. An ATP
   still negative in the first week (more promised than available) is an ``atp_negative``
   exception. Other weeks have ``atp = None``.
5. Cumulative ATP: the running sum of the (netted) discrete ATP.
6. ``orders_over_forecast``: a week whose orders exceed its forecast (quantity = the excess).

:func:`promise`: an order of ``qty`` wanted in week ``w`` can be promised in the earliest week
``p ≥ w`` whose cumulative ATP, and every later one, is at least ``qty`` (promising it there
consumes ``qty`` of the cumulative ATP from ``p`` on).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from services.mrp.domain.calendar import Calendar
from services.mrp.domain.lot_sizing import LotPolicy, size_lot
from services.mrp.domain.model import LotRule, LotSizing, from_micro, to_micro

ZERO = Decimal(0)
_WEEK = timedelta(days=7)


class Zone(StrEnum):
    """Where a week stands relative to the time fences."""

    FROZEN = "frozen"  # inside the DTF (and the PTF when DTF ≤ PTF)
    SLUSHY = "slushy"  # after the DTF, inside the PTF
    LIQUID = "liquid"  # after the PTF


class MpsExceptionKind(StrEnum):
    SHORTAGE_INSIDE_PTF = "shortage_inside_ptf"
    ATP_NEGATIVE = "atp_negative"
    ORDERS_OVER_FORECAST = "orders_over_forecast"


@dataclass(frozen=True, slots=True)
class MpsInput:
    """One end item's MPS inputs; ``forecast``, ``orders`` and ``firm`` are aligned with ``weeks``
    (``firm`` may be empty: no firm receipts)."""

    weeks: Sequence[date]
    forecast: Sequence[Decimal]
    orders: Sequence[Decimal]
    on_hand: Decimal
    safety_stock: Decimal = ZERO
    lot: LotSizing = field(default_factory=LotSizing)
    firm: Sequence[Decimal] = ()
    dtf: int = 0
    ptf: int = 0
    sku: str = ""


@dataclass(frozen=True, slots=True)
class MpsWeek:
    week: date
    zone: Zone
    forecast: Decimal
    orders: Decimal
    demand: Decimal
    pab: Decimal
    firm_mps: Decimal
    planned_mps: Decimal
    atp: Decimal | None
    cumulative_atp: Decimal

    @property
    def mps(self) -> Decimal:
        return self.firm_mps + self.planned_mps


@dataclass(frozen=True, slots=True)
class MpsException:
    week: date
    kind: MpsExceptionKind
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class MpsPlan:
    sku: str
    weeks: tuple[MpsWeek, ...]
    exceptions: tuple[MpsException, ...]


def orders_by_week(
    weeks: Sequence[date], orders: Iterable[tuple[date, Decimal]], calendar: Calendar | None = None
) -> list[Decimal]:
    """Customer-order quantities per week (the module's bucketing rule)."""
    _check_weeks(weeks)
    calendar = calendar or Calendar()
    totals = [ZERO] * len(weeks)
    if not weeks:
        return totals
    end = weeks[-1] + _WEEK
    for due, qty in orders:
        day = calendar.prev_working(due)
        if day >= end:
            continue
        totals[max(bisect_right(weeks, day) - 1, 0)] += qty
    return totals


def plan_mps(inp: MpsInput) -> MpsPlan:
    """The MPS record of one end item (see the module rules)."""
    n = len(inp.weeks)
    _check(inp)
    firm = list(inp.firm) if inp.firm else [ZERO] * n
    policy = _policy(inp)

    demand: list[Decimal] = []
    pab: list[Decimal] = []
    planned: list[Decimal] = []
    exceptions: list[MpsException] = []
    balance = inp.on_hand
    for w in range(n):
        week_demand = inp.orders[w] if w < inp.dtf else max(inp.forecast[w], inp.orders[w])
        balance += firm[w] - week_demand
        quantity = ZERO
        if w >= inp.ptf and balance < inp.safety_stock:
            shortage = to_micro(inp.safety_stock - balance, f"{inp.sku} shortage")
            quantity = _tidy(from_micro(sum(size_lot(policy, shortage))))
            balance += quantity
        elif w < inp.ptf and balance < inp.safety_stock:
            exceptions.append(
                MpsException(inp.weeks[w], MpsExceptionKind.SHORTAGE_INSIDE_PTF, inp.safety_stock - balance)
            )
        if inp.orders[w] > inp.forecast[w]:
            exceptions.append(
                MpsException(
                    inp.weeks[w], MpsExceptionKind.ORDERS_OVER_FORECAST, inp.orders[w] - inp.forecast[w]
                )
            )
        demand.append(week_demand)
        pab.append(balance)
        planned.append(quantity)

    mps = [f + p for f, p in zip(firm, planned, strict=True)]
    atp = _discrete_atp(inp.on_hand, mps, inp.orders)
    if n and atp[0] is not None and atp[0] < 0:
        exceptions.append(MpsException(inp.weeks[0], MpsExceptionKind.ATP_NEGATIVE, -atp[0]))

    rows: list[MpsWeek] = []
    cumulative = ZERO
    for w in range(n):
        cumulative += atp[w] or ZERO
        rows.append(
            MpsWeek(
                week=inp.weeks[w],
                zone=_zone(w, inp.dtf, inp.ptf),
                forecast=inp.forecast[w],
                orders=inp.orders[w],
                demand=demand[w],
                pab=pab[w],
                firm_mps=firm[w],
                planned_mps=planned[w],
                atp=atp[w],
                cumulative_atp=cumulative,
            )
        )
    exceptions.sort(key=lambda e: (e.week, list(MpsExceptionKind).index(e.kind)))
    return MpsPlan(inp.sku, tuple(rows), tuple(exceptions))


def promise(atp_rows: Sequence[MpsWeek], qty: Decimal, wanted_week: date) -> date | None:
    """The earliest week, not before the week of ``wanted_week``, where ``qty`` can be promised."""
    if qty <= 0:
        raise ValueError("a promised quantity must be > 0")
    if not atp_rows:
        return None
    start = max(bisect_right([r.week for r in atp_rows], wanted_week) - 1, 0)
    suffix_min: list[Decimal] = [ZERO] * len(atp_rows)
    running: Decimal | None = None
    for i in range(len(atp_rows) - 1, -1, -1):
        value = atp_rows[i].cumulative_atp
        running = value if running is None else min(running, value)
        suffix_min[i] = running
    for i in range(start, len(atp_rows)):
        if suffix_min[i] >= qty:
            return atp_rows[i].week
    return None


# -- internals -----------------------------------------------------------------------------------


def _check_weeks(weeks: Sequence[date]) -> None:
    for i, week in enumerate(weeks):
        if week.weekday() != 0:
            raise ValueError(f"week {week.isoformat()} is not a Monday")
        if i and week - weeks[i - 1] != _WEEK:
            raise ValueError(f"weeks must be consecutive: {weeks[i - 1].isoformat()} then {week.isoformat()}")


def _check(inp: MpsInput) -> None:
    _check_weeks(inp.weeks)
    n = len(inp.weeks)
    if len(inp.forecast) != n or len(inp.orders) != n or (inp.firm and len(inp.firm) != n):
        raise ValueError(f"{inp.sku}: forecast, orders and firm receipts need one value per week")
    if inp.dtf < 0 or inp.ptf < 0:
        raise ValueError(f"{inp.sku}: time fences must not be negative")
    if inp.safety_stock < 0:
        raise ValueError(f"{inp.sku}: safety stock must not be negative")
    for name, values in (("forecast", inp.forecast), ("orders", inp.orders), ("firm", inp.firm)):
        if any(v < 0 for v in values):
            raise ValueError(f"{inp.sku}: {name} quantities must not be negative")


def _policy(inp: MpsInput) -> LotPolicy:
    if LotRule(inp.lot.rule) not in (LotRule.LOT_FOR_LOT, LotRule.FIXED):
        raise ValueError(f"{inp.sku}: the MPS takes lot_for_lot or fixed lot sizing, not {inp.lot.rule}")
    return LotPolicy.from_lot_sizing(inp.lot, inp.sku)


def _zone(w: int, dtf: int, ptf: int) -> Zone:
    if w < dtf:
        return Zone.FROZEN
    if w < ptf:
        return Zone.SLUSHY
    return Zone.LIQUID


def _discrete_atp(on_hand: Decimal, mps: list[Decimal], orders: Sequence[Decimal]) -> list[Decimal | None]:
    n = len(mps)
    starts = [w for w in range(n) if w == 0 or mps[w] > 0]
    atp: list[Decimal | None] = [None] * n
    values: list[Decimal] = []
    for j, start in enumerate(starts):
        end = starts[j + 1] if j + 1 < len(starts) else n
        opening = on_hand if start == 0 else ZERO
        values.append(opening + mps[start] - sum(orders[start:end], ZERO))
    for j in range(len(values) - 1, 0, -1):
        if values[j] < 0:
            values[j - 1] += values[j]
            values[j] = ZERO
    for start, value in zip(starts, values, strict=True):
        atp[start] = value
    return atp


def _tidy(q: Decimal) -> Decimal:
    """``50.000000`` → ``50``, ``7.250000`` → ``7.25`` (same value, shorter text)."""
    return q.quantize(Decimal(1)) if q == q.to_integral_value() else q.normalize()
