"""Rough-cut capacity planning (RCCP) with a bill of resources.

A *bill of resources* gives, per item or family, the minutes each work center spends per unit.
:func:`bill_of_resources` derives it from a routing: for each operation on work center ``W``,
``(setup_minutes / lot_size + run_minutes_per_unit) / efficiency(W)`` (efficiency a ratio,
``0.85`` = 85 %, default 1), summed per work center and rounded half even to 6 decimal places.

:func:`rough_cut` loads a plan (item → quantity per bucket; buckets are positions 0..n−1, the
caller knows their dates) onto the work centers:

- ``load(W, b) = Σ over items of quantity(item, b + offset(item)) × minutes(item, W)``: with a
  lead-time offset of ``N`` buckets the load of a plan bucket is placed ``N`` buckets earlier;
  load that would fall before bucket 0 is reported as ``past_due`` of the work center (not in any
  bucket) and is flagged as an overload of bucket ``-1``.
- ``capacity(W, b)``: minutes available; a work center without capacity has 0 in every bucket.
- ``utilisation = load / capacity`` rounded half even to 4 decimal places, ``None`` when the
  capacity is 0.
- A bucket is overloaded when ``load > capacity``; :attr:`RoughCutResult.overloads` lists them by
  bucket then work center, with the excess.
- Items of the plan without a bill of resources load nothing and are listed in
  ``items_without_bill``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Protocol

ZERO = Decimal(0)
_MINUTE_PLACES = Decimal("0.000001")
_UTILISATION_PLACES = Decimal("0.0001")
PAST_DUE = -1
"""Bucket number of an overload made of load placed before the first bucket."""


class RoutingStep(Protocol):
    """What the bill of resources reads from a routing operation."""

    @property
    def work_center(self) -> str: ...

    @property
    def setup_minutes(self) -> Decimal: ...

    @property
    def run_minutes_per_unit(self) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class RoutingOp:
    work_center: str
    setup_minutes: Decimal = ZERO
    run_minutes_per_unit: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class WorkCenterLoad:
    work_center: str
    load: tuple[Decimal, ...]
    capacity: tuple[Decimal, ...]
    utilisation: tuple[Decimal | None, ...]
    overloaded: tuple[int, ...]
    """Buckets where load > capacity."""
    past_due: Decimal
    by_item: Mapping[str, tuple[Decimal, ...]]
    """Each item's share of ``load``."""

    @property
    def total_load(self) -> Decimal:
        return sum(self.load, ZERO) + self.past_due


@dataclass(frozen=True, slots=True)
class Overload:
    work_center: str
    bucket: int
    load: Decimal
    capacity: Decimal

    @property
    def excess(self) -> Decimal:
        return self.load - self.capacity


@dataclass(frozen=True, slots=True)
class RoughCutResult:
    buckets: int
    work_centers: Mapping[str, WorkCenterLoad]
    overloads: tuple[Overload, ...]
    items_without_bill: tuple[str, ...]


def bill_of_resources(
    routing_ops: Iterable[RoutingStep],
    lot_size: Decimal,
    efficiency_by_wc: Mapping[str, Decimal] | None = None,
) -> dict[str, Decimal]:
    """Minutes per unit on each work center: ``Σ (setup / lot_size + run) / efficiency``."""
    if lot_size <= 0:
        raise ValueError("lot_size must be > 0")
    efficiencies = efficiency_by_wc or {}
    minutes: dict[str, Fraction] = {}
    for op in routing_ops:
        efficiency = efficiencies.get(op.work_center, Decimal(1))
        if efficiency <= 0:
            raise ValueError(f"efficiency of {op.work_center} must be > 0")
        if op.setup_minutes < 0 or op.run_minutes_per_unit < 0:
            raise ValueError(f"operation times on {op.work_center} must not be negative")
        per_unit = (Fraction(op.setup_minutes) / Fraction(lot_size) + Fraction(op.run_minutes_per_unit)) / (
            Fraction(efficiency)
        )
        minutes[op.work_center] = minutes.get(op.work_center, Fraction(0)) + per_unit
    return {wc: _to_decimal(m) for wc, m in minutes.items()}


def rough_cut(
    bill: Mapping[str, Mapping[str, Decimal]],
    plan: Mapping[str, Sequence[Decimal]],
    capacity: Mapping[str, Sequence[Decimal]],
    offsets: Mapping[str, int] | None = None,
) -> RoughCutResult:
    """Load ``plan`` through ``bill`` onto the work centers and compare with ``capacity``."""
    lengths = {len(v) for v in plan.values()} | {len(v) for v in capacity.values()}
    if len(lengths) > 1:
        raise ValueError(f"plan and capacity must have the same number of buckets, got {sorted(lengths)}")
    n = lengths.pop() if lengths else 0
    offsets = offsets or {}
    if any(o < 0 for o in offsets.values()):
        raise ValueError("a lead-time offset must not be negative")
    for item, quantities in plan.items():
        if any(q < 0 for q in quantities):
            raise ValueError(f"{item}: a planned quantity must not be negative")

    loads: dict[str, dict[str, list[Decimal]]] = {}
    past_due: dict[str, Decimal] = {}
    missing: list[str] = []
    for item in sorted(plan):
        if item not in bill:
            if any(q != 0 for q in plan[item]):
                missing.append(item)
            continue
        offset = offsets.get(item, 0)
        for wc, minutes in bill[item].items():
            row = loads.setdefault(wc, {}).setdefault(item, [ZERO] * n)
            for b, quantity in enumerate(plan[item]):
                minutes_load = quantity * minutes
                if b - offset >= 0:
                    row[b - offset] += minutes_load
                else:
                    past_due[wc] = past_due.get(wc, ZERO) + minutes_load

    centers: dict[str, WorkCenterLoad] = {}
    overloads: list[Overload] = []
    for wc in sorted(set(loads) | set(capacity)):
        by_item = {item: tuple(row) for item, row in sorted(loads.get(wc, {}).items())}
        load = tuple(sum((row[b] for row in by_item.values()), ZERO) for b in range(n))
        cap = tuple(capacity[wc]) if wc in capacity else (ZERO,) * n
        over = tuple(b for b in range(n) if load[b] > cap[b])
        late = past_due.get(wc, ZERO)
        if late > 0:
            overloads.append(Overload(wc, PAST_DUE, late, ZERO))
        overloads.extend(Overload(wc, b, load[b], cap[b]) for b in over)
        centers[wc] = WorkCenterLoad(
            work_center=wc,
            load=load,
            capacity=cap,
            utilisation=tuple(
                (load[b] / cap[b]).quantize(_UTILISATION_PLACES, ROUND_HALF_EVEN) if cap[b] > 0 else None
                for b in range(n)
            ),
            overloaded=over,
            past_due=late,
            by_item=by_item,
        )
    overloads.sort(key=lambda o: (o.bucket, o.work_center))
    return RoughCutResult(n, centers, tuple(overloads), tuple(missing))


def _to_decimal(value: Fraction) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(_MINUTE_PLACES, ROUND_HALF_EVEN)
