"""Stock valuation: FIFO layers, weighted average cost (PUMP) and standard cost.

Rules:

- Stock is valued per sku across every location (nettable or not) and lot: a transfer moves no
  value. Receipts and positive adjustments bring stock in; issues, scraps and negative adjustments
  take it out, and what leaves is reported as cost of goods issued (``cogs``).
- Unit costs are kept to 6 places (half up). Money is rounded to the cent (half up) where it is
  booked, and the stock value is always the booked balance, so for every sku
  ``value = sum of amounts brought in - cogs - price differences`` exactly, to the cent.
- A receipt books ``round(qty x unit_cost)``. An issue leaves the stock worth its remaining
  quantity at the cost it is carried at, rounded to the cent, and the cost of the issue is the
  difference; so pennies never strand in a layer and the last issue of a layer takes exactly what
  is left of it.
- FIFO: each receipt opens a layer (receipt time, qty, unit cost); issues consume the oldest layers
  first. A FIFO layer never holds a negative quantity.
- Weighted average (PUMP): at each receipt ``avg = (old qty x old avg + qty x cost) /
  (old qty + qty)``, to 6 places; issues leave at the current average.
- Standard: stock is carried at ``qty x standard`` (rounded to the cent). A receipt brings in
  ``round(new qty x standard) - old value`` and the purchase price variance is what was paid minus
  that: ``round(qty x actual) - (round(new qty x std) - old value)``, which is
  ``(actual - standard) x qty`` to the cent whenever the stock value was exact.
- Positive adjustments without a unit cost come in at the cost the item is carried at: FIFO the
  last receipt's cost, average the current average, standard the standard (0 when no cost is known
  yet). Under standard cost an adjustment has no purchase price variance.
- Negative stock (a location that allows it): an issue beyond the stock goes out at a provisional
  cost (FIFO: the last receipt's cost; average: the current average; 0 if none is known) and the
  item's quantity and value turn negative. The next receipts first cover the negative quantity
  (oldest shortfall first); the gap between their cost and the provisional cost of what they cover
  is booked as ``price_difference``, an addition to the cost of goods issued. Under standard cost
  there is no gap: the negative quantity is valued at standard.
- As of a date: the ledger is replayed up to that date (inclusive, see ``ledger.happened_by``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from services.inventory.domain.ledger import replay_order
from services.inventory.domain.model import (
    ZERO,
    Movement,
    MovementType,
    ValuationError,
    to_cents,
    to_unit_cost,
)


class CostMethod(StrEnum):
    FIFO = "fifo"
    AVERAGE = "average"
    STANDARD = "standard"


@dataclass(frozen=True, slots=True)
class Posting:
    """The money one movement books for its sku (all amounts to the cent).

    ``value`` is the signed change of the stock value; ``cogs`` the cost of the goods that left;
    ``price_difference`` the negative-stock correction (adds to cogs); ``ppv`` the purchase price
    variance of a receipt under standard cost. Always: ``value = in - cogs - price_difference``,
    where ``in`` is the amount a receipt or positive adjustment brought in.
    """

    sku: str
    movement_type: MovementType
    qty: Decimal
    value: Decimal
    cogs: Decimal = ZERO
    price_difference: Decimal = ZERO
    ppv: Decimal = ZERO


@dataclass(slots=True)
class CostLayer:
    """A FIFO layer (or, in ``shortfall``, a quantity issued before it was received)."""

    at: datetime | None
    qty: Decimal
    unit_cost: Decimal

    @property
    def value(self) -> Decimal:
        """``qty x unit_cost`` to the cent: the booked value of what the layer still holds."""
        return to_cents(self.qty * self.unit_cost)


@dataclass(frozen=True, slots=True)
class ItemValue:
    """One sku's stock: quantity, the unit cost it is carried at (6 places) and its value (cents)."""

    sku: str
    qty: Decimal
    unit_cost: Decimal
    value: Decimal


@dataclass(frozen=True, slots=True)
class ValuationReport:
    method: CostMethod
    as_of: date | datetime | None
    items: list[ItemValue]
    total: Decimal


@dataclass(frozen=True, slots=True)
class _In:
    """What a receipt did: the value change, the negative-stock price difference and the PPV."""

    value: Decimal
    price_difference: Decimal = ZERO
    ppv: Decimal = ZERO


class ItemCost(Protocol):
    """The cost of one sku under one method."""

    @property
    def qty(self) -> Decimal: ...
    @property
    def value(self) -> Decimal: ...
    @property
    def unit_cost(self) -> Decimal: ...
    def receive(self, qty: Decimal, unit_cost: Decimal | None, at: datetime, *, purchase: bool) -> _In: ...
    def issue(self, qty: Decimal) -> Decimal: ...


