"""Outgoing events and the record shapes they carry (the same shapes as the API bodies, the
history and the export).

Every change of a record is one event ``jalon.masterdata.<aggregate>.changed|deleted`` with
``data = {"seq", "version", "key", "record"}``: ``seq`` the global change number (gap-free, in
commit order), ``version`` the record's own version, ``record`` the API body with its key (``null``
on delete). Aggregates: ``unit``, ``family``, ``unit_conversion``, ``calendar``, ``work_center``,
``item``, ``bom``, ``routing``, ``supplier`` and ``low_level_code`` (record ``{"sku",
"low_level_code"}``, derived: sent when a BOM change moves an item's code). An import changing
5,000 records or more sends one ``snapshot.changed`` with ``{"seq"}`` instead: replicas resync
from ``GET /v1/masterdata/export``.

Keys: the sku (items, BOMs by parent, routings), the code (the others); a unit conversion's key is
``FROM/TO``, or ``FROM/TO@SKU`` when it applies to one item only.

Decimals are written as JSON numbers (integers when whole).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from services.masterdata.domain.model import (
    Alternate,
    Bom,
    BomLine,
    Calendar,
    CalendarException,
    ExceptionKind,
    Family,
    Item,
    ItemKind,
    LotSizing,
    LotSizingRule,
    Machine,
    Operation,
    Routing,
    Supplier,
    SupplierItem,
    Unit,
    UnitConversion,
    WorkCenter,
)
from shared.events import CloudEvent, new_event

PRODUCER = "masterdata"
SNAPSHOT_THRESHOLD = 5000

#: kind (event aggregate) → batch collection, in dependency order (what others refer to first).
COLLECTIONS: dict[str, str] = {
    "unit": "units",
    "family": "families",
    "unit_conversion": "unit_conversions",
    "calendar": "calendars",
    "work_center": "work_centers",
    "item": "items",
    "bom": "boms",
    "routing": "routings",
    "supplier": "suppliers",
}
KINDS: tuple[str, ...] = tuple(COLLECTIONS)
LOW_LEVEL_CODE = "low_level_code"
EXPORT_KINDS: tuple[str, ...] = (*KINDS, LOW_LEVEL_CODE)
#: the record field holding the key, per kind
KEY_FIELDS: dict[str, str] = {
    "unit": "code",
    "family": "code",
    "calendar": "code",
    "work_center": "code",
    "item": "sku",
    "bom": "parent",
    "routing": "sku",
    "supplier": "code",
}

Record = dict[str, Any]


# -- JSON ------------------------------------------------------------------------------------------


def _number(value: Decimal) -> int | float:
    if value == value.to_integral_value() and abs(value) < 10**15:
        return int(value)
    return float(value)


#: JSON number of each decimal met (quantities repeat a lot); bounded
_NUMBERS: dict[Decimal, int | float] = {}
_NUMBERS_MAX = 50_000


def number(value: Decimal) -> int | float:
    """A decimal as a JSON number: an int when whole, else a float."""
    try:
        return _NUMBERS[value]
    except KeyError:
        out = _NUMBERS[value] = _number(value)
        if len(_NUMBERS) > _NUMBERS_MAX:
            _NUMBERS.clear()
        return out
    except TypeError:  # a signalling NaN has no hash
        return _number(value)


def _opt_number(value: Decimal | None) -> int | float | None:
    return None if value is None else number(value)


def jsonable(value: Any) -> Any:
    """Domain values (dataclasses, decimals, dates, enums, tuples) as JSON-ready data."""
    if value is None or isinstance(value, bool | int | str | float):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return number(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, BomLine):
        return _line_record(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def _line_record(line: BomLine) -> Record:
    return {
        "component": line.component,
        "qty_per": number(line.qty_per),
        "scrap_pct": number(line.scrap_pct),
        "valid_from": line.valid_from.isoformat() if line.valid_from else None,
        "valid_to": line.valid_to.isoformat() if line.valid_to else None,
        "uom": line.uom,
    }


# -- records ↔ domain ------------------------------------------------------------------------------


def conversion_key(from_uom: str, to_uom: str, sku: str | None) -> str:
    return f"{from_uom}/{to_uom}" + (f"@{sku}" if sku else "")


def key_of(kind: str, obj: Any) -> str:
    if kind == "unit_conversion":
        return conversion_key(obj.from_uom, obj.to_uom, obj.sku)
    if kind == "bom":
        return str(obj.parent)
    return str(getattr(obj, KEY_FIELDS[kind]))


def _item_record(item: Item) -> Record:
    lots = item.lot_sizing
    return {
        "sku": item.sku,
        "name": item.name,
        "uom": item.uom,
        "kind": item.kind.value,
        "family": item.family,
        "lead_time_days": item.lead_time_days,
        "safety_stock": number(item.safety_stock),
        "lot_sizing": {
            "rule": lots.rule.value,
            "quantity": _opt_number(lots.quantity),
            "periods": lots.periods,
            "min_qty": _opt_number(lots.min_qty),
            "max_qty": _opt_number(lots.max_qty),
            "multiple": _opt_number(lots.multiple),
        },
        "standard_cost": _opt_number(item.standard_cost),
        "phantom": item.phantom,
    }


def _routing_record(routing: Routing) -> Record:
    return {
        "sku": routing.sku,
        "operations": [
            {
                "seq": op.seq,
                "work_center": op.work_center,
                "setup_minutes": number(op.setup_minutes),
                "run_minutes_per_unit": number(op.run_minutes_per_unit),
                "alternates": [
                    {"work_center": a.work_center, "run_minutes_per_unit": number(a.run_minutes_per_unit)}
                    for a in op.alternates
                ],
            }
            for op in routing.operations
        ],
    }


def to_record(kind: str, obj: Any) -> Record:
    """The API body of a domain record, with its key (the big kinds by hand, for speed: the
    same dict as :func:`jsonable` gives)."""
    if kind == "bom":
        return {"parent": obj.parent, "lines": [_line_record(ln) for ln in obj.lines]}
    if kind == "item" and type(obj.lead_time_days) is int and type(obj.phantom) is bool:
        return _item_record(obj)
    if kind == "routing":
        return _routing_record(obj)
    out: Record = jsonable(obj)
    return out


def _dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _opt_dec(value: Any) -> Decimal | None:
    return None if value is None else _dec(value)


def _day(value: Any) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    return date.fromisoformat(str(value))


def _stamp(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def bom_line(parent: str, rec: Mapping[str, Any]) -> BomLine:
    return BomLine(
        parent=parent,
        component=rec["component"],
        qty_per=_dec(rec["qty_per"]),
        scrap_pct=_dec(rec.get("scrap_pct") or 0),
        valid_from=_day(rec.get("valid_from")),
        valid_to=_day(rec.get("valid_to")),
        uom=rec.get("uom"),
    )


def from_record(kind: str, rec: Mapping[str, Any]) -> Any:
    """A domain record from its API body (JSON values, or the Python values of a parsed body)."""
    if kind == "item":
        lots = rec.get("lot_sizing") or {}
        return Item(
            sku=rec["sku"],
            name=rec.get("name") or "",
            uom=rec["uom"],
            kind=ItemKind(rec["kind"]),
            family=rec.get("family"),
            lead_time_days=int(rec.get("lead_time_days") or 0),
            safety_stock=_dec(rec.get("safety_stock") or 0),
            lot_sizing=LotSizing(
                rule=LotSizingRule(lots.get("rule") or "lot_for_lot"),
                quantity=_opt_dec(lots.get("quantity")),
                periods=None if lots.get("periods") is None else int(lots["periods"]),
                min_qty=_opt_dec(lots.get("min_qty")),
                max_qty=_opt_dec(lots.get("max_qty")),
                multiple=_opt_dec(lots.get("multiple")),
            ),
            standard_cost=_opt_dec(rec.get("standard_cost")),
            phantom=bool(rec.get("phantom") or False),
        )
    if kind == "bom":
        parent = rec["parent"]
        return Bom(parent, tuple(bom_line(parent, ln) for ln in rec.get("lines") or ()))
    if kind == "routing":
        return Routing(
            sku=rec["sku"],
            operations=tuple(
                Operation(
                    seq=int(op["seq"]),
                    work_center=op["work_center"],
                    setup_minutes=_dec(op.get("setup_minutes") or 0),
                    run_minutes_per_unit=_dec(op.get("run_minutes_per_unit") or 0),
                    alternates=tuple(
                        Alternate(a["work_center"], _dec(a.get("run_minutes_per_unit") or 0))
                        for a in op.get("alternates") or ()
                    ),
                )
                for op in rec.get("operations") or ()
            ),
        )
    if kind == "work_center":
        eff = rec.get("efficiency")
        return WorkCenter(
            code=rec["code"],
            name=rec.get("name") or "",
            calendar=rec["calendar"],
            machines=tuple(Machine(m["code"]) for m in rec.get("machines") or ()),
            efficiency=Decimal(1) if eff is None else _dec(eff),
            hourly_cost=_dec(rec.get("hourly_cost") or 0),
        )
    if kind == "calendar":
        return Calendar(
            code=rec["code"],
            weekdays={
                day: tuple(tuple(s) if isinstance(s, list | tuple) else s for s in shifts)
                for day, shifts in (rec.get("weekdays") or {}).items()
            },
            holidays=tuple(d for d in (_day(h) for h in rec.get("holidays") or ()) if d is not None),
            exceptions=tuple(
                CalendarException(
                    start=_stamp(e["start"]),
                    end=_stamp(e["end"]),
                    kind=ExceptionKind(e["kind"]),
                    machine=e.get("machine"),
                )
                for e in rec.get("exceptions") or ()
            ),
        )
    if kind == "supplier":
        return Supplier(
            code=rec["code"],
            name=rec.get("name") or "",
            items=tuple(
                SupplierItem(
                    sku=si["sku"],
                    lead_time_days=int(si.get("lead_time_days") or 0),
                    min_order_qty=_dec(si.get("min_order_qty") or 0),
                    multiple=_opt_dec(si.get("multiple")),
                    price=_dec(si.get("price") or 0),
                    priority=int(si.get("priority") if si.get("priority") is not None else 1),
                    uom=si.get("uom"),
                )
                for si in rec.get("items") or ()
            ),
        )
    if kind == "unit":
        return Unit(rec["code"], rec.get("name") or "")
    if kind == "family":
        return Family(rec["code"], rec.get("name") or "")
    if kind == "unit_conversion":
        return UnitConversion(rec["from_uom"], rec["to_uom"], _dec(rec["factor"]), rec.get("sku"))
    raise ValueError(f"unknown record kind {kind!r}")


# -- events ----------------------------------------------------------------------------------------


def record_event(kind: str, key: str, seq: int, version: int, record: Record | None) -> CloudEvent:
    """``<kind>.changed`` (record given) or ``<kind>.deleted`` (record ``None``)."""
    return new_event(
        PRODUCER,
        kind,
        "deleted" if record is None else "changed",
        {"seq": seq, "version": version, "key": key, "record": record},
        subject=key,
    )


def snapshot_event(seq: int, import_id: str) -> CloudEvent:
    """Many records changed at once: replicas resync from the export."""
    return new_event(PRODUCER, "snapshot", "changed", {"seq": seq, "import_id": import_id})
