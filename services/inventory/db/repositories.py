"""All SQL of the inventory service: balances locked and updated with the ledger, the ledger itself,
valuation state, reservations, counts, and the master-data replica lookups.

Locking rule (no deadlocks): within one transaction, rows are locked reservation rows first, then
balance rows in (sku, location, lot) order, then ``item_costs`` rows in sku order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.domain.model import ZERO, Location, LocationKind, Lot, StockKey
from shared.db.engine import raw_connection as shared_raw_connection

MASTERDATA = "masterdata"


def db_lot(lot: str | None) -> str:
    return lot or ""


def api_lot(lot: str) -> str | None:
    return lot or None


# ------------------------------------------------------------------------------- master-data replica


async def items(session: AsyncSession, skus: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The replicated master-data items among ``skus`` (the item bodies, by sku)."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    rows = await session.execute(
        text(
            "SELECT key, record FROM replica_records WHERE source = :s AND kind = 'item' "
            "AND key = ANY(CAST(:keys AS text[]))"
        ),
        {"s": MASTERDATA, "keys": wanted},
    )
    out: dict[str, dict[str, Any]] = {}
    for key, record in rows.all():
        out[str(key)] = record if isinstance(record, dict) else json.loads(record)
    return out


def standard_cost_of(record: dict[str, Any] | None) -> Decimal | None:
    if not record:
        return None
    value = record.get("standard_cost")
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


async def standard_costs(session: AsyncSession, skus: Sequence[str] | None = None) -> dict[str, Decimal]:
    """Standard cost per sku from the replica (all items, or those in ``skus``)."""
    sql = (
        "SELECT key, record->>'standard_cost' FROM replica_records WHERE source = :s AND kind = 'item' "
        "AND record->>'standard_cost' IS NOT NULL"
    )
    params: dict[str, Any] = {"s": MASTERDATA}
    if skus is not None:
        sql += " AND key = ANY(CAST(:keys AS text[]))"
        params["keys"] = list(skus)
    out: dict[str, Decimal] = {}
    for key, value in (await session.execute(text(sql), params)).all():
        try:
            out[str(key)] = Decimal(str(value))
        except ArithmeticError:
            continue
    return out


# ------------------------------------------------------------------------------- locations and lots

_LOCATION_COLUMNS = "code, name, kind, parent, nettable, allow_negative, version, created_at, updated_at"


def location_of(row: Any) -> Location:
    return Location(
        code=row.code,
        name=row.name,
        kind=LocationKind(row.kind),
        parent=row.parent,
        nettable=row.nettable,
        allow_negative=row.allow_negative,
    )


async def location_rows(session: AsyncSession, codes: Iterable[str] | None = None) -> list[Any]:
    if codes is None:
        result = await session.execute(text(f"SELECT {_LOCATION_COLUMNS} FROM locations ORDER BY code"))
    else:
        result = await session.execute(
            text(f"SELECT {_LOCATION_COLUMNS} FROM locations WHERE code = ANY(CAST(:c AS text[]))"),
            {"c": sorted(set(codes))},
        )
    return list(result.all())


async def locations(session: AsyncSession, codes: Iterable[str] | None = None) -> dict[str, Location]:
    return {r.code: location_of(r) for r in await location_rows(session, codes)}


async def lots_of(session: AsyncSession, sku: str) -> list[Lot]:
    rows = await session.execute(
        text("SELECT sku, code, received_at, expiry FROM lots WHERE sku = :s"), {"s": sku}
    )
    return [Lot(r.sku, r.code, r.received_at, r.expiry) for r in rows.all()]


async def ensure_lot(
    session: AsyncSession, sku: str, code: str, received_at: datetime, expiry: date | None
) -> None:
    """Create the lot on its first receipt; a later receipt only fills a missing expiry."""
    await session.execute(
        text(
            "INSERT INTO lots (sku, code, received_at, expiry) VALUES (:s, :c, :r, :e) "
            "ON CONFLICT (sku, code) DO UPDATE SET expiry = COALESCE(lots.expiry, excluded.expiry), "
            "version = lots.version + CASE WHEN lots.expiry IS NULL AND excluded.expiry IS NOT NULL "
            "THEN 1 ELSE 0 END"
        ),
        {"s": sku, "c": code, "r": received_at, "e": expiry},
    )


# ------------------------------------------------------------------------------- balances


@dataclass(frozen=True, slots=True)
class BalanceFigures:
    on_hand: Decimal
    reserved: Decimal


async def lock_balances(session: AsyncSession, keys: Iterable[StockKey]) -> dict[StockKey, BalanceFigures]:
    """Create missing balance rows, then lock them all in key order (``SELECT ... FOR UPDATE``)."""
    ordered = sorted(set(keys), key=lambda k: (k.sku, k.location, db_lot(k.lot)))
    if not ordered:
        return {}
    params = {
        "skus": [k.sku for k in ordered],
        "locs": [k.location for k in ordered],
        "lots": [db_lot(k.lot) for k in ordered],
    }
    unnest = "unnest(CAST(:skus AS text[]), CAST(:locs AS text[]), CAST(:lots AS text[]))"
    select = text(
        "SELECT sku, location, lot, on_hand, reserved FROM balances "
        f"WHERE (sku, location, lot) IN (SELECT * FROM {unnest}) "
        "ORDER BY sku, location, lot FOR UPDATE"
    )
    if len(ordered) == 1:
        # One key: lock it straight away when it exists (one round trip on the hot path).
        found = {
            StockKey(r.sku, r.location, api_lot(r.lot)): BalanceFigures(r.on_hand, r.reserved)
            for r in (await session.execute(select, params)).all()
        }
        if found:
            return found
    # Several keys (or a new one): create the missing rows first (a concurrent creator wins
    # quietly), then lock them all in key order, so two transactions never lock in opposite orders.
    await session.execute(
        text(
            f"INSERT INTO balances (sku, location, lot) SELECT * FROM {unnest} "
            "ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING"
        ),
        params,
    )
    return {
        StockKey(r.sku, r.location, api_lot(r.lot)): BalanceFigures(r.on_hand, r.reserved)
        for r in (await session.execute(select, params)).all()
    }


async def lock_balances_of_sku(session: AsyncSession, sku: str) -> dict[StockKey, BalanceFigures]:
    rows = await session.execute(
        text(
            "SELECT sku, location, lot, on_hand, reserved FROM balances WHERE sku = :s "
            "ORDER BY sku, location, lot FOR UPDATE"
        ),
        {"s": sku},
    )
    return {
        StockKey(r.sku, r.location, api_lot(r.lot)): BalanceFigures(r.on_hand, r.reserved) for r in rows.all()
    }


async def write_balances(session: AsyncSession, figures: dict[StockKey, BalanceFigures]) -> None:
    for key, fig in sorted(figures.items(), key=lambda kv: (kv[0].sku, kv[0].location, db_lot(kv[0].lot))):
        await session.execute(
            text(
                "UPDATE balances SET on_hand = :o, reserved = :r, updated_at = now() "
                "WHERE sku = :s AND location = :l AND lot = :lot"
            ),
            {"o": fig.on_hand, "r": fig.reserved, "s": key.sku, "l": key.location, "lot": db_lot(key.lot)},
        )


def _balance_filters(sku: str | None, location: str | None, lot: str | None, prefix: str = "") -> str:
    where = []
    if sku is not None:
        where.append(f"{prefix}sku = :sku")
    if location is not None:
        where.append(f"{prefix}location = :location")
    if lot is not None:
        where.append(f"{prefix}lot = :lot")
    return (" AND " + " AND ".join(where)) if where else ""


async def balances(
    session: AsyncSession,
    *,
    sku: str | None = None,
    location: str | None = None,
    lot: str | None = None,
    after: list[Any] | None = None,
    limit: int | None = None,
) -> list[Any]:
    """Current balances holding stock or reservations, by (sku, location, lot)."""
    params: dict[str, Any] = {"sku": sku, "location": location, "lot": lot}
    sql = (
        "SELECT sku, location, lot, on_hand, reserved FROM balances "
        "WHERE (on_hand <> 0 OR reserved <> 0)" + _balance_filters(sku, location, lot)
    )
    if after is not None:
        sql += " AND (sku, location, lot) > (:a_sku, :a_loc, :a_lot)"
        params.update(a_sku=after[0], a_loc=after[1], a_lot=after[2])
    sql += " ORDER BY sku, location, lot"
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    return list((await session.execute(text(sql), params)).all())


async def balances_json(
    session: AsyncSession, *, sku: str | None = None, location: str | None = None, lot: str | None = None
) -> str:
    """The JSON array of the current balances holding stock or reservations, by (sku, location, lot)."""
    sql = (
        "SELECT coalesce(json_agg(json_build_object('sku', sku, 'location', location, "
        "'lot', nullif(lot, ''), 'on_hand', trim_scale(on_hand), 'reserved', trim_scale(reserved), "
        "'available', trim_scale(on_hand - reserved)) ORDER BY sku, location, lot), '[]')::text "
        "FROM balances WHERE (on_hand <> 0 OR reserved <> 0)" + _balance_filters(sku, location, lot)
    )
    params = {"sku": sku, "location": location, "lot": lot}
    return str((await session.execute(text(sql), params)).scalar_one())


async def balances_as_of_json(
    session: AsyncSession,
    before: datetime,
    *,
    sku: str | None = None,
    location: str | None = None,
    lot: str | None = None,
) -> str:
    """``balances_as_of`` as a JSON array (reserved and available unknown: null)."""
    params: dict[str, Any] = {"sku": sku, "location": location, "lot": lot, "before": before}
    to_filter = _balance_filters(sku, None, lot, "m.") + (
        " AND m.to_location = :location" if location is not None else ""
    )
    sql = f"""
        SELECT coalesce(json_agg(json_build_object('sku', sku, 'location', location,
            'lot', nullif(lot, ''), 'on_hand', trim_scale(on_hand), 'reserved', NULL, 'available', NULL)
            ORDER BY sku, location, lot), '[]')::text
        FROM (
            SELECT sku, location, lot, sum(qty) AS on_hand FROM (
                SELECT sku, location, lot, on_hand AS qty FROM balances WHERE true
                    {_balance_filters(sku, location, lot)}
                UNION ALL
                SELECT m.sku, m.location, m.lot, -m.delta FROM movements m WHERE m.at >= :before
                    {_balance_filters(sku, location, lot, "m.")}
                UNION ALL
                SELECT m.sku, m.to_location, m.lot, m.delta FROM movements m
                    WHERE m.at >= :before AND m.type = 'transfer' {to_filter}
            ) changes
            GROUP BY sku, location, lot HAVING sum(qty) <> 0
        ) b
    """
    return str((await session.execute(text(sql), params)).scalar_one())


# ------------------------------------------------------------------------------- valuation state


_VALUE_COLUMNS = "qty, fifo_value, avg_value, avg_cost, fifo_last_cost, ppv_total"


async def item_values(session: AsyncSession, *, sku: str | None, before: datetime | None) -> list[Any]:
    """Valuation figures per sku: the current state, or as of ``before`` (exclusive): skus moved
    since then read the running figures of their last movement before it."""
    params: dict[str, Any] = {"sku": sku, "before": before}
    sku_filter = " AND sku = :sku" if sku is not None else ""
    if before is None:
        sql = f"SELECT sku, {_VALUE_COLUMNS} FROM item_costs WHERE true{sku_filter} ORDER BY sku"
        return list((await session.execute(text(sql), params)).all())
    sql = f"""
        WITH later AS (SELECT DISTINCT sku FROM movements WHERE at >= :before{sku_filter})
        SELECT sku, {_VALUE_COLUMNS} FROM item_costs
            WHERE sku NOT IN (SELECT sku FROM later){sku_filter}
        UNION ALL
        SELECT l.sku, m.sku_qty_after, m.fifo_value_after, m.avg_value_after, m.avg_cost_after,
               m.fifo_last_cost_after, m.ppv_total_after
        FROM later l CROSS JOIN LATERAL (
            SELECT * FROM movements mv WHERE mv.sku = l.sku AND mv.at < :before
            ORDER BY mv.at DESC, mv.seq DESC LIMIT 1
        ) m
        ORDER BY sku
    """
    return list((await session.execute(text(sql), params)).all())


# The valuation of every sku in one statement; the same figures as ``handlers.valuation`` computes
# from ``item_values`` (unit costs rounded half up to 6 places, standard values to cents).
_DECIMAL_RE = "^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"
_VALUATION_ROWS = {
    "fifo": """
        SELECT sku, qty,
            CASE WHEN qty <> 0 THEN round((fifo_value + 0.000000000000000000000000000000) / qty, 6)
                 ELSE coalesce(fifo_last_cost, 0) END AS unit_cost,
            fifo_value AS value, NULL::numeric AS ppv, false AS missing
        FROM v WHERE NOT (qty = 0 AND fifo_value = 0)
    """,
    "average": """
        SELECT sku, qty, avg_cost AS unit_cost, avg_value AS value, NULL::numeric AS ppv, false AS missing
        FROM v WHERE NOT (qty = 0 AND avg_value = 0)
    """,
    "standard": f"""
        SELECT sku, qty, round(coalesce(std, 0), 6) AS unit_cost,
            round(qty * round(coalesce(std, 0), 6), 2) AS value, ppv_total AS ppv, std IS NULL AS missing
        FROM (
            SELECT v.*, CASE WHEN r.record->>'standard_cost' ~ '{_DECIMAL_RE}'
                             THEN (r.record->>'standard_cost')::numeric END AS std
            FROM v LEFT JOIN replica_records r
                ON r.source = 'masterdata' AND r.kind = 'item' AND r.key = v.sku
        ) s
        WHERE qty <> 0
    """,
}


async def valuation_json(
    session: AsyncSession, method: str, *, sku: str | None, before: datetime | None
) -> tuple[str, str, list[str]]:
    """(JSON array of {sku, qty, unit_cost, value, purchase_price_variance}, total, the skus without
    a standard cost (standard only)) in sku order, for the current state or as of ``before``."""
    params: dict[str, Any] = {"sku": sku, "before": before}
    sku_filter = " AND sku = :sku" if sku is not None else ""
    if before is None:
        values = f"SELECT sku, {_VALUE_COLUMNS} FROM item_costs WHERE true{sku_filter}"
    else:
        values = f"""
            WITH later AS (SELECT DISTINCT sku FROM movements WHERE at >= :before{sku_filter})
            SELECT sku, {_VALUE_COLUMNS} FROM item_costs
                WHERE sku NOT IN (SELECT sku FROM later){sku_filter}
            UNION ALL
            SELECT l.sku, m.sku_qty_after, m.fifo_value_after, m.avg_value_after, m.avg_cost_after,
                   m.fifo_last_cost_after, m.ppv_total_after
            FROM later l CROSS JOIN LATERAL (
                SELECT * FROM movements mv WHERE mv.sku = l.sku AND mv.at < :before
                ORDER BY mv.at DESC, mv.seq DESC LIMIT 1
            ) m
        """
    sql = f"""
        WITH v AS MATERIALIZED ({values}), rows AS ({_VALUATION_ROWS[method]})
        SELECT coalesce(json_agg(json_build_object('sku', sku, 'qty', trim_scale(qty),
                   'unit_cost', trim_scale(unit_cost), 'value', trim_scale(value),
                   'purchase_price_variance', trim_scale(ppv)) ORDER BY sku), '[]')::text,
               trim_scale(coalesce(sum(value), 0))::text,
               coalesce(array_agg(sku ORDER BY sku) FILTER (WHERE missing), '{{}}')
        FROM rows
    """
    items, total, missing = (await session.execute(text(sql), params)).one()
    return str(items), str(total), list(missing)


# ------------------------------------------------------------------------------- booking (hot path)
#
# A movement is booked in two statements on the session's own asyncpg connection (the same
# transaction, no ORM on the way): ``inventory_movement_state_v1`` (migration inventory_0004)
# locks and reads everything the decision needs; ``write_booking`` writes balances, valuation
# state, FIFO layers and the ledger row at once.


async def raw_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under ``session``, inside the session's transaction."""
    return await shared_raw_connection(session)


