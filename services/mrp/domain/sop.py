"""Sales and operations planning (S&OP, "PIC — plan industriel et commercial") by family and month.

One family is planned at a time (:func:`plan_family`); :func:`plan_sop` plans several and
:func:`compare_strategies` runs the three strategies on one family so their costs can be compared.
Quantities are :class:`~decimal.Decimal` units of the family.

Inputs per month: demand forecast, working days (see :func:`working_days_in_month`), a target
ending stock (units, or days of demand) and an optional capacity (units). The family has an
opening stock (a negative opening stock is an opening backlog).

Target stock of month ``m`` (``T(m)``):

- ``target_stock`` when given;
- else ``target_days`` × the demand per working day of the *next* month (forward cover; the last
  month of the horizon uses its own demand per working day; a month without working days counts
  no demand per day), rounded half up to the plan's ``unit``;
- else the previous month's target (no change); before the first month, the opening stock
  (floored at 0). A family without any target keeps its opening stock.

Strategies:

- ``level``: one production rate per working day over the horizon, reaching the last month's
  target: ``total = Σ demand + T(last) − opening`` (0 when negative),
  ``rate = total / Σ working days``. Month ``m`` makes ``rate × working_days(m)`` rounded half up
  to ``unit`` (and never more than what is left of ``total``); the last month with working days
  makes the remainder, so the horizon makes exactly ``total`` and ends at ``T(last)``.
- ``chase``: ``production(m) = max(0, demand(m) + T(m) − I(m−1))`` with ``I`` the net inventory
  (stock − backlog) at the end of the previous month (``I(0)`` = opening stock). On plan this is
  ``demand + (T(m) − T(m−1))``; it also recovers a backlog or an opening stock off target. Never
  negative: when stock is above target the excess is consumed.
- ``mixed``: the ``level`` plan limited to each month's capacity (no capacity = unlimited). What a
  month cannot make ("overflow") is first **pre-built** in earlier months with spare capacity,
  latest first (anticipation stock), then **caught up** in later months with spare capacity,
  earliest first; what still does not fit is not made (``totals.unmade``) and shows as missing
  stock or backlog (backordered). Without capacities, ``mixed`` equals ``level``.

Projection (every strategy): ``I(m) = I(m−1) + production(m) − demand(m)``; the stock never goes
negative: ``ending_stock = max(I, 0)``, ``backlog = max(−I, 0)`` (unmet demand carried over and
served first by later production).

Per month the plan also reports ``rate`` (production per working day, rounded half even to 6
decimal places; a month without working days keeps the previous rate), ``rate_change`` (vs the
previous month; the first month vs ``initial_rate``, 0 when not given), ``change`` (production vs
the previous month's production; the first month vs ``initial_rate × working_days``, 0 when not
given) and ``utilisation`` (production / capacity, 4 decimal places, ``None`` without a positive
capacity).

Costs (when :class:`SopCosts` is given): ``holding × Σ ending_stock`` (unit-months),
``backlog × Σ backlog`` (unit-months), ``rate_increase × Σ positive rate changes`` and
``rate_decrease × Σ |negative rate changes|`` (hiring / firing or changeover, per unit per working
day of rate change). A level plan changes rate only in its first month (vs ``initial_rate``) and,
by the rounding remainder, slightly in its last month.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from fractions import Fraction
from math import floor

from services.mrp.domain.calendar import Calendar

ZERO = Decimal(0)
_RATE_PLACES = Decimal("0.000001")
_UTILISATION_PLACES = Decimal("0.0001")


class Strategy(StrEnum):
    LEVEL = "level"
    CHASE = "chase"
    MIXED = "mixed"


@dataclass(frozen=True, slots=True)
class SopMonthInput:
    """One month of a family: ``month`` is its first day; ``target_stock`` or ``target_days``."""

    month: date
    demand: Decimal
    working_days: int
    target_stock: Decimal | None = None
    target_days: Decimal | None = None
    capacity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SopInput:
    family: str
    opening_stock: Decimal
    months: Sequence[SopMonthInput]
    initial_rate: Decimal | None = None
    """Production per working day before the horizon (for the first month's change)."""
    unit: Decimal = Decimal(1)
    """Rounding quantum of computed quantities (level production, targets in days)."""


@dataclass(frozen=True, slots=True)
class SopCosts:
    holding: Decimal = ZERO
    """Per unit of ending stock per month."""
    backlog: Decimal = ZERO
    """Per unit of ending backlog per month."""
    rate_increase: Decimal = ZERO
    """Per unit per working day of rate increase (hiring)."""
    rate_decrease: Decimal = ZERO
    """Per unit per working day of rate decrease (firing)."""


@dataclass(frozen=True, slots=True)
class SopMonth:
    month: date
    working_days: int
    demand: Decimal
    target_stock: Decimal
    capacity: Decimal | None
    production: Decimal
    rate: Decimal
    change: Decimal
    rate_change: Decimal
    ending_stock: Decimal
    backlog: Decimal
    utilisation: Decimal | None


@dataclass(frozen=True, slots=True)
class SopTotals:
    demand: Decimal
    production: Decimal
    stock_unit_months: Decimal
    backlog_unit_months: Decimal
    final_stock: Decimal
    final_backlog: Decimal
    max_backlog: Decimal
    rate_increase: Decimal
    rate_decrease: Decimal
    unmade: Decimal
    """``mixed`` only: level production that no month's capacity could take."""
    holding_cost: Decimal | None = None
    backlog_cost: Decimal | None = None
    change_cost: Decimal | None = None
    total_cost: Decimal | None = None


@dataclass(frozen=True, slots=True)
class SopPlan:
    family: str
    strategy: Strategy
    months: tuple[SopMonth, ...]
    totals: SopTotals


def working_days_in_month(calendar: Calendar, month: date) -> int:
    """Working days of the calendar month containing ``month``."""
    first = month.replace(day=1)
    after = date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)
    return calendar.rank_ord(after.toordinal()) - calendar.rank_ord(first.toordinal())


