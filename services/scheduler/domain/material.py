"""When the components of each manufacturing order are there: the material date of a plant schedule.

Pure: the service hands in what the snapshot holds (each order's component requirements and what
inventory already holds for it, the free stock of each component, the open supply of each
component in the mrp order book) and gets back, per order, the date from which its first operation
may start and where that date comes from. The rules (``docs/planning-rules.md``, "Material"):

- a component's requirement is covered, in this order, by what is reserved for (or already issued
  to) the order, then by free stock (available = on hand − reserved, nettable locations), both
  available *now*; then by open supply of the component - purchase orders and manufacturing orders
  of the book that are firm, released or in progress, for their remaining quantity - earliest due
  date first, each available from the start of its due date (an overdue one: from now, flagged);
- free stock and supply are shared: orders draw on them one after another, by release date, then
  due date, then weight (heaviest first), then id - the sequence the plant would start them in;
- the order's material date is the latest of its components' dates; its source is the component
  (and supply) that sets it;
- a component that nothing covers in full is a **shortage**: the order is not scheduled (it is
  listed as skipped with the missing quantities), and it draws on nothing: what it would have
  taken stays for the orders after it (its report shows what it would have found);
- an order with an operation already started or finished is not held back (its material is on the
  floor); its components are still reported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

ZERO = Decimal(0)

#: Where a quantity comes from; the last four are also the possible sources of an order's date.
RESERVATION = "reservation"
STOCK = "stock"
PURCHASE_ORDER = "purchase_order"
MANUFACTURING_ORDER = "manufacturing_order"
#: Sources of an order's date that are no supply.
NO_COMPONENTS = "no_components"
SHORTAGE = "shortage"
STARTED = "started"


@dataclass(frozen=True, slots=True)
class Supply:
    """Open supply of a component: a purchase or manufacturing order of the book."""

    ref: str
    kind: str  # PURCHASE_ORDER | MANUFACTURING_ORDER
    sku: str
    qty: Decimal  # still to come
    available_at: datetime  # the start of its due date


@dataclass(frozen=True, slots=True)
class MaterialOrder:
    id: str
    release: datetime
    due: datetime
    weight: int = 1
    #: component → quantity the order needs in all
    requirements: Mapping[str, Decimal] = field(default_factory=dict)
    #: component → quantity held for it by inventory or already issued to it
    reserved: Mapping[str, Decimal] = field(default_factory=dict)
    started: bool = False


@dataclass(frozen=True, slots=True)
class Draw:
    source: str  # RESERVATION | STOCK | PURCHASE_ORDER | MANUFACTURING_ORDER
    qty: Decimal
    available_at: datetime
    ref: str | None = None
    overdue: bool = False


@dataclass(frozen=True, slots=True)
class ComponentMaterial:
    sku: str
    required: Decimal
    draws: tuple[Draw, ...]
    short: Decimal
    available_at: datetime | None  # None: short


@dataclass(frozen=True, slots=True)
class OrderMaterial:
    order: str
    available_at: datetime | None  # None: nothing to wait for (no components, started) or short
    source: str
    ref: str | None = None  # the supply that sets the date (its order id)
    sku: str | None = None  # the component that sets the date (or the first one short)
    components: tuple[ComponentMaterial, ...] = ()
    shortage: str | None = None  # why the order cannot be scheduled

    @property
    def short(self) -> bool:
        return self.shortage is not None


@dataclass(slots=True)
class _Left:
    supply: Supply
    qty: Decimal  # not drawn yet


def sequence_key(order: MaterialOrder) -> tuple[datetime, datetime, int, str]:
    return (order.release, order.due, -order.weight, order.id)


def plan_material(
    orders: Sequence[MaterialOrder],
    stock: Mapping[str, Decimal],
    supplies: Iterable[Supply],
    *,
    now: datetime,
) -> dict[str, OrderMaterial]:
    """Each order's material date and source (see the module's rules), by order id."""
    free = {sku: max(ZERO, Decimal(q)) for sku, q in stock.items()}
    queues: dict[str, list[_Left]] = defaultdict(list)  # sku → its supply, earliest first
    for s in sorted(supplies, key=lambda s: (s.available_at, s.ref)):
        if s.qty > 0:
            queues[s.sku].append(_Left(s, s.qty))
    out: dict[str, OrderMaterial] = {}
    for order in sorted(orders, key=sequence_key):
        skus = sorted(sku for sku, qty in order.requirements.items() if Decimal(qty) > 0)
        before = {sku: (free.get(sku, ZERO), [e.qty for e in queues.get(sku, ())]) for sku in skus}
        components = tuple(
            _component(sku, Decimal(order.requirements[sku]), order, free, queues, now) for sku in skus
        )
        material = _order_material(order, components)
        if material.short:  # it will not run: what it would have drawn stays for the others
            for sku, (kept, left) in before.items():
                free[sku] = kept
                for entry, qty in zip(queues.get(sku, ()), left, strict=True):
                    entry.qty = qty
        out[order.id] = material
    return out


def _component(
    sku: str,
    required: Decimal,
    order: MaterialOrder,
    free: dict[str, Decimal],
    queues: Mapping[str, list[_Left]],
    now: datetime,
) -> ComponentMaterial:
    draws: list[Draw] = []
    need = required
    held = min(need, max(ZERO, Decimal(order.reserved.get(sku, ZERO))))
    if held > 0:
        draws.append(Draw(RESERVATION, held, now))
        need -= held
    take = min(need, free.get(sku, ZERO))
    if take > 0:
        draws.append(Draw(STOCK, take, now))
        free[sku] -= take
        need -= take
    for entry in queues.get(sku, ()):
        if need <= 0:
            break
        take = min(need, entry.qty)
        if take <= 0:
            continue
        entry.qty -= take
        need -= take
        s = entry.supply
        draws.append(Draw(s.kind, take, max(s.available_at, now), s.ref, s.available_at < now))
    return ComponentMaterial(
        sku=sku,
        required=required,
        draws=tuple(draws),
        short=need,
        available_at=None if need > 0 else max((d.available_at for d in draws), default=now),
    )


def _order_material(order: MaterialOrder, components: tuple[ComponentMaterial, ...]) -> OrderMaterial:
    missing = [c for c in components if c.short > 0]
    if order.started:
        return OrderMaterial(order.id, None, STARTED, components=components)
    if missing:
        reason = "material shortage: " + "; ".join(
            f"{c.sku} short {_qty(c.short)} of {_qty(c.required)} (no stock or open supply covers it)"
            for c in missing
        )
        return OrderMaterial(
            order.id, None, SHORTAGE, sku=missing[0].sku, components=components, shortage=reason
        )
    if not components:
        return OrderMaterial(order.id, None, NO_COMPONENTS)
    # The binding component: the latest date; among equals, the later-coming kind of supply.
    rank = {RESERVATION: 0, STOCK: 1, MANUFACTURING_ORDER: 2, PURCHASE_ORDER: 3}
    best: tuple[datetime, int, str] | None = None
    chosen: tuple[ComponentMaterial, Draw] | None = None
    for c in components:
        for d in c.draws:
            key = (d.available_at, rank.get(d.source, 0), c.sku)
            if best is None or key > best:
                best, chosen = key, (c, d)
    assert chosen is not None
    comp, draw = chosen
    return OrderMaterial(
        order.id, draw.available_at, draw.source, ref=draw.ref, sku=comp.sku, components=components
    )


def _qty(value: Decimal) -> str:
    return format(value.normalize(), "f")


def bom_requirements(bom: Mapping[str, Any] | None, quantity: Decimal, on: date) -> dict[str, Decimal]:
    """One level of a master-data BOM record for ``quantity`` on day ``on``:
    ``Σ quantity × qty_per / (1 − scrap_pct/100)`` per component, lines effective that day."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    lines = bom.get("lines") if bom else None
    for line in lines if isinstance(lines, list) else ():
        valid_from, valid_to = line.get("valid_from"), line.get("valid_to")
        if valid_from and date.fromisoformat(str(valid_from)[:10]) > on:
            continue
        if valid_to and date.fromisoformat(str(valid_to)[:10]) <= on:
            continue
        scrap = Decimal(str(line.get("scrap_pct") or 0))
        per = Decimal(str(line.get("qty_per") or 0))
        if per > 0 and scrap < 100:
            qty = quantity * per * 100 / (100 - scrap)
            out[str(line["component"])] += qty.quantize(Decimal("0.000001"))
    return dict(out)


def as_record(m: OrderMaterial) -> dict[str, object]:
    """The JSON form stored with a schedule and shown in its result."""
    return {
        "order": m.order,
        "available_at": m.available_at.isoformat() if m.available_at else None,
        "source": m.source,
        "reference": m.ref,
        "component": m.sku,
        "shortage": m.shortage,
        "components": [
            {
                "sku": c.sku,
                "required": float(c.required),
                "short": float(c.short),
                "available_at": c.available_at.isoformat() if c.available_at else None,
                "from": [
                    {
                        "source": d.source,
                        "qty": float(d.qty),
                        "available_at": d.available_at.isoformat(),
                        "reference": d.ref,
                        **({"overdue": True} if d.overdue else {}),
                    }
                    for d in c.draws
                ],
            }
            for c in m.components
        ],
    }