@dataclass(frozen=True, slots=True)
class CostState:
    qty: Decimal
    fifo_value: Decimal
    fifo_last_cost: Decimal | None
    avg_value: Decimal
    avg_cost: Decimal
    ppv_total: Decimal
    last_movement_at: datetime | None


@dataclass(frozen=True, slots=True)
class LayerState:
    id: int
    shortfall: bool
    at: datetime | None
    qty: Decimal
    unit_cost: Decimal


@dataclass(frozen=True, slots=True)
class MovementState:
    item: dict[str, Any] | None
    locations: dict[str, Location]
    figures: dict[StockKey, BalanceFigures]
    cost: CostState
    layers: list[LayerState]


async def movement_state(
    session: AsyncSession,
    sku: str,
    codes: Sequence[str],
    locations: Sequence[str],
    lot: str | None,
    layers: str,
) -> MovementState:
    """Lock the balances of ``sku`` at ``locations`` (lot ``lot``), then its valuation state, and
    read them with the item and the ``codes`` locations, in one round trip. ``layers``: 'always',
    'negative' (only when the sku's quantity is below zero) or 'never'."""
    raw = await raw_connection(session)
    r = await raw.fetchrow(
        "SELECT * FROM inventory_movement_state_v1($1, $2, $3, $4, $5)",
        sku,
        list(codes),
        sorted(set(locations)),
        db_lot(lot),
        layers,
    )
    found = {
        code: Location(
            code=code,
            name=name,
            kind=LocationKind(kind),
            parent=parent,
            nettable=nettable,
            allow_negative=allow_negative,
        )
        for code, name, kind, parent, nettable, allow_negative in zip(
            r["loc_code"] or (),
            r["loc_name"] or (),
            r["loc_kind"] or (),
            r["loc_parent"] or (),
            r["loc_nettable"] or (),
            r["loc_allow_negative"] or (),
            strict=True,
        )
    }
    figures = {
        StockKey(sku, location, lot or None): BalanceFigures(on_hand, reserved)
        for location, on_hand, reserved in zip(
            r["bal_location"] or (), r["bal_on_hand"] or (), r["bal_reserved"] or (), strict=True
        )
    }
    cost = CostState(
        r["qty"],
        r["fifo_value"],
        r["fifo_last_cost"],
        r["avg_value"],
        r["avg_cost"],
        r["ppv_total"],
        r["last_movement_at"],
    )
    layer_rows = [
        LayerState(*values)
        for values in zip(
            r["layer_id"] or (),
            r["layer_shortfall"] or (),
            r["layer_at"] or (),
            r["layer_qty"] or (),
            r["layer_cost"] or (),
            strict=True,
        )
    ]
    item = json.loads(r["item"]) if r["item"] is not None else None
    return MovementState(item, found, figures, cost, layer_rows)