def _take(layers: list[CostLayer], qty: Decimal) -> tuple[Decimal, Decimal]:
    """Take up to ``qty`` from ``layers``, oldest first; returns (value taken, qty left to take)."""
    taken = ZERO
    while qty > 0 and layers:
        layer = layers[0]
        part = min(qty, layer.qty)
        before = layer.value
        layer.qty -= part
        taken += before - layer.value
        qty -= part
        if layer.qty == 0:
            layers.pop(0)
    return taken, qty


@dataclass(slots=True)
class FifoCost:
    """FIFO layers of one sku, plus the shortfall issued while the stock was negative."""

    layers: list[CostLayer] = field(default_factory=list)
    shortfall: list[CostLayer] = field(default_factory=list)
    last_cost: Decimal | None = None

    @property
    def qty(self) -> Decimal:
        return sum((lay.qty for lay in self.layers), ZERO) - sum((s.qty for s in self.shortfall), ZERO)

    @property
    def value(self) -> Decimal:
        return sum((lay.value for lay in self.layers), ZERO) - sum((s.value for s in self.shortfall), ZERO)

    @property
    def unit_cost(self) -> Decimal:
        """The value per unit of the stock held (6 places); the last cost when there is none."""
        qty = self.qty
        if qty != 0:
            return to_unit_cost(self.value / qty)
        return self.last_cost if self.last_cost is not None else ZERO

    def receive(self, qty: Decimal, unit_cost: Decimal | None, at: datetime, *, purchase: bool) -> _In:
        """Cover the shortfall first (booking the price difference), then open a layer with the rest."""
        cost = to_unit_cost(unit_cost) if unit_cost is not None else self.unit_cost_for_adjustment()
        booked = to_cents(qty * cost)
        shortfall_value, rest = _take(self.shortfall, qty)
        covered_cost = booked - to_cents(rest * cost)
        if rest > 0:
            self.layers.append(CostLayer(at, rest, cost))
        if purchase:
            self.last_cost = cost
        return _In(
            value=booked - (covered_cost - shortfall_value), price_difference=covered_cost - shortfall_value
        )

    def unit_cost_for_adjustment(self) -> Decimal:
        return self.last_cost if self.last_cost is not None else ZERO

    def issue(self, qty: Decimal) -> Decimal:
        """Consume the oldest layers first; beyond them, record a shortfall at the last cost."""
        cogs, rest = _take(self.layers, qty)
        if rest > 0:
            pending = CostLayer(None, rest, self.unit_cost_for_adjustment())
            self.shortfall.append(pending)
            cogs += pending.value
        return cogs


@dataclass(slots=True)
class AverageCost:
    """Weighted average cost (PUMP) of one sku; ``value`` is the booked balance."""

    qty: Decimal = ZERO
    value: Decimal = ZERO
    avg: Decimal = ZERO

    @property
    def unit_cost(self) -> Decimal:
        return self.avg

    def receive(self, qty: Decimal, unit_cost: Decimal | None, at: datetime, *, purchase: bool) -> _In:
        """Recompute the average; a receipt into negative stock first covers it (see module)."""
        cost = to_unit_cost(unit_cost) if unit_cost is not None else self.avg
        booked = to_cents(qty * cost)
        price_difference = ZERO
        rest = qty
        if self.qty < 0:
            covered = min(qty, -self.qty)
            rest = qty - covered
            covered_cost = booked - to_cents(rest * cost)
            value_after_cover = to_cents((self.qty + covered) * self.avg)
            price_difference = covered_cost - (value_after_cover - self.value)
            self.qty += covered
            self.value = value_after_cover
        if rest > 0:
            self.avg = to_unit_cost((self.qty * self.avg + rest * cost) / (self.qty + rest))
            self.value += to_cents(rest * cost)
            self.qty += rest
        return _In(value=booked - price_difference, price_difference=price_difference)

    def issue(self, qty: Decimal) -> Decimal:
        """Issue at the current average: what is left is worth ``round(left x avg)``."""
        left = self.qty - qty
        left_value = to_cents(left * self.avg)
        cogs = self.value - left_value
        self.qty, self.value = left, left_value
        return cogs


