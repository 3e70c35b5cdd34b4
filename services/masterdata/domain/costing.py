"""Standard cost roll-up, bottom-up through the BOMs valid at a date.

Rules (per unit of the item, in its unit of measure):

- Buy item: its ``standard_cost`` when set; otherwise the price of its preferred supplier item
  (lowest ``priority``, then lowest price, then supplier code), converted to the item's unit
  (price per purchase unit ÷ item units per purchase unit); otherwise 0, marked ``missing``.
  A buy item's BOM, if any, is ignored (the supplier's business).
- Make item (phantoms included): ``material + run + setup`` where
  ``material = Σ over lines valid at the date of effective qty × component's rolled-up cost``
  (effective qty includes scrap: ``qty_per / (1 − scrap_pct/100)``) and, for each operation of its
  routing on its primary work center (alternates are not costed),
  ``run   = run_minutes_per_unit / efficiency × hourly_cost / 60`` and
  ``setup = setup_minutes / lot / efficiency × hourly_cost / 60``.
  A make item's own ``standard_cost`` field is not an input: the roll-up is its standard cost.
- Costing lot ``lot`` spreading the setup: the item's ``lot_sizing.quantity`` when above 0, else
  its ``min_qty`` when above 0, else 1 (the setup is then charged whole to one unit, the
  prudent figure for lot-for-lot items).
- Breakdown: ``material``, ``run``, ``setup`` of this level; across all levels ``purchased``,
  ``rolled_run`` and ``rolled_setup`` (their sum is ``total``); ``per_level[k]`` is the value added
  by the items at depth ``k`` below this one (0 = this item's own operations, or its purchase
  cost for a buy item), also summing to ``total``.
- Decimals are kept at full precision (current decimal context); round for display only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from services.masterdata.domain.bom import BomGraph
from services.masterdata.domain.model import (
    ONE,
    ZERO,
    Item,
    ItemKind,
    Operation,
    Routing,
    Supplier,
    UnitConverter,
    WorkCenter,
)

_SIXTY = Decimal(60)


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    sku: str
    total: Decimal
    material: Decimal
    run: Decimal
    setup: Decimal
    purchased: Decimal
    rolled_run: Decimal
    rolled_setup: Decimal
    per_level: tuple[Decimal, ...]
    source: str  # "rollup", "standard_cost", "supplier:<code>" or "missing"
    lot_size: Decimal


def costing_lot_size(item: Item) -> Decimal:
    """The lot that spreads setups: ``lot_sizing.quantity`` > 0, else ``min_qty`` > 0, else 1."""
    lots = item.lot_sizing
    if lots.quantity is not None and lots.quantity > ZERO:
        return lots.quantity
    if lots.min_qty is not None and lots.min_qty > ZERO:
        return lots.min_qty
    return ONE


def operation_cost(op: Operation, work_center: WorkCenter, lot_size: Decimal) -> tuple[Decimal, Decimal]:
    """``(run, setup)`` cost per unit of one operation on its primary work center."""
    rate = work_center.hourly_cost / _SIXTY / work_center.efficiency
    return op.run_minutes_per_unit * rate, op.setup_minutes / lot_size * rate


def purchase_price(
    item: Item, suppliers: Iterable[Supplier], converter: UnitConverter | None = None
) -> tuple[Decimal, str] | None:
    """``(price per item unit, supplier code)`` of the preferred supplier of ``item``, if any."""
    offers: list[tuple[int, Decimal, str]] = []
    for supplier in suppliers:
        for si in supplier.items:
            if si.sku != item.sku:
                continue
            price = si.price
            if si.uom is not None and si.uom != item.uom:
                factor = converter.factor(si.uom, item.uom, item.sku) if converter else None
                if factor is None:
                    continue
                price = price / factor
            offers.append((si.priority, price, supplier.code))
    if not offers:
        return None
    _, price, code = min(offers)
    return price, code


def _buy_cost(
    item: Item, suppliers: Iterable[Supplier], converter: UnitConverter | None
) -> tuple[Decimal, str]:
    if item.standard_cost is not None:
        return item.standard_cost, "standard_cost"
    offer = purchase_price(item, suppliers, converter)
    if offer is None:
        return ZERO, "missing"
    return offer[0], f"supplier:{offer[1]}"


def roll_up_costs(
    graph: BomGraph,
    items: Mapping[str, Item],
    routings: Mapping[str, Routing],
    work_centers: Mapping[str, WorkCenter],
    *,
    at: date,
    suppliers: Iterable[Supplier] = (),
    converter: UnitConverter | None = None,
    only: Iterable[str] | None = None,
) -> dict[str, CostBreakdown]:
    """Roll up standard costs at ``at`` for every item of ``graph`` (or ``only`` those items and
    what they are made of), components first."""
    supplier_list = list(suppliers)
    order = graph.bottom_up() if only is None else graph.closure_bottom_up(only, at)
    costs: dict[str, CostBreakdown] = {}
    for sku in order:
        item = items[sku]
        lot = costing_lot_size(item)
        if item.kind == ItemKind.BUY:
            price, source = _buy_cost(item, supplier_list, converter)
            costs[sku] = CostBreakdown(sku, price, ZERO, ZERO, ZERO, price, ZERO, ZERO, (price,), source, lot)
            continue
        run = setup = ZERO
        routing = routings.get(sku)
        for op in routing.operations if routing else ():
            op_run, op_setup = operation_cost(op, work_centers[op.work_center], lot)
            run += op_run
            setup += op_setup
        material = purchased = rolled_run = rolled_setup = ZERO
        levels: list[Decimal] = [run + setup]
        for line, qty in graph.lines_of(sku, at):
            child = costs[line.component]
            material += qty * child.total
            purchased += qty * child.purchased
            rolled_run += qty * child.rolled_run
            rolled_setup += qty * child.rolled_setup
            for depth, value in enumerate(child.per_level, start=1):
                if depth == len(levels):
                    levels.append(ZERO)
                levels[depth] += qty * value
        costs[sku] = CostBreakdown(
            sku=sku,
            total=material + run + setup,
            material=material,
            run=run,
            setup=setup,
            purchased=purchased,
            rolled_run=rolled_run + run,
            rolled_setup=rolled_setup + setup,
            per_level=tuple(levels),
            source="rollup",
            lot_size=lot,
        )
    return costs