MOVEMENT_INSERT_COLUMNS = (
    "id",
    "type",
    "sku",
    "qty",
    "delta",
    "location",
    "to_location",
    "lot",
    "unit_cost",
    "reason",
    "reference",
    "reservation_id",
    "dedup_key",
    "at",
    "recorded_at",
    "fifo_value",
    "fifo_cogs",
    "avg_value",
    "avg_cogs",
    "ppv",
    "sku_qty_after",
    "fifo_value_after",
    "avg_value_after",
    "avg_cost_after",
    "fifo_last_cost_after",
    "ppv_total_after",
)
_FIRST_MOVEMENT_PARAM = 19
_MOVEMENT_PLACEHOLDERS = ", ".join(
    f"${_FIRST_MOVEMENT_PARAM + 1 + i}" for i in range(len(MOVEMENT_INSERT_COLUMNS))
)
_WRITE_BOOKING = f"""
WITH bal AS (
    UPDATE balances b SET on_hand = v.on_hand, reserved = v.reserved, updated_at = now()
    FROM unnest($2::text[], $3::numeric[], $4::numeric[]) AS v(location, on_hand, reserved)
    WHERE b.sku = $1 AND b.lot = $5 AND b.location = v.location
    RETURNING 1
), cost AS (
    UPDATE item_costs SET qty = $6, fifo_value = $7, fifo_last_cost = $8, avg_value = $9,
        avg_cost = $10, ppv_total = $11, last_movement_at = $12
    WHERE sku = $1
    RETURNING 1
), gone AS (
    DELETE FROM cost_layers WHERE id = ANY($13::bigint[]) RETURNING 1
), changed AS (
    UPDATE cost_layers l SET qty = v.qty
    FROM unnest($14::bigint[], $15::numeric[]) AS v(id, qty)
    WHERE l.id = v.id
    RETURNING 1
), added AS (
    INSERT INTO cost_layers (sku, shortfall, at, qty, unit_cost)
    SELECT $1, v.shortfall, v.at, v.qty, v.unit_cost
    FROM unnest($16::boolean[], $17::timestamptz[], $18::numeric[], $19::numeric[])
        WITH ORDINALITY AS v(shortfall, at, qty, unit_cost, n)
    ORDER BY v.n
    RETURNING 1
)
INSERT INTO movements ({", ".join(MOVEMENT_INSERT_COLUMNS)})
VALUES ({_MOVEMENT_PLACEHOLDERS})
RETURNING seq
"""


