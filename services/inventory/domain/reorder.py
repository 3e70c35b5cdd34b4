"""Reorder parameters and stock KPIs.

Rules:

- Safety stock ``SS = z x sigma x sqrt(L)``: ``sigma`` is the sample standard deviation (n - 1) of
  the demand per period (at least two periods), ``L`` the lead time in the same periods, ``z`` the
  inverse standard normal of the service level (cycle service level, 0 < level < 1), rounded to 4
  places as in the tables (95 % -> 1.6449). A service level at or below 50 % gives no safety stock.
- Reorder point ``ROP = mean demand per period x L + SS``.
- Safety stock and reorder point are quantities to hold, so they are rounded *up* to ``quantum``
  (default a whole unit; pass e.g. 0.001 for an item in kilograms). The figures behind them
  (mean, sigma) are reported to 6 places.
- Turnover = cost of goods issued over the period / average stock value over the period, to 2
  places; days of coverage = on hand / (demand over the period / days in the period), to 1 place.
  Both are None when the divisor is zero (no stock; no demand: coverage is unbounded).
- Dormant / obsolete: per (sku, location, lot) holding stock, the age is the days since the last
  movement of any type of that sku (anywhere) up to the day asked. Obsolete when that is at least
  ``obsolete_days`` (default 365), when the sku has no movement at all, or when the lot is expired;
  dormant when at least ``dormant_days`` (default 90); active otherwise.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from enum import StrEnum

from services.inventory.domain.model import ZERO, Lot, Movement, StockKey, to_cents

Z_QUANTUM = Decimal("0.0001")
FIGURE_QUANTUM = Decimal("0.000001")


def service_level_z(service_level: Decimal) -> Decimal:
    """The z of a cycle service level (inverse standard normal), to 4 places."""
    if not 0 < service_level < 1:
        raise ValueError("the service level must be strictly between 0 and 1")
    z = statistics.NormalDist().inv_cdf(float(service_level))
    return Decimal(repr(z)).quantize(Z_QUANTUM, rounding=ROUND_HALF_UP)


def _round_up(qty: Decimal, quantum: Decimal) -> Decimal:
    return (qty / quantum).to_integral_value(rounding=ROUND_CEILING) * quantum


@dataclass(frozen=True, slots=True)
class ReorderParameters:
    """Safety stock and reorder point with the figures behind them."""

    mean_demand: Decimal
    sigma: Decimal
    z: Decimal
    lead_time_periods: Decimal
    safety_stock: Decimal
    reorder_point: Decimal


def reorder_parameters(
    demand_history: Sequence[Decimal],
    lead_time_periods: Decimal,
    service_level: Decimal,
    *,
    quantum: Decimal = Decimal(1),
) -> ReorderParameters:
    """``SS = z x sigma x sqrt(L)`` and ``ROP = mean x L + SS``, rounded up to ``quantum``."""
    if len(demand_history) < 2:
        raise ValueError("safety stock needs the demand of at least two periods")
    if lead_time_periods < 0:
        raise ValueError("the lead time cannot be negative")
    z = service_level_z(service_level)
    mean = sum(demand_history, ZERO) / len(demand_history)
    sigma = statistics.stdev(demand_history)
    raw_ss = max(z * sigma * lead_time_periods.sqrt(), ZERO)
    safety = _round_up(raw_ss, quantum)
    reorder_point = _round_up(mean * lead_time_periods + safety, quantum)
    return ReorderParameters(
        mean_demand=mean.quantize(FIGURE_QUANTUM, rounding=ROUND_HALF_UP),
        sigma=sigma.quantize(FIGURE_QUANTUM, rounding=ROUND_HALF_UP),
        z=z,
        lead_time_periods=lead_time_periods,
        safety_stock=safety,
        reorder_point=reorder_point,
    )


def average_stock_value(values: Sequence[Decimal]) -> Decimal:
    """Mean of stock-value snapshots taken over the period (e.g. each month end), to the cent."""
    if not values:
        raise ValueError("an average stock value needs at least one snapshot")
    return to_cents(sum(values, ZERO) / len(values))


def turnover(cost_of_goods_issued: Decimal, average_value: Decimal) -> Decimal | None:
    """Stock turnover = COGS / average stock value, to 2 places (None without stock)."""
    if average_value <= 0:
        return None
    return (cost_of_goods_issued / average_value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def days_of_coverage(on_hand: Decimal, demand: Decimal, period_days: int) -> Decimal | None:
    """Days the stock lasts at the period's demand rate = on hand x days / demand, to 1 place."""
    if demand <= 0 or period_days <= 0:
        return None
    return (on_hand * period_days / demand).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


class StockStatus(StrEnum):
    ACTIVE = "active"
    DORMANT = "dormant"
    OBSOLETE = "obsolete"


@dataclass(frozen=True, slots=True)
class AgeingLine:
    """Stock of one key, the last movement of its sku, its idle days and status (with why)."""

    key: StockKey
    on_hand: Decimal
    last_movement: date | None
    idle_days: int | None
    status: StockStatus
    reason: str


def stock_ageing(
    on_hand: Mapping[StockKey, Decimal],
    movements: Iterable[Movement],
    lots: Iterable[Lot],
    *,
    on: date,
    dormant_days: int = 90,
    obsolete_days: int = 365,
) -> list[AgeingLine]:
    """Classify each key holding stock as active, dormant or obsolete on ``on`` (see module)."""
    if not 0 < dormant_days <= obsolete_days:
        raise ValueError("need 0 < dormant_days <= obsolete_days")
    last: dict[str, date] = {}
    for m in movements:
        day = m.at.date()
        if day <= on and (m.sku not in last or day > last[m.sku]):
            last[m.sku] = day
    expiry = {(lot.sku, lot.code): lot for lot in lots}
    lines: list[AgeingLine] = []
    for key in sorted(on_hand, key=lambda k: (k.sku, k.location, k.lot or "")):
        qty = on_hand[key]
        if qty <= 0:
            continue
        last_day = last.get(key.sku)
        idle = None if last_day is None else (on - last_day).days
        lot = expiry.get((key.sku, key.lot)) if key.lot is not None else None
        if lot is not None and lot.is_expired(on):
            status, reason = StockStatus.OBSOLETE, f"lot expired on {lot.expiry}"
        elif idle is None:
            status, reason = StockStatus.OBSOLETE, "no movement recorded"
        elif idle >= obsolete_days:
            status, reason = StockStatus.OBSOLETE, f"no movement for {idle} days"
        elif idle >= dormant_days:
            status, reason = StockStatus.DORMANT, f"no movement for {idle} days"
        else:
            status, reason = StockStatus.ACTIVE, f"last movement {idle} days ago"
        lines.append(AgeingLine(key, qty, last_day, idle, status, reason))
    return lines
