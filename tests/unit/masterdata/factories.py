"""Small builders for master-data records in tests (defaults that validate cleanly)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from services.masterdata.domain.model import (
    Bom,
    BomLine,
    Calendar,
    Family,
    Item,
    ItemKind,
    LotSizing,
    Machine,
    MasterData,
    Operation,
    Routing,
    Unit,
    UnitConversion,
    WorkCenter,
)

D = Decimal


def make(sku: str, *, lead: int = 0, uom: str = "EA", **kw: Any) -> Item:
    return Item(sku=sku, name=sku.title(), uom=uom, kind=ItemKind.MAKE, lead_time_days=lead, **kw)


def buy(sku: str, *, lead: int = 0, uom: str = "EA", **kw: Any) -> Item:
    return Item(sku=sku, name=sku.title(), uom=uom, kind=ItemKind.BUY, lead_time_days=lead, **kw)


def line(
    parent: str,
    component: str,
    qty: str = "1",
    *,
    scrap: str = "0",
    since: date | None = None,
    until: date | None = None,
    uom: str | None = None,
) -> BomLine:
    return BomLine(parent, component, D(qty), D(scrap), since, until, uom)


def bom(parent: str, *lines: BomLine) -> Bom:
    return Bom(parent, tuple(lines))


def routing(sku: str, *ops: Operation) -> Routing:
    return Routing(sku, tuple(ops))


def op(seq: int, wc: str, setup: str = "0", run: str = "1") -> Operation:
    return Operation(seq, wc, D(setup), D(run))


def work_center(code: str, *, calendar: str = "plant", efficiency: str = "1", cost: str = "60") -> WorkCenter:
    return WorkCenter(code, code.title(), calendar, (Machine(f"{code}-1"),), D(efficiency), D(cost))


def existing() -> MasterData:
    """A small valid plant: BIKE ← FRAME ← TUBE (kg), BIKE ← WHEEL; a welding work center."""
    items = [
        make("BIKE", family="BIKES"),
        make("FRAME"),
        make("WHEEL"),
        buy("TUBE", uom="KG"),
        buy("BOLT", lot_sizing=LotSizing(min_qty=D(100))),
    ]
    return MasterData(
        items={i.sku: i for i in items},
        boms={
            "BIKE": bom("BIKE", line("BIKE", "FRAME"), line("BIKE", "WHEEL", "2")),
            "FRAME": bom("FRAME", line("FRAME", "TUBE", "1.5")),
        },
        work_centers={"WELD": work_center("WELD")},
        calendars={"plant": Calendar("plant", {"mon": (("08:00", "16:00"),)})},
        units={u: Unit(u) for u in ("EA", "KG", "G", "BOX")},
        unit_conversions=(UnitConversion("KG", "G", D(1000)),),
        families={"BIKES": Family("BIKES")},
    )