@dataclass(frozen=True, slots=True)
class NewLayer:
    shortfall: bool
    at: datetime | None
    qty: Decimal
    unit_cost: Decimal


async def write_booking(
    session: AsyncSession,
    sku: str,
    lot: str | None,
    balances: dict[StockKey, BalanceFigures],
    cost: CostState,
    *,
    deleted_layers: Sequence[int],
    changed_layers: Sequence[tuple[int, Decimal]],
    new_layers: Sequence[NewLayer],
    movement: dict[str, Any],
) -> int:
    """Balances, valuation state, FIFO layers and the ledger row of one movement, in one statement
    (the rows were locked by ``movement_state``). Returns the movement's ``seq``."""
    raw = await raw_connection(session)
    ordered = sorted(balances.items(), key=lambda kv: kv[0].location)
    seq = await raw.fetchval(
        _WRITE_BOOKING,
        sku,
        [k.location for k, _ in ordered],
        [f.on_hand for _, f in ordered],
        [f.reserved for _, f in ordered],
        db_lot(lot),
        cost.qty,
        cost.fifo_value,
        cost.fifo_last_cost,
        cost.avg_value,
        cost.avg_cost,
        cost.ppv_total,
        cost.last_movement_at,
        list(deleted_layers),
        [i for i, _ in changed_layers],
        [q for _, q in changed_layers],
        [n.shortfall for n in new_layers],
        [n.at for n in new_layers],
        [n.qty for n in new_layers],
        [n.unit_cost for n in new_layers],
        *(movement[c] for c in MOVEMENT_INSERT_COLUMNS),
    )
    return int(seq)


