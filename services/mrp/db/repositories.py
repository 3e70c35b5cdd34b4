"""All SQL of the mrp service. Functions take the caller's session; none commits."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.engine import copy_rows as shared_copy_rows
from shared.db.engine import raw_connection

SOURCE = "masterdata"

# -- master-data replica ---------------------------------------------------------------------------


async def existing_keys(session: AsyncSession, kind: str, keys: Iterable[str]) -> set[str]:
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    rows = await session.execute(
        text("SELECT key FROM replica_records WHERE source = :s AND kind = :k AND key = ANY(:keys)"),
        {"s": SOURCE, "k": kind, "keys": wanted},
    )
    return {r[0] for r in rows}


async def replica_record(session: AsyncSession, kind: str, key: str) -> dict[str, Any] | None:
    row = await session.execute(
        text("SELECT record FROM replica_records WHERE source = :s AND kind = :k AND key = :key"),
        {"s": SOURCE, "k": kind, "key": key},
    )
    value = row.scalar_one_or_none()
    return dict(value) if value is not None else None


async def replica_records(
    session: AsyncSession, kind: str, keys: Iterable[str] | None = None
) -> dict[str, dict[str, Any]]:
    if keys is None:
        rows = await session.execute(
            text("SELECT key, record FROM replica_records WHERE source = :s AND kind = :k"),
            {"s": SOURCE, "k": kind},
        )
    else:
        rows = await session.execute(
            text(
                "SELECT key, record FROM replica_records WHERE source = :s AND kind = :k AND key = ANY(:keys)"
            ),
            {"s": SOURCE, "k": kind, "keys": sorted(set(keys))},
        )
    return {r[0]: r[1] for r in rows}


async def replica_seq(session: AsyncSession) -> int:
    row = await session.execute(text("SELECT seq FROM replica_state WHERE source = :s"), {"s": SOURCE})
    value = row.scalar_one_or_none()
    return int(value or 0)


async def replica_changed_keys(session: AsyncSession, after_seq: int, kinds: Sequence[str]) -> set[str]:
    rows = await session.execute(
        text("SELECT key FROM replica_records WHERE source = :s AND kind = ANY(:k) AND seq > :after"),
        {"s": SOURCE, "k": list(kinds), "after": after_seq},
    )
    return {r[0] for r in rows}


# -- changes (net change) --------------------------------------------------------------------------


async def record_changes(session: AsyncSession, skus: Iterable[str], reason: str) -> None:
    values = sorted(set(skus))
    if values:
        await session.execute(
            text("INSERT INTO mrp_changes (sku, reason) SELECT unnest(CAST(:s AS text[])), :r"),
            {"s": values, "r": reason},
        )


async def lock_changes(session: AsyncSession) -> None:
    """Wait for transactions writing changes to commit and hold them off until this one ends."""
    await session.execute(text("LOCK TABLE mrp_changes IN SHARE MODE"))


async def last_change_seq(session: AsyncSession) -> int:
    return int((await session.execute(text("SELECT coalesce(max(seq), 0) FROM mrp_changes"))).scalar_one())


async def changed_skus(session: AsyncSession, after_seq: int, upto_seq: int) -> set[str]:
    rows = await session.execute(
        text("SELECT DISTINCT sku FROM mrp_changes WHERE seq > :a AND seq <= :b"),
        {"a": after_seq, "b": upto_seq},
    )
    return {r[0] for r in rows}


# -- sales orders ----------------------------------------------------------------------------------

_SO_COLUMNS = "seq, id, number, customer, status, source, interchange_key, version, created_at, updated_at"


async def sales_order_by_number(session: AsyncSession, customer: str, number: str) -> RowMapping | None:
    row = await session.execute(
        text(f"SELECT {_SO_COLUMNS} FROM sales_orders WHERE customer = :c AND number = :n"),
        {"c": customer, "n": number},
    )
    return row.mappings().first()


async def sales_order_by_interchange(session: AsyncSession, key: str) -> RowMapping | None:
    row = await session.execute(
        text(f"SELECT {_SO_COLUMNS} FROM sales_orders WHERE interchange_key = :k"), {"k": key}
    )
    return row.mappings().first()


async def insert_sales_order(
    session: AsyncSession,
    *,
    order_id: str,
    number: str,
    customer: str,
    source: str,
    interchange_key: str | None,
    lines: Sequence[tuple[str, Decimal, date]],
) -> bool:
    """Insert the order and its lines; False when (customer, number) or the interchange exists."""
    inserted = await session.execute(
        text(
            "INSERT INTO sales_orders (id, number, customer, source, interchange_key) "
            "VALUES (:i, :n, :c, :s, :k) ON CONFLICT DO NOTHING RETURNING id"
        ),
        {"i": order_id, "n": number, "c": customer, "s": source, "k": interchange_key},
    )
    if inserted.first() is None:
        return False
    await session.execute(
        text(
            "INSERT INTO sales_order_lines (order_id, line, sku, qty, due_date) "
            "SELECT :o, l, s, q, d FROM unnest(CAST(:l AS int[]), CAST(:s AS text[]), "
            "CAST(:q AS numeric[]), CAST(:d AS date[])) AS t(l, s, q, d)"
        ),
        {
            "o": order_id,
            "l": list(range(1, len(lines) + 1)),
            "s": [ln[0] for ln in lines],
            "q": [ln[1] for ln in lines],
            "d": [ln[2] for ln in lines],
        },
    )
    return True


async def sales_order(session: AsyncSession, order_id: str, *, lock: bool = False) -> RowMapping | None:
    sql = f"SELECT {_SO_COLUMNS} FROM sales_orders WHERE id = :i" + (" FOR UPDATE" if lock else "")
    return (await session.execute(text(sql), {"i": order_id})).mappings().first()


async def sales_order_lines(session: AsyncSession, order_ids: Sequence[str]) -> dict[str, list[RowMapping]]:
    rows = await session.execute(
        text(
            "SELECT order_id, line, sku, qty, due_date, status FROM sales_order_lines "
            "WHERE order_id = ANY(:o) ORDER BY order_id, line"
        ),
        {"o": list(order_ids)},
    )
    out: dict[str, list[RowMapping]] = {}
    for r in rows.mappings():
        out.setdefault(r["order_id"], []).append(r)
    return out


async def list_sales_orders(
    session: AsyncSession, *, number: str | None, customer: str | None, after: int | None, limit: int
) -> list[RowMapping]:
    where: list[str] = ["true"]
    params: dict[str, Any] = {"limit": limit}
    if number is not None:
        where.append("number = :n")
        params["n"] = number
    if customer is not None:
        where.append("customer = :c")
        params["c"] = customer
    if after is not None:
        where.append("seq > :after")
        params["after"] = after
    sql = f"SELECT {_SO_COLUMNS} FROM sales_orders WHERE {' AND '.join(where)} ORDER BY seq LIMIT :limit"
    return list((await session.execute(text(sql), params)).mappings())


async def update_sales_order_line(
    session: AsyncSession, order_id: str, line: int, qty: Decimal, due_date: date, status: str
) -> None:
    await session.execute(
        text(
            "UPDATE sales_order_lines SET qty = :q, due_date = :d, status = :st, version = version + 1 "
            "WHERE order_id = :o AND line = :l"
        ),
        {"q": qty, "d": due_date, "st": status, "o": order_id, "l": line},
    )


async def touch_sales_order(session: AsyncSession, order_id: str, status: str) -> None:
    await session.execute(
        text("UPDATE sales_orders SET status = :s, version = version + 1, updated_at = now() WHERE id = :i"),
        {"s": status, "i": order_id},
    )


# -- forecasts -------------------------------------------------------------------------------------


async def replace_forecast(session: AsyncSession, sku: str, buckets: Sequence[tuple[date, Decimal]]) -> None:
    await session.execute(text("DELETE FROM forecasts WHERE sku = :s"), {"s": sku})
    if buckets:
        await session.execute(
            text(
                "INSERT INTO forecasts (sku, start, qty) SELECT :s, d, q "
                "FROM unnest(CAST(:d AS date[]), CAST(:q AS numeric[])) AS t(d, q)"
            ),
            {"s": sku, "d": [b[0] for b in buckets], "q": [b[1] for b in buckets]},
        )


async def forecast(session: AsyncSession, sku: str) -> list[RowMapping]:
    rows = await session.execute(
        text("SELECT start, qty FROM forecasts WHERE sku = :s ORDER BY start"), {"s": sku}
    )
    return list(rows.mappings())


# -- orders ----------------------------------------------------------------------------------------

_ORDER_COLUMNS = (
    "seq, id, kind, sku, quantity, received_qty, release_date, due_date, status, supplier, unit_price, "
    "purchase_order_id, source_run, source_planned_order, components, version, created_at, updated_at"
)


async def insert_order(session: AsyncSession, values: dict[str, Any]) -> RowMapping:
    values = dict(values)
    if "components" in values and values["components"] is not None:
        values["components"] = json.dumps(values["components"])
    columns = ", ".join(values)
    binds = ", ".join(f"CAST(:{k} AS jsonb)" if k == "components" else f":{k}" for k in values)
    row = await session.execute(
        text(f"INSERT INTO orders ({columns}) VALUES ({binds}) RETURNING {_ORDER_COLUMNS}"), values
    )
    return row.mappings().one()


async def order(session: AsyncSession, order_id: str, *, lock: bool = False) -> RowMapping | None:
    sql = f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id = :i" + (" FOR UPDATE" if lock else "")
    return (await session.execute(text(sql), {"i": order_id})).mappings().first()


async def order_by_source(session: AsyncSession, run_id: str, planned_order_id: str) -> RowMapping | None:
    row = await session.execute(
        text(f"SELECT {_ORDER_COLUMNS} FROM orders WHERE source_run = :r AND source_planned_order = :p"),
        {"r": run_id, "p": planned_order_id},
    )
    return row.mappings().first()


async def update_order(session: AsyncSession, order_id: str, changes: dict[str, Any]) -> RowMapping:
    changes = dict(changes)
    sets = []
    for k in changes:
        sets.append(f"{k} = CAST(:{k} AS jsonb)" if k == "components" else f"{k} = :{k}")
    if "components" in changes and changes["components"] is not None:
        changes["components"] = json.dumps(changes["components"])
    sets += ["version = version + 1", "updated_at = now()"]
    changes["_id"] = order_id
    row = await session.execute(
        text(f"UPDATE orders SET {', '.join(sets)} WHERE id = :_id RETURNING {_ORDER_COLUMNS}"), changes
    )
    return row.mappings().one()


async def list_orders(
    session: AsyncSession,
    *,
    kind: str | None,
    status: str | None,
    sku: str | None,
    supplier: str | None,
    after: int | None,
    limit: int,
) -> list[RowMapping]:
    where: list[str] = ["true"]
    params: dict[str, Any] = {"limit": limit}
    for column, value in (("kind", kind), ("status", status), ("sku", sku), ("supplier", supplier)):
        if value is not None:
            where.append(f"{column} = :{column}")
            params[column] = value
    if after is not None:
        where.append("seq > :after")
        params["after"] = after
    sql = f"SELECT {_ORDER_COLUMNS} FROM orders WHERE {' AND '.join(where)} ORDER BY seq LIMIT :limit"
    return list((await session.execute(text(sql), params)).mappings())


async def groupable_buy_orders(session: AsyncSession, order_ids: Sequence[str] | None) -> list[RowMapping]:
    sql = (
        f"SELECT {_ORDER_COLUMNS} FROM orders WHERE kind = 'buy' AND status IN ('planned', 'firm') "
        "AND purchase_order_id IS NULL"
    )
    params: dict[str, Any] = {}
    if order_ids is not None:
        sql += " AND id = ANY(:ids)"
        params["ids"] = list(order_ids)
    sql += " ORDER BY seq FOR UPDATE"
    return list((await session.execute(text(sql), params)).mappings())


async def insert_purchase_order(session: AsyncSession, po_id: str, supplier: str) -> None:
    await session.execute(
        text("INSERT INTO purchase_orders (id, supplier) VALUES (:i, :s)"), {"i": po_id, "s": supplier}
    )


async def open_orders(session: AsyncSession) -> list[RowMapping]:
    """Orders that feed a run: receipts (firm, released, in progress) and firm parent orders."""
    rows = await session.execute(
        text(
            "SELECT id, kind, sku, quantity, received_qty, release_date, due_date, status FROM orders "
            "WHERE status IN ('firm', 'released', 'in_progress')"
        )
    )
    return list(rows.mappings())


# -- stock replica ---------------------------------------------------------------------------------


async def net_stock(session: AsyncSession) -> dict[str, Decimal]:
    rows = await session.execute(
        text("SELECT sku, sum(on_hand - reserved) FROM stock_positions WHERE nettable GROUP BY sku")
    )
    return {r[0]: Decimal(r[1]) for r in rows}


async def net_stock_of(session: AsyncSession, skus: Sequence[str]) -> dict[str, Decimal]:
    rows = await session.execute(
        text(
            "SELECT sku, sum(on_hand - reserved) FROM stock_positions WHERE nettable AND sku = ANY(:s) "
            "GROUP BY sku"
        ),
        {"s": list(skus)},
    )
    return {r[0]: Decimal(r[1]) for r in rows}


async def apply_stock_position(
    session: AsyncSession,
    *,
    sku: str,
    location: str,
    lot: str,
    on_hand: Decimal,
    reserved: Decimal,
    nettable: bool,
    seq: int,
) -> bool:
    """Upsert one position unless the replica already holds a newer one; True when applied."""
    row = await session.execute(
        text(
            "INSERT INTO stock_positions (sku, location, lot, on_hand, reserved, nettable, seq, updated_at) "
            "VALUES (:sku, :loc, :lot, :oh, :res, :net, :seq, now()) "
            "ON CONFLICT (sku, location, lot) DO UPDATE SET on_hand = excluded.on_hand, "
            "reserved = excluded.reserved, nettable = excluded.nettable, seq = excluded.seq, "
            "updated_at = now() "
            "WHERE stock_positions.seq < excluded.seq RETURNING sku"
        ),
        {
            "sku": sku,
            "loc": location,
            "lot": lot,
            "oh": on_hand,
            "res": reserved,
            "net": nettable,
            "seq": seq,
        },
    )
    return row.first() is not None


async def location_nettable(session: AsyncSession, location: str) -> bool:
    row = await session.execute(
        text("SELECT nettable FROM stock_positions WHERE location = :l LIMIT 1"), {"l": location}
    )
    value = row.scalar_one_or_none()
    return True if value is None else bool(value)


async def replace_stock_of(
    session: AsyncSession, sku: str, positions: Sequence[tuple[str, str, str, Decimal, Decimal, bool, int]]
) -> None:
    """Replace one sku's positions with fresher figures, keeping each key's sequence."""
    await session.execute(
        text(
            "DELETE FROM stock_positions WHERE sku = :s AND NOT ((location, lot) IN "
            "(SELECT l, t FROM unnest(CAST(:locs AS text[]), CAST(:lots AS text[])) AS u(l, t)))"
        ),
        {"s": sku, "locs": [p[1] for p in positions], "lots": [p[2] for p in positions]},
    )
    for _sku, location, lot, on_hand, reserved, nettable, seq in positions:
        await session.execute(
            text(
                "INSERT INTO stock_positions "
                "(sku, location, lot, on_hand, reserved, nettable, seq, updated_at) "
                "VALUES (:sku, :loc, :lot, :oh, :res, :net, :seq, now()) "
                "ON CONFLICT (sku, location, lot) DO UPDATE SET on_hand = excluded.on_hand, "
                "reserved = excluded.reserved, nettable = excluded.nettable, "
                "seq = greatest(stock_positions.seq, excluded.seq), updated_at = now()"
            ),
            {
                "sku": sku,
                "loc": location,
                "lot": lot,
                "oh": on_hand,
                "res": reserved,
                "net": nettable,
                "seq": seq,
            },
        )


async def replace_stock(
    session: AsyncSession, positions: Sequence[tuple[str, str, str, Decimal, Decimal, bool, int]]
) -> None:
    await session.execute(text("DELETE FROM stock_positions"))
    if positions:
        raw = await raw_connection(session)
        await raw.copy_records_to_table(
            "stock_positions",
            records=positions,
            columns=["sku", "location", "lot", "on_hand", "reserved", "nettable", "seq"],
        )
    await session.execute(
        text(
            "INSERT INTO stock_state (id, synced_at, positions) VALUES (1, now(), :n) "
            "ON CONFLICT (id) DO UPDATE SET synced_at = now(), positions = :n"
        ),
        {"n": len(positions)},
    )


# -- runs ------------------------------------------------------------------------------------------

_RUN_COLUMNS = (
    "seq, id, status, mode, requested_mode, today, horizon_days, release_window_days, progress, counts, "
    "timings, snapshot, note, error, previous_run, created_at, started_at, finished_at"
)


async def insert_run(session: AsyncSession, values: dict[str, Any]) -> RowMapping:
    columns = ", ".join(values)
    binds = ", ".join(f":{k}" for k in values)
    row = await session.execute(
        text(f"INSERT INTO mrp_runs ({columns}) VALUES ({binds}) RETURNING {_RUN_COLUMNS}"), values
    )
    return row.mappings().one()


async def run(session: AsyncSession, run_id: str) -> RowMapping | None:
    row = await session.execute(text(f"SELECT {_RUN_COLUMNS} FROM mrp_runs WHERE id = :i"), {"i": run_id})
    return row.mappings().first()


async def last_succeeded_run(session: AsyncSession) -> RowMapping | None:
    row = await session.execute(
        text(f"SELECT {_RUN_COLUMNS} FROM mrp_runs WHERE status = 'succeeded' ORDER BY seq DESC LIMIT 1")
    )
    return row.mappings().first()


async def update_run(session: AsyncSession, run_id: str, changes: dict[str, Any]) -> None:
    sets = []
    params = {"_id": run_id}
    for k, v in changes.items():
        if k in ("counts", "timings", "snapshot"):
            sets.append(f"{k} = CAST(:{k} AS jsonb)")
            params[k] = json.dumps(v)
        elif v == "now()":
            sets.append(f"{k} = now()")
        else:
            sets.append(f"{k} = :{k}")
            params[k] = v
    await session.execute(text(f"UPDATE mrp_runs SET {', '.join(sets)} WHERE id = :_id"), params)


async def fail_abandoned_runs(session: AsyncSession) -> int:
    rows = await session.execute(
        text(
            "UPDATE mrp_runs SET status = 'failed', finished_at = now(), "
            "error = 'the service stopped while the run was in progress' "
            "WHERE status IN ('queued', 'running') RETURNING id"
        )
    )
    return len(rows.all())


async def list_runs(session: AsyncSession, *, after: int | None, limit: int) -> list[RowMapping]:
    # Newest first: the token holds the last seq seen.
    where = "WHERE seq < :after" if after is not None else ""
    params: dict[str, Any] = {"limit": limit}
    if after is not None:
        params["after"] = after
    rows = await session.execute(
        text(f"SELECT {_RUN_COLUMNS} FROM mrp_runs {where} ORDER BY seq DESC LIMIT :limit"), params
    )
    return list(rows.mappings())


async def copy_rows(
    session: AsyncSession, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    await shared_copy_rows(session, table, columns, rows)


_PO_COLUMNS = "ord, id, sku, kind, quantity, release_date, due_date, pegging"


async def planned_orders(
    session: AsyncSession,
    run_id: str,
    *,
    sku: str | None = None,
    kind: str | None = None,
    after: int | None = None,
    limit: int | None = None,
) -> list[RowMapping]:
    where: list[str] = ["run_id = :r"]
    params: dict[str, Any] = {"r": run_id}
    if sku is not None:
        where.append("sku = :sku")
        params["sku"] = sku
    if kind is not None:
        where.append("kind = :kind")
        params["kind"] = kind
    if after is not None:
        where.append("ord > :after")
        params["after"] = after
    sql = f"SELECT {_PO_COLUMNS} FROM mrp_planned_orders WHERE {' AND '.join(where)} ORDER BY ord"
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    return list((await session.execute(text(sql), params)).mappings())


async def planned_order(session: AsyncSession, run_id: str, po_id: str) -> RowMapping | None:
    row = await session.execute(
        text(f"SELECT {_PO_COLUMNS} FROM mrp_planned_orders WHERE run_id = :r AND id = :i"),
        {"r": run_id, "i": po_id},
    )
    return row.mappings().first()


async def record(session: AsyncSession, run_id: str, sku: str) -> RowMapping | None:
    row = await session.execute(
        text(
            "SELECT sku, low_level_code, starting_available, safety_stock, components, rows "
            "FROM mrp_records WHERE run_id = :r AND sku = :s"
        ),
        {"r": run_id, "s": sku},
    )
    return row.mappings().first()


async def records(session: AsyncSession, run_id: str) -> list[RowMapping]:
    rows = await session.execute(
        text(
            "SELECT sku, low_level_code, starting_available, safety_stock, components, rows "
            "FROM mrp_records WHERE run_id = :r"
        ),
        {"r": run_id},
    )
    return list(rows.mappings())


async def actions(
    session: AsyncSession,
    run_id: str,
    *,
    kind: str | None = None,
    sku: str | None = None,
    after: int | None = None,
    limit: int | None = None,
) -> list[RowMapping]:
    where: list[str] = ["run_id = :r"]
    params: dict[str, Any] = {"r": run_id}
    if kind is not None:
        where.append("kind = :kind")
        params["kind"] = kind
    if sku is not None:
        where.append("sku = :sku")
        params["sku"] = sku
    if after is not None:
        where.append("ord > :after")
        params["after"] = after
    sql = (
        "SELECT ord, kind, sku, order_id, quantity, date, new_date FROM mrp_actions "
        f"WHERE {' AND '.join(where)} ORDER BY ord"
    )
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    return list((await session.execute(text(sql), params)).mappings())