def plan_family(inp: SopInput, strategy: Strategy | str, costs: SopCosts | None = None) -> SopPlan:
    """The S&OP plan of one family under ``strategy`` (see the module rules)."""
    strategy = Strategy(strategy)
    _validate(inp)
    targets = _targets(inp)
    if strategy is Strategy.CHASE:
        production = _chase(inp, targets)
        unmade = ZERO
    else:
        production = _level(inp, targets[-1])
        unmade = ZERO
        if strategy is Strategy.MIXED:
            production, unmade = _fit_capacity(production, [m.capacity for m in inp.months])
    return _project(inp, strategy, targets, production, unmade, costs)


def plan_sop(
    inputs: Mapping[str, SopInput], strategy: Strategy | str, costs: SopCosts | None = None
) -> dict[str, SopPlan]:
    """Plan every family with the same strategy."""
    return {family: plan_family(inp, strategy, costs) for family, inp in inputs.items()}


def compare_strategies(inp: SopInput, costs: SopCosts | None = None) -> dict[Strategy, SopPlan]:
    """The family planned under each strategy, to compare totals and costs."""
    return {s: plan_family(inp, s, costs) for s in Strategy}


# -- internals -----------------------------------------------------------------------------------


def _validate(inp: SopInput) -> None:
    if not inp.months:
        raise ValueError(f"{inp.family}: an S&OP plan needs at least one month")
    if inp.unit <= 0:
        raise ValueError(f"{inp.family}: unit must be > 0")
    for m in inp.months:
        where = f"{inp.family} {m.month.isoformat()}"
        if m.demand < 0:
            raise ValueError(f"{where}: demand must not be negative")
        if m.working_days < 0:
            raise ValueError(f"{where}: working days must not be negative")
        if m.target_stock is not None and m.target_days is not None:
            raise ValueError(f"{where}: give target_stock or target_days, not both")
        if (m.target_stock is not None and m.target_stock < 0) or (
            m.target_days is not None and m.target_days < 0
        ):
            raise ValueError(f"{where}: a target must not be negative")
        if m.capacity is not None and m.capacity < 0:
            raise ValueError(f"{where}: capacity must not be negative")
    if sum(m.working_days for m in inp.months) == 0:
        raise ValueError(f"{inp.family}: the horizon has no working day")


def _round_half_up(value: Fraction, unit: Decimal) -> Decimal:
    return Decimal(floor(value / Fraction(unit) + Fraction(1, 2))) * unit


def _targets(inp: SopInput) -> list[Decimal]:
    months = inp.months
    previous = max(inp.opening_stock, ZERO)
    targets: list[Decimal] = []
    for i, m in enumerate(months):
        if m.target_stock is not None:
            target = m.target_stock
        elif m.target_days is not None:
            cover = months[i + 1] if i + 1 < len(months) else m
            per_day = Fraction(cover.demand) / cover.working_days if cover.working_days else Fraction(0)
            target = _round_half_up(Fraction(m.target_days) * per_day, inp.unit)
        else:
            target = previous
        targets.append(target)
        previous = target
    return targets