# ------------------------------------------------------------------------------- ledger


_MOVEMENT_COLUMNS = (
    "seq, id, type, sku, qty, location, to_location, lot, unit_cost, reason, reference, "
    "reservation_id, at, recorded_at, fifo_value, avg_value, ppv"
)


async def movement(session: AsyncSession, movement_id: str) -> Any:
    return (
        await session.execute(
            text(f"SELECT {_MOVEMENT_COLUMNS} FROM movements WHERE id = :i"), {"i": movement_id}
        )
    ).first()


async def movement_by_dedup(session: AsyncSession, dedup_key: str) -> Any:
    return (
        await session.execute(
            text(f"SELECT {_MOVEMENT_COLUMNS} FROM movements WHERE dedup_key = :k"), {"k": dedup_key}
        )
    ).first()


async def list_movements(
    session: AsyncSession,
    *,
    sku: str | None,
    location: str | None,
    type_: str | None,
    start: datetime | None,
    end: datetime | None,
    reference: str | None,
    after_seq: int | None,
    limit: int,
) -> list[Any]:
    where = ["true"]
    params: dict[str, Any] = {"limit": limit}
    if sku is not None:
        where.append("sku = :sku")
        params["sku"] = sku
    if location is not None:
        where.append("(location = :loc OR to_location = :loc)")
        params["loc"] = location
    if type_ is not None:
        where.append("type = :type")
        params["type"] = type_
    if start is not None:
        where.append("at >= :start")
        params["start"] = start
    if end is not None:
        where.append("at < :end")
        params["end"] = end
    if reference is not None:
        where.append("reference = :ref")
        params["ref"] = reference
    if after_seq is not None:
        where.append("seq > :after")
        params["after"] = after_seq
    sql = f"SELECT {_MOVEMENT_COLUMNS} FROM movements WHERE {' AND '.join(where)} ORDER BY seq LIMIT :limit"
    return list((await session.execute(text(sql), params)).all())


