"""The consistent input of an analysis: its orders and the master data they use, as JSON.

- Orders come from the request (inline), from the mrp service over HTTP for a run (its planned
  orders, ``GET /v1/mrp/runs/{id}/planned-orders``, every page: immutable and addressed by id), or
  from the local replica of mrp's order book for ``firm+released`` (:mod:`services.capacity.orders`;
  the replica position read is recorded). Only ``make`` orders load work centers: buy orders are
  counted (``buy_orders_skipped``) and left out. An order-book order counts for its
  ``remaining_qty`` when mrp gives one (what is left to make), else its ``quantity``.
- Master data comes from the local replica (``replica_records``), read in one REPEATABLE READ
  transaction: the items and routings of the orders' skus, the work centers their operations and
  alternates name, those work centers' calendars, and the suppliers supplying those skus.

The snapshot is stored with the analysis (``analysis_inputs``), so a what-if recomputes from the
very same data even after master data or the order book has changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.capacity.orders import SourceUnavailable, pages
from shared.db.engine import SessionMaker

SOURCE = "masterdata"

Snapshot = dict[str, Any]

__all__ = ["SourceUnavailable", "fetch_run_orders", "read_items_by", "read_master_data"]


def _order(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(raw["id"]),
        "sku": str(raw["sku"]),
        "quantity": float(raw["quantity"]),
        "release_date": str(raw["release_date"]),
        "due_date": str(raw["due_date"]),
        "status": raw.get("status", "planned"),
    }


async def fetch_run_orders(
    run_id: str, *, mrp_url: str, timeout_s: float, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    """The make planned orders of an mrp run (immutable, addressed by id: read at analysis time),
    and how many buy orders were left out."""
    path = f"/v1/mrp/runs/{run_id}/planned-orders"
    orders: list[dict[str, Any]] = []
    skipped = 0
    async with httpx.AsyncClient(base_url=mrp_url, timeout=timeout_s) as client:
        async for raw in pages(client, path, [], page_size):
            if raw.get("kind", "make") != "make":
                skipped += 1
                continue
            orders.append(_order(raw))
    return orders, skipped


async def _records(conn: AsyncConnection, kind: str, keys: Iterable[str] | None) -> dict[str, Any]:
    if keys is None:
        result = await conn.execute(
            text("SELECT key, record FROM replica_records WHERE source = :s AND kind = :k"),
            {"s": SOURCE, "k": kind},
        )
    else:
        result = await conn.execute(
            text(
                "SELECT key, record FROM replica_records WHERE source = :s AND kind = :k AND key = ANY(:keys)"
            ),
            {"s": SOURCE, "k": kind, "keys": sorted(set(keys))},
        )
    return {str(key): record for key, record in result.all()}


async def read_master_data(sessionmaker: SessionMaker, skus: Iterable[str]) -> Snapshot:
    """Items, routings, work centers, calendars and suppliers for ``skus``, from the replica."""
    wanted = sorted(set(skus))
    async with sessionmaker() as session:
        conn = await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        seq_row = (
            await conn.execute(text("SELECT seq FROM replica_state WHERE source = :s"), {"s": SOURCE})
        ).first()
        items = await _records(conn, "item", wanted)
        routings = await _records(conn, "routing", wanted)
        codes: set[str] = set()
        for routing in routings.values():
            for op in routing.get("operations") or []:
                codes.add(str(op["work_center"]))
                codes.update(str(a["work_center"]) for a in op.get("alternates") or [])
        work_centers = await _records(conn, "work_center", codes)
        calendars = await _records(conn, "calendar", {str(w["calendar"]) for w in work_centers.values()})
        suppliers = await _records(conn, "supplier", None)
        await session.rollback()
    sku_set = set(wanted)
    offers = [
        {
            "supplier": code,
            "sku": str(line["sku"]),
            "price": float(line.get("price") or 0),
            "priority": int(line.get("priority") or 1),
            "lead_time_days": int(line.get("lead_time_days") or 0),
        }
        for code, supplier in sorted(suppliers.items())
        for line in supplier.get("items") or []
        if str(line.get("sku")) in sku_set
    ]
    return {
        "replica_seq": int(seq_row[0]) if seq_row else None,
        "items": items,
        "routings": routings,
        "work_centers": work_centers,
        "calendars": calendars,
        "subcontract_offers": offers,
    }


async def read_items_by(
    sessionmaker: SessionMaker, *, skus: Iterable[str], families: Iterable[str]
) -> Snapshot:
    """For the rough-cut: the named items and every item of the named families, with their
    routings, work centers and calendars."""
    family_list = sorted(set(families))
    async with sessionmaker() as session:
        conn = await session.connection()
        rows = (
            await conn.execute(
                text(
                    "SELECT key, record FROM replica_records WHERE source = :s AND kind = 'item' "
                    "AND (key = ANY(:skus) OR record->>'family' = ANY(:families))"
                ),
                {"s": SOURCE, "skus": sorted(set(skus)), "families": family_list},
            )
        ).all()
        await session.rollback()
    items = {str(k): r for k, r in rows}
    data = await read_master_data(sessionmaker, items.keys() | set(skus))
    data["items"] = items
    return data
