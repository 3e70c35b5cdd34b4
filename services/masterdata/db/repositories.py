"""All SQL of the masterdata service, on the session's asyncpg connection (bulk paths use
``COPY`` into a transaction-scoped staging table, then one ``INSERT … ON CONFLICT``).

Record tables share one layout (``key``, ``record``, ``version``, ``last_seq``, who / when), so one
set of functions serves every kind; ``items`` adds the filter columns and the low-level code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from services.masterdata.db.tables import RECORD_TABLES
from shared.db.engine import raw_connection

#: ``pg_advisory_xact_lock`` key every masterdata write transaction takes first ("jalonMD").
WRITE_LOCK = 0x6A616C6F6E4D44
#: below this many rows, plain ``executemany``; from it on, ``COPY`` into a staging table.
COPY_FROM_ROWS = 200

_BASE_COLUMNS = ("key", "record", "version", "last_seq", "created_by", "updated_by")
_ITEM_COLUMNS = (*_BASE_COLUMNS, "kind", "family", "phantom")
_HISTORY_COLUMNS = ("seq", "record_kind", "key", "version", "op", "changed_by", "import_id", "changes")

Raw: TypeAlias = asyncpg.Connection


async def raw_of(conn: AsyncSession | AsyncConnection) -> Raw:
    """The asyncpg connection under a session or connection, inside its transaction."""
    raw: Raw = await raw_connection(conn)
    return raw


def table_of(kind: str) -> str:
    return RECORD_TABLES[kind]


# -- the change sequence ---------------------------------------------------------------------------


async def lock_writes(raw: Raw) -> None:
    await raw.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)


async def last_committed_seq(raw: Raw) -> int:
    """The last change number visible to this transaction (history has one row per change)."""
    return int(await raw.fetchval("SELECT coalesce(max(seq), 0) FROM history"))


async def take_seqs(raw: Raw, count: int) -> int:
    """Take ``count`` consecutive values of ``change_seq`` (under the write lock); the first."""
    first = int(await raw.fetchval("SELECT nextval('change_seq')"))
    if count > 1:
        await raw.execute("SELECT setval('change_seq', $1)", first + count - 1)
    return first


# -- loading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredRecord:
    key: str
    version: int
    record: str  # JSON text
    low_level_code: int = 0
    llc_version: int = 0


async def load_kind(raw: Raw, kind: str) -> list[StoredRecord]:
    if kind == "item":
        rows = await raw.fetch(
            "SELECT key, version, record::text, low_level_code, llc_version FROM items ORDER BY key"
        )
        return [StoredRecord(r[0], r[1], r[2], r[3], r[4]) for r in rows]
    rows = await raw.fetch(f"SELECT key, version, record::text FROM {table_of(kind)} ORDER BY key")
    return [StoredRecord(r[0], r[1], r[2]) for r in rows]


async def load_keys(raw: Raw, kind: str, keys: Sequence[str]) -> list[StoredRecord]:
    """The stored records of ``kind`` among ``keys`` (the missing ones were deleted)."""
    if kind == "item":
        rows = await raw.fetch(
            "SELECT key, version, record::text, low_level_code, llc_version FROM items "
            "WHERE key = ANY($1::text[])",
            list(keys),
        )
        return [StoredRecord(r[0], r[1], r[2], r[3], r[4]) for r in rows]
    rows = await raw.fetch(
        f"SELECT key, version, record::text FROM {table_of(kind)} WHERE key = ANY($1::text[])", list(keys)
    )
    return [StoredRecord(r[0], r[1], r[2]) for r in rows]


async def llc_versions(raw: Raw, keys: Sequence[str]) -> dict[str, int]:
    rows = await raw.fetch("SELECT key, llc_version FROM items WHERE key = ANY($1::text[])", list(keys))
    return {r[0]: r[1] for r in rows}


async def changed_since(raw: Raw, seq: int, limit: int) -> list[tuple[str, str]] | None:
    """``(record_kind, key)`` of every change after ``seq`` (history's primary key range);
    ``None`` when there are more than ``limit`` changes (a full load is then cheaper)."""
    rows = await raw.fetch(
        "SELECT record_kind, key FROM history WHERE seq > $1 ORDER BY seq LIMIT $2", seq, limit + 1
    )
    if len(rows) > limit:
        return None
    return [(r[0], r[1]) for r in rows]


# -- writing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordWrite:
    key: str
    record: str  # JSON text
    version: int
    seq: int
    by: str | None
    kind_col: str | None = None  # items only
    family: str | None = None
    phantom: bool = False
    low_level_code: int | None = None  # items written directly (new): their code, if not 0
    llc_version: int | None = None


def _values(kind: str, w: RecordWrite) -> tuple[Any, ...]:
    base = (w.key, w.record, w.version, w.seq, w.by, w.by)
    return (*base, w.kind_col, w.family, w.phantom) if kind == "item" else base


async def upsert_records(raw: Raw, kind: str, writes: Sequence[RecordWrite], *, direct: bool = False) -> None:
    """Insert or replace records. ``direct``: every key is new (the caller knows, under the
    write lock): ``COPY`` straight into the table, items with their low-level code."""
    if not writes:
        return
    table = table_of(kind)
    cols = _ITEM_COLUMNS if kind == "item" else _BASE_COLUMNS
    if direct:
        if kind == "item":
            rows = [(*_values(kind, w), w.low_level_code or 0, w.llc_version or 0) for w in writes]
            cols = (*cols, "low_level_code", "llc_version")
        else:
            rows = [_values(kind, w) for w in writes]
        await raw.copy_records_to_table(table, records=rows, columns=list(cols))
        return
    updates = ["record", "version", "last_seq", "updated_by", *cols[6:]]
    set_clause = ", ".join(f"{c} = excluded.{c}" for c in updates) + ", updated_at = now()"
    rows = [_values(kind, w) for w in writes]
    if len(rows) < COPY_FROM_ROWS:
        placeholders = ", ".join(
            f"${i + 1}::jsonb" if c == "record" else f"${i + 1}" for i, c in enumerate(cols)
        )
        await raw.executemany(
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({placeholders}) "
            f"ON CONFLICT (key) DO UPDATE SET {set_clause}",
            rows,
        )
        return
    stage = f"stage_{table}"
    await raw.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
    )
    await raw.execute(f"TRUNCATE {stage}")
    await raw.copy_records_to_table(stage, records=rows, columns=list(cols))
    await raw.execute(
        f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM {stage} "
        f"ON CONFLICT (key) DO UPDATE SET {set_clause}"
    )


async def delete_records(raw: Raw, kind: str, keys: Sequence[str]) -> None:
    if keys:
        await raw.execute(f"DELETE FROM {table_of(kind)} WHERE key = ANY($1::text[])", list(keys))


async def update_low_level_codes(raw: Raw, rows: Sequence[tuple[str, int, int]]) -> None:
    """``(sku, code, llc_version)`` for each item whose code moved."""
    if rows:
        await raw.execute(
            "UPDATE items SET low_level_code = u.code, llc_version = u.v "
            "FROM unnest($1::text[], $2::int[], $3::int[]) AS u(sku, code, v) WHERE items.key = u.sku",
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
        )


@dataclass(frozen=True)
class HistoryWrite:
    seq: int
    record_kind: str
    key: str
    version: int
    op: str
    by: str | None
    import_id: str | None
    changes: str  # JSON text


async def insert_history(raw: Raw, rows: Sequence[HistoryWrite | tuple[Any, ...]]) -> None:
    """History rows: :class:`HistoryWrite` or tuples in its field order."""
    if not rows:
        return
    values = [
        (h.seq, h.record_kind, h.key, h.version, h.op, h.by, h.import_id, h.changes)
        if isinstance(h, HistoryWrite)
        else h
        for h in rows
    ]
    if len(values) < COPY_FROM_ROWS:
        await raw.executemany(
            f"INSERT INTO history ({', '.join(_HISTORY_COLUMNS)}) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)",
            values,
        )
    else:
        await raw.copy_records_to_table("history", records=values, columns=list(_HISTORY_COLUMNS))


async def insert_outbox(raw: Raw, rows: Sequence[tuple[str, str, str]]) -> None:
    """``(event_id, subject, payload)`` rows into the platform's outbox table, by ``COPY``: what
    ``UnitOfWork.emit`` does one ORM row at a time (same transaction, same columns)."""
    if rows:
        await raw.copy_records_to_table("outbox", records=rows, columns=["event_id", "subject", "payload"])


# -- reading ---------------------------------------------------------------------------------------


async def get_record(raw: Raw, kind: str, key: str) -> StoredRecord | None:
    if kind == "item":
        r = await raw.fetchrow(
            "SELECT key, version, record::text, low_level_code, llc_version FROM items WHERE key = $1", key
        )
        return None if r is None else StoredRecord(r[0], r[1], r[2], r[3], r[4])
    r = await raw.fetchrow(f"SELECT key, version, record::text FROM {table_of(kind)} WHERE key = $1", key)
    return None if r is None else StoredRecord(r[0], r[1], r[2])


async def list_records(
    raw: Raw,
    kind: str,
    *,
    after: str | None,
    limit: int,
    filters: dict[str, Any] | None = None,
    prefix: str | None = None,
) -> list[StoredRecord]:
    """One page in key order, starting after ``after``; ``filters`` are column = value."""
    where: list[str] = []
    args: list[Any] = []
    if after is not None:
        args.append(after)
        where.append(f"key > ${len(args)}")
    if prefix:
        args.append(prefix)
        where.append(f"starts_with(key, ${len(args)})")
    for column, value in (filters or {}).items():
        args.append(value)
        where.append(f"{column} = ${len(args)}")
    args.append(limit)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    extra = ", low_level_code, llc_version" if kind == "item" else ""
    rows = await raw.fetch(
        f"SELECT key, version, record::text{extra} FROM {table_of(kind)} {clause} "
        f"ORDER BY key LIMIT ${len(args)}",
        *args,
    )
    return [StoredRecord(*r) for r in rows]


async def list_low_level_codes(
    raw: Raw, *, after: tuple[int, str] | None, limit: int, min_code: int | None
) -> list[tuple[str, int, int]]:
    """Items by (code, sku): ``(sku, code, llc_version)``."""
    where: list[str] = []
    args: list[Any] = []
    if after is not None:
        args += [after[0], after[1]]
        where.append("(low_level_code, key) > ($1, $2)")
    if min_code is not None:
        args.append(min_code)
        where.append(f"low_level_code >= ${len(args)}")
    args.append(limit)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = await raw.fetch(
        f"SELECT key, low_level_code, llc_version FROM items {clause} "
        f"ORDER BY low_level_code, key LIMIT ${len(args)}",
        *args,
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def list_history(
    raw: Raw, *, record_kind: str | None, key: str | None, after: int | None, limit: int
) -> list[asyncpg.Record]:
    where: list[str] = []
    args: list[Any] = []
    for column, value in (("record_kind", record_kind), ("key", key)):
        if value is not None:
            args.append(value)
            where.append(f"{column} = ${len(args)}")
    if after is not None:
        args.append(after)
        where.append(f"seq > ${len(args)}")
    args.append(limit)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return list(
        await raw.fetch(
            "SELECT seq, record_kind, key, version, op, changed_at, changed_by, import_id, "
            f"changes::text AS changes FROM history {clause} ORDER BY seq LIMIT ${len(args)}",
            *args,
        )
    )


# -- imports ---------------------------------------------------------------------------------------


async def save_import(
    raw: Raw, import_id: str, by: str | None, seq_from: int | None, seq_to: int | None, result: str
) -> None:
    await raw.execute(
        "INSERT INTO imports (id, status, created_by, seq_from, seq_to, result) "
        "VALUES ($1, 'succeeded', $2, $3, $4, $5::jsonb)",
        import_id,
        by,
        seq_from,
        seq_to,
        result,
    )


async def get_import(raw: Raw, import_id: str) -> str | None:
    value = await raw.fetchval("SELECT result::text FROM imports WHERE id = $1", import_id)
    return None if value is None else str(value)


# -- export ----------------------------------------------------------------------------------------


async def stream_kind(raw: Raw, kind: str, batch: int = 5000) -> AsyncIterator[list[tuple[str, int, str]]]:
    """``(key, version, record JSON)`` of every record of ``kind`` in key order, in batches, through
    a server-side cursor (the caller holds the transaction open)."""
    if kind == "low_level_code":
        query = (
            "SELECT key, llc_version, json_build_object('sku', key, 'low_level_code', low_level_code)::text "
            "FROM items WHERE llc_version > 0 ORDER BY key"
        )
    else:
        query = f"SELECT key, version, record::text FROM {table_of(kind)} ORDER BY key"
    cursor = await raw.cursor(query)
    while True:
        rows = await cursor.fetch(batch)
        if not rows:
            return
        yield [(r[0], r[1], r[2]) for r in rows]