async def issued_qty(session: AsyncSession, start: datetime, end: datetime) -> dict[str, Decimal]:
    """Quantity issued per sku by issue movements dated in [start, end)."""
    rows = await session.execute(
        text(
            "SELECT sku, sum(qty) FROM movements WHERE type = 'issue' AND at >= :a AND at < :b GROUP BY sku"
        ),
        {"a": start, "b": end},
    )
    return {str(s): Decimal(q) for s, q in rows.all()}


async def issued_by_bucket(
    session: AsyncSession, sku: str, start: datetime, period_days: int, periods: int
) -> list[Decimal]:
    rows = await session.execute(
        text(
            "SELECT floor(extract(epoch FROM at - :a) / (:d * 86400))::int AS b, sum(qty) FROM movements "
            "WHERE sku = :s AND type = 'issue' AND at >= :a "
            "AND at < :a + make_interval(days => :d * :n) GROUP BY b"
        ),
        {"s": sku, "a": start, "d": period_days, "n": periods},
    )
    buckets = [ZERO] * periods
    for bucket, qty in rows.all():
        if 0 <= int(bucket) < periods:
            buckets[int(bucket)] = Decimal(qty)
    return buckets


async def cogs(
    session: AsyncSession, start: datetime, end: datetime, sku: str | None
) -> tuple[Decimal, dict[str, Decimal]]:
    """FIFO cost of goods that left (with price differences) in [start, end), total and per sku."""
    rows = await session.execute(
        text(
            "SELECT sku, sum(fifo_cogs), sum(CASE WHEN type = 'issue' THEN qty ELSE 0 END) FROM movements "
            "WHERE at >= :a AND at < :b" + (" AND sku = :sku" if sku else "") + " GROUP BY sku"
        ),
        {"a": start, "b": end, "sku": sku},
    )
    per_sku: dict[str, Decimal] = {}
    total = ZERO
    for s, value, _qty in rows.all():
        per_sku[str(s)] = Decimal(value)
        total += Decimal(value)
    return total, per_sku