@dataclass(slots=True)
class StandardCost:
    """Standard cost of one sku: the stock is always worth ``round(qty x standard)``."""

    standard: Decimal
    qty: Decimal = ZERO

    @property
    def value(self) -> Decimal:
        return to_cents(self.qty * self.standard)

    @property
    def unit_cost(self) -> Decimal:
        return self.standard

    def receive(self, qty: Decimal, unit_cost: Decimal | None, at: datetime, *, purchase: bool) -> _In:
        """Bring in at standard; a purchase books ``paid - brought in`` as price variance."""
        before = self.value
        self.qty += qty
        brought_in = self.value - before
        if not purchase or unit_cost is None:
            return _In(value=brought_in)
        paid = to_cents(qty * to_unit_cost(unit_cost))
        return _In(value=brought_in, ppv=paid - brought_in)

    def issue(self, qty: Decimal) -> Decimal:
        before = self.value
        self.qty -= qty
        return before - self.value

    def revalue(self, standard: Decimal) -> Decimal:
        """Change the standard; returns the revaluation of the stock held (new value - old value)."""
        before = self.value
        self.standard = to_unit_cost(standard)
        return self.value - before


class Valuation:
    """Values stock by posting ledger movements in time order under one cost method."""

    def __init__(self, method: CostMethod, standard_costs: Mapping[str, Decimal] | None = None) -> None:
        self.method = method
        self.standard_costs = dict(standard_costs or {})
        self.items: dict[str, ItemCost] = {}

    def cost_of(self, sku: str) -> ItemCost:
        """The cost record of ``sku`` (created empty on first use)."""
        if sku not in self.items:
            self.items[sku] = self._new(sku)
        return self.items[sku]

    def _new(self, sku: str) -> ItemCost:
        if self.method is CostMethod.FIFO:
            return FifoCost()
        if self.method is CostMethod.AVERAGE:
            return AverageCost()
        if sku not in self.standard_costs:
            raise ValuationError(f"no standard cost for {sku}")
        return StandardCost(to_unit_cost(self.standard_costs[sku]))

    def post(self, movement: Movement) -> Posting:
        """Book one movement: receipts and positive adjustments in, issues/scraps/negative out."""
        item = self.cost_of(movement.sku)
        kind = movement.type
        if kind is MovementType.TRANSFER:
            return Posting(movement.sku, kind, ZERO, ZERO)
        if kind is MovementType.RECEIPT or (kind is MovementType.ADJUSTMENT and movement.qty > 0):
            came_in = item.receive(
                movement.qty, movement.unit_cost, movement.at, purchase=kind is MovementType.RECEIPT
            )
            return Posting(
                movement.sku,
                kind,
                movement.qty,
                came_in.value,
                price_difference=came_in.price_difference,
                ppv=came_in.ppv,
            )
        qty = abs(movement.qty)
        cogs = item.issue(qty)
        return Posting(movement.sku, kind, -qty, -cogs, cogs=cogs)

    def item_value(self, sku: str) -> ItemValue:
        item = self.cost_of(sku)
        return ItemValue(sku, item.qty, item.unit_cost, item.value)

    def report(self, as_of: date | datetime | None = None) -> ValuationReport:
        """Every sku holding stock or value, by sku, and the total (sum of the item values)."""
        values = [self.item_value(sku) for sku in sorted(self.items)]
        values = [v for v in values if v.qty != 0 or v.value != 0]
        return ValuationReport(self.method, as_of, values, sum((v.value for v in values), ZERO))


def value_stock(
    movements: Iterable[Movement],
    method: CostMethod,
    *,
    as_of: date | datetime | None = None,
    standard_costs: Mapping[str, Decimal] | None = None,
) -> ValuationReport:
    """Value the stock by replaying the ledger up to ``as_of`` (inclusive) under ``method``."""
    valuation = Valuation(method, standard_costs)
    for movement in replay_order(movements, as_of):
        valuation.post(movement)
    return valuation.report(as_of)


def cost_of_goods_issued(
    movements: Iterable[Movement],
    method: CostMethod,
    *,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    standard_costs: Mapping[str, Decimal] | None = None,
) -> dict[str, Decimal]:
    """Cost of goods issued per sku (cogs + price differences) by the movements from ``start`` to
    ``end``, both inclusive; the ledger before ``start`` is replayed only to know the costs."""
    valuation = Valuation(method, standard_costs)
    totals: dict[str, Decimal] = {}
    for movement in replay_order(movements, end):
        posting = valuation.post(movement)
        if start is not None and _before(movement.at, start):
            continue
        totals[movement.sku] = totals.get(movement.sku, ZERO) + posting.cogs + posting.price_difference
    return totals


def _before(at: datetime, start: date | datetime) -> bool:
    if isinstance(start, datetime):
        return at < start
    return at.date() < start