def _level(inp: SopInput, final_target: Decimal) -> list[Decimal]:
    months = inp.months
    total = max(sum((m.demand for m in months), ZERO) + final_target - inp.opening_stock, ZERO)
    rate = Fraction(total) / sum(m.working_days for m in months)
    last = max(i for i, m in enumerate(months) if m.working_days > 0)
    production: list[Decimal] = []
    left = total
    for i, m in enumerate(months):
        q = left if i == last else min(_round_half_up(rate * m.working_days, inp.unit), left)
        production.append(q)
        left -= q
    return production


def _chase(inp: SopInput, targets: list[Decimal]) -> list[Decimal]:
    net = inp.opening_stock
    production: list[Decimal] = []
    for m, target in zip(inp.months, targets, strict=True):
        q = max(m.demand + target - net, ZERO)
        production.append(q)
        net += q - m.demand
    return production


def _fit_capacity(production: list[Decimal], capacity: list[Decimal | None]) -> tuple[list[Decimal], Decimal]:
    plan = list(production)

    def spare(k: int) -> Decimal | None:
        cap = capacity[k]
        return None if cap is None else cap - plan[k]

    unmade = ZERO
    for m in range(len(plan)):
        cap = capacity[m]
        if cap is None or plan[m] <= cap:
            continue
        overflow = plan[m] - cap
        plan[m] = cap
        for k in [*range(m - 1, -1, -1), *range(m + 1, len(plan))]:
            if overflow <= 0:
                break
            room = spare(k)
            take = overflow if room is None else min(overflow, max(room, ZERO))
            plan[k] += take
            overflow -= take
        unmade += overflow
    return plan, unmade


def _project(
    inp: SopInput,
    strategy: Strategy,
    targets: list[Decimal],
    production: list[Decimal],
    unmade: Decimal,
    costs: SopCosts | None,
) -> SopPlan:
    net = inp.opening_stock
    previous_rate = inp.initial_rate
    previous_production = ZERO
    rows: list[SopMonth] = []
    increase = decrease = ZERO
    for i, (m, target, q) in enumerate(zip(inp.months, targets, production, strict=True)):
        net += q - m.demand
        if m.working_days > 0:
            rate = (q / m.working_days).quantize(_RATE_PLACES, ROUND_HALF_EVEN)
        else:
            rate = previous_rate if previous_rate is not None else ZERO
        rate_change = ZERO if previous_rate is None else rate - previous_rate
        if i == 0:
            change = ZERO if inp.initial_rate is None else q - inp.initial_rate * m.working_days
        else:
            change = q - previous_production
        if rate_change > 0:
            increase += rate_change
        else:
            decrease -= rate_change
        utilisation = (
            (q / m.capacity).quantize(_UTILISATION_PLACES, ROUND_HALF_EVEN)
            if m.capacity is not None and m.capacity > 0
            else None
        )
        rows.append(
            SopMonth(
                month=m.month,
                working_days=m.working_days,
                demand=m.demand,
                target_stock=target,
                capacity=m.capacity,
                production=q,
                rate=rate,
                change=change,
                rate_change=rate_change,
                ending_stock=max(net, ZERO),
                backlog=max(-net, ZERO),
                utilisation=utilisation,
            )
        )
        previous_rate = rate
        previous_production = q
    stock_months = sum((r.ending_stock for r in rows), ZERO)
    backlog_months = sum((r.backlog for r in rows), ZERO)
    totals = SopTotals(
        demand=sum((r.demand for r in rows), ZERO),
        production=sum((r.production for r in rows), ZERO),
        stock_unit_months=stock_months,
        backlog_unit_months=backlog_months,
        final_stock=rows[-1].ending_stock,
        final_backlog=rows[-1].backlog,
        max_backlog=max(r.backlog for r in rows),
        rate_increase=increase,
        rate_decrease=decrease,
        unmade=unmade,
    )
    if costs is not None:
        holding = costs.holding * stock_months
        backlog = costs.backlog * backlog_months
        change_cost = costs.rate_increase * increase + costs.rate_decrease * decrease
        totals = replace(
            totals,
            holding_cost=holding,
            backlog_cost=backlog,
            change_cost=change_cost,
            total_cost=holding + backlog + change_cost,
        )
    return SopPlan(inp.family, strategy, tuple(rows), totals)