async def last_movement_per_sku(session: AsyncSession, before: datetime) -> dict[str, datetime]:
    rows = await session.execute(
        text("SELECT sku, max(at) FROM movements WHERE at < :b GROUP BY sku"), {"b": before}
    )
    return {str(s): at for s, at in rows.all()}


async def all_lots(session: AsyncSession) -> list[Lot]:
    rows = await session.execute(text("SELECT sku, code, received_at, expiry FROM lots"))
    return [Lot(r.sku, r.code, r.received_at, r.expiry) for r in rows.all()]


# ------------------------------------------------------------------------------- reservations

_RESERVATION_COLUMNS = (
    "id, order_ref, sku, policy, requested, reserved, consumed, released, status, created_at, updated_at"
)


async def reservation(session: AsyncSession, reservation_id: str, *, lock: bool = False) -> Any:
    sql = f"SELECT {_RESERVATION_COLUMNS} FROM reservations WHERE id = :i" + (" FOR UPDATE" if lock else "")
    return (await session.execute(text(sql), {"i": reservation_id})).first()


async def reservations_of_order(
    session: AsyncSession, order: str, *, open_only: bool = False, lock: bool = False
) -> list[Any]:
    sql = f"SELECT {_RESERVATION_COLUMNS} FROM reservations WHERE order_ref = :o"
    if open_only:
        sql += " AND status = 'open'"
    sql += " ORDER BY id" + (" FOR UPDATE" if lock else "")
    return list((await session.execute(text(sql), {"o": order})).all())


