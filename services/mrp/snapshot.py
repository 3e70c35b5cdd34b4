"""Build the consistent in-memory :class:`Snapshot` an MRP run works on.

Read in one REPEATABLE READ transaction that first takes a SHARE lock on ``mrp_changes`` (so every
transaction that recorded a change has committed, and none can until the snapshot is read):

- items and BOM lines from the master-data replica (``low_level_code`` from the item record, or
  from master data's derived ``low_level_code`` records); BOM lines naming an unknown item are
  left out (and counted);
- the ``plant`` calendar (a weekday works when it has at least one shift; absent: Monday–Friday);
- stock: on hand − reserved over nettable locations, from the local stock replica;
- open sales-order lines, forecasts;
- scheduled receipts: firm, released and in-progress orders, their remaining quantity at their due
  date; parent orders: firm (not yet released) make orders, dependent demand at their release date.

The snapshot's replica seq and change seq are recorded on the run (net change starts from them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from types import MappingProxyType
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.mrp.db import repositories as repo
from services.mrp.domain.calendar import Calendar
from services.mrp.domain.model import (
    BomLine,
    ForecastBucket,
    Item,
    ItemKind,
    LotRule,
    LotSizing,
    OrderStatus,
    ParentOrder,
    RunParameters,
    SalesOrderLine,
    ScheduledReceipt,
    Snapshot,
)

_MICRO = Decimal("0.000001")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class SnapshotInfo:
    replica_seq: int
    change_seq: int
    counts: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"replica_seq": self.replica_seq, "change_seq": self.change_seq, "counts": self.counts}


def dec(value: Any, default: Decimal = Decimal(0)) -> Decimal:
    if value is None:
        return default
    out = value if isinstance(value, Decimal) else Decimal(str(value))
    return out.quantize(_MICRO, rounding=ROUND_HALF_EVEN) if out.as_tuple().exponent < -6 else out  # type: ignore[operator]


def opt_dec(value: Any) -> Decimal | None:
    return None if value is None else dec(value)


def day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def item_of(record: dict[str, Any], llc: int | None) -> Item:
    lots = record.get("lot_sizing") or {}
    code = record.get("low_level_code")
    return Item(
        sku=record["sku"],
        kind=ItemKind(record.get("kind") or "make"),
        lead_time_days=int(record.get("lead_time_days") or 0),
        safety_stock=dec(record.get("safety_stock")),
        lot_sizing=LotSizing(
            rule=LotRule(lots.get("rule") or "lot_for_lot"),
            quantity=opt_dec(lots.get("quantity")),
            periods=None if lots.get("periods") is None else int(lots["periods"]),
            min_qty=opt_dec(lots.get("min_qty")),
            max_qty=opt_dec(lots.get("max_qty")),
            multiple=opt_dec(lots.get("multiple")),
        ),
        standard_cost=dec(record.get("standard_cost")),
        phantom=bool(record.get("phantom") or False),
        low_level_code=int(code) if code is not None else llc,
    )


def bom_lines_of(record: dict[str, Any]) -> list[BomLine]:
    parent = record["parent"]
    return [
        BomLine(
            parent=parent,
            component=ln["component"],
            qty_per=Decimal(str(ln["qty_per"])),
            scrap_pct=Decimal(str(ln.get("scrap_pct") or 0)),
            valid_from=day(ln.get("valid_from")),
            valid_to=day(ln.get("valid_to")),
        )
        for ln in record.get("lines") or ()
    ]


def calendar_of(record: dict[str, Any] | None) -> Calendar:
    """The plant calendar: a weekday works when it has shifts; holidays are not working days."""
    if record is None:
        return Calendar()
    weekdays = record.get("weekdays") or {}
    flags = tuple(bool(weekdays.get(name)) for name in _WEEKDAYS)
    if not any(flags):
        return Calendar(holidays=frozenset(d for d in map(day, record.get("holidays") or ()) if d))
    holidays = frozenset(d for d in map(day, record.get("holidays") or ()) if d is not None)
    return Calendar(weekdays=flags, holidays=holidays)  # type: ignore[arg-type]


async def items_and_bom(session: AsyncSession) -> tuple[dict[str, Item], list[BomLine], int]:
    """Items and valid BOM lines from the replica, and how many BOM lines were left out."""
    codes = {
        key: rec.get("low_level_code")
        for key, rec in (await repo.replica_records(session, "low_level_code")).items()
    }
    items: dict[str, Item] = {}
    for key, record in (await repo.replica_records(session, "item")).items():
        code = codes.get(key)
        items[key] = item_of(
            {**record, "sku": record.get("sku") or key}, int(code) if code is not None else None
        )
    lines: list[BomLine] = []
    skipped = 0
    for key, record in (await repo.replica_records(session, "bom")).items():
        if key not in items:
            skipped += len(record.get("lines") or ())
            continue
        for line in bom_lines_of({**record, "parent": key}):
            if line.component in items:
                lines.append(line)
            else:
                skipped += 1
    # Low-level codes are only trusted when every item has one (the engine checks consistency).
    return items, lines, skipped


async def build_snapshot(session: AsyncSession, parameters: RunParameters) -> tuple[Snapshot, SnapshotInfo]:
    """Read everything a run needs; call inside a fresh transaction (it sets the isolation)."""
    await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    await repo.lock_changes(session)
    change_seq = await repo.last_change_seq(session)
    replica_seq = await repo.replica_seq(session)
    items, bom, skipped = await items_and_bom(session)
    calendar = calendar_of(await repo.replica_record(session, "calendar", "plant"))
    stock = {sku: dec(q) for sku, q in (await repo.net_stock(session)).items() if sku in items}

    sales: list[SalesOrderLine] = []
    rows = await session.execute(
        text(
            "SELECT l.order_id, l.line, l.sku, l.qty, l.due_date FROM sales_order_lines l "
            "JOIN sales_orders o ON o.id = l.order_id WHERE l.status = 'open' AND o.status = 'open'"
        )
    )
    for order_id, line, sku, qty, due in rows:
        if sku in items:
            sales.append(SalesOrderLine(order_id, int(line), sku, dec(qty), due))

    forecasts = [
        ForecastBucket(sku, start, dec(qty))
        for sku, start, qty in await session.execute(text("SELECT sku, start, qty FROM forecasts"))
        if sku in items
    ]

    receipts: list[ScheduledReceipt] = []
    parents: list[ParentOrder] = []
    for o in await repo.open_orders(session):
        if o["sku"] not in items:
            continue
        remaining = dec(o["quantity"]) - dec(o["received_qty"])
        if remaining > 0:
            receipts.append(
                ScheduledReceipt(
                    order_id=o["id"],
                    sku=o["sku"],
                    quantity=remaining,
                    due_date=o["due_date"],
                    kind=ItemKind(o["kind"]),
                    status=OrderStatus(o["status"]),
                )
            )
        if o["kind"] == "make" and o["status"] == "firm":
            parents.append(
                ParentOrder(o["id"], o["sku"], dec(o["quantity"]), o["release_date"], OrderStatus.FIRM)
            )

    snapshot = Snapshot(
        parameters=parameters,
        items=tuple(items[s] for s in sorted(items)),
        bom=tuple(bom),
        stock=MappingProxyType(stock),
        receipts=tuple(receipts),
        sales_orders=tuple(sales),
        forecasts=tuple(forecasts),
        parent_orders=tuple(parents),
        calendar=calendar,
    )
    info = SnapshotInfo(
        replica_seq=replica_seq,
        change_seq=change_seq,
        counts={
            "items": len(items),
            "bom_lines": len(bom),
            "bom_lines_skipped": skipped,
            "stock_skus": len(stock),
            "sales_order_lines": len(sales),
            "forecast_buckets": len(forecasts),
            "scheduled_receipts": len(receipts),
            "parent_orders": len(parents),
        },
    )
    return snapshot, info