async def reservation_lines(session: AsyncSession, ids: Sequence[str]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = await session.execute(
        text(
            "SELECT reservation_id, line, location, lot, qty FROM reservation_lines "
            "WHERE reservation_id = ANY(CAST(:ids AS text[])) ORDER BY reservation_id, line"
        ),
        {"ids": list(ids)},
    )
    for r in rows.all():
        out[r.reservation_id].append(r)
    return out


async def insert_reservation(session: AsyncSession, values: dict[str, Any]) -> None:
    columns = ", ".join(values)
    binds = ", ".join(f":{c}" for c in values)
    await session.execute(text(f"INSERT INTO reservations ({columns}) VALUES ({binds})"), values)


async def replace_reservation_lines(
    session: AsyncSession, reservation_id: str, lines: Sequence[tuple[str, str | None, Decimal]]
) -> None:
    await session.execute(
        text("DELETE FROM reservation_lines WHERE reservation_id = :i"), {"i": reservation_id}
    )
    for n, (location, lot, qty) in enumerate(lines, start=1):
        await session.execute(
            text(
                "INSERT INTO reservation_lines (reservation_id, line, location, lot, qty) "
                "VALUES (:i, :n, :l, :lot, :q)"
            ),
            {"i": reservation_id, "n": n, "l": location, "lot": db_lot(lot), "q": qty},
        )


async def update_reservation(
    session: AsyncSession, reservation_id: str, *, consumed: Decimal, released: Decimal, status: str
) -> None:
    await session.execute(
        text(
            "UPDATE reservations SET consumed = :c, released = :r, status = :st, updated_at = now() "
            "WHERE id = :i"
        ),
        {"c": consumed, "r": released, "st": status, "i": reservation_id},
    )


async def reservation_by_dedup(session: AsyncSession, dedup_key: str) -> Any:
    return (
        await session.execute(
            text(f"SELECT {_RESERVATION_COLUMNS} FROM reservations WHERE dedup_key = :k"), {"k": dedup_key}
        )
    ).first()


# ------------------------------------------------------------------------------- counts


async def count(session: AsyncSession, count_id: str, *, lock: bool = False) -> Any:
    sql = (
        "SELECT id, kind, status, location, skus, reason, snapshot_at, posted_at, tolerance_qty, "
        "tolerance_ratio, created_at FROM counts WHERE id = :i" + (" FOR UPDATE" if lock else "")
    )
    return (await session.execute(text(sql), {"i": count_id})).first()


async def count_lines(session: AsyncSession, count_id: str) -> list[Any]:
    rows = await session.execute(
        text(
            "SELECT sku, location, lot, expected, counted, counted_at FROM count_lines "
            "WHERE count_id = :i ORDER BY sku, location, lot"
        ),
        {"i": count_id},
    )
    return list(rows.all())


async def last_counted(session: AsyncSession) -> dict[str, date]:
    """The day each sku was last counted (a posted count with a counted line of it)."""
    rows = await session.execute(
        text(
            "SELECT l.sku, max(c.posted_at) FROM count_lines l JOIN counts c ON c.id = l.count_id "
            "WHERE c.status = 'posted' AND l.counted IS NOT NULL GROUP BY l.sku"
        )
    )
    return {str(s): at.date() for s, at in rows.all()}


async def skus_in_stock(session: AsyncSession) -> list[str]:
    rows = await session.execute(text("SELECT DISTINCT sku FROM balances WHERE on_hand <> 0 ORDER BY sku"))
    return [str(r[0]) for r in rows.all()]


async def on_hand_per_sku(session: AsyncSession, sku: str | None = None) -> dict[str, Decimal]:
    rows = await session.execute(
        text("SELECT sku, sum(on_hand) FROM balances" + (" WHERE sku = :s" if sku else "") + " GROUP BY sku"),
        {"s": sku},
    )
    return {str(s): Decimal(q) for s, q in rows.all()}
