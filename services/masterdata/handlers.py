"""Use cases of the masterdata service: every write goes through :func:`apply_changes`.

The **catalog** is this process's in-memory copy of all master data (domain records, versions, the
BOM graph with its low-level codes) at a change number ``seq``. It is loaded at start; when the
database's last committed change number differs from it (another process wrote), only the records
named by the history rows after ``seq`` are read again and patched in (the graph re-walks just the
changed BOMs); more than ``SYNC_FULL_FROM`` record changes (a big import) reload everything.
``catalog.lock`` (an asyncio lock) is held by a writer from its first read to its commit, and
briefly by readers, so nobody in the process sees a half-applied change.

A write, in one transaction:

1. ``pg_advisory_xact_lock(WRITE_LOCK)`` serialises writers across processes; the catalog is
   brought up to date; ``If-Match`` and delete references are checked against it.
2. ``domain.validation.validate_batch`` checks the would-be state; any issue is a 422
   ``ValidationFailed`` naming each field and record, and nothing is written.
3. Records equal to what is stored are skipped (no version, no event). Each other record gets
   ``version + 1`` (1 on creation) and a change number from ``change_seq``; BOM changes update the
   low-level codes (incrementally, or by one full pass for big imports); each moved code is a change
   too (kind ``low_level_code``).
4. Rows, history (``domain.history.diff_records``) and outbox events are written; the caller
   commits. Any failure after the catalog was touched invalidates it (reloaded on next use).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from services.masterdata import catalog_gc, json_import
from services.masterdata.db import repositories as repo
from services.masterdata.domain.bom import BomGraph
from services.masterdata.domain.history import diff_records
from services.masterdata.domain.model import (
    Bom,
    Item,
    MasterData,
    MasterDataBatch,
    UnitConversion,
    UnitConverter,
)
from services.masterdata.domain.validation import ValidationIssue, issue_counts, validate_batch
from services.masterdata.events import (
    COLLECTIONS,
    KINDS,
    LOW_LEVEL_CODE,
    SNAPSHOT_THRESHOLD,
    from_record,
    jsonable,
    key_of,
    number,
    record_event,
    snapshot_event,
    to_record,
)
from shared.db.uow import UnitOfWork
from shared.logging import get_logger
from shared.web.problems import Conflict, ValidationFailed

log = get_logger(__name__)

#: More BOM changes than this in one write: rebuild the graph in one vectorised pass.
GRAPH_REBUILD_FROM = 1000
#: More record changes than this since the catalog's ``seq``: reload everything instead. Moved
#: low-level codes do not count (only their versions are read: the graph re-derives the codes),
#: up to ``SYNC_SCAN_UP_TO`` history rows in all.
SYNC_FULL_FROM = 50_000
SYNC_SCAN_UP_TO = 500_000
MAX_REFERRERS_LISTED = 20


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


#: stored records of the big kinds read by the import's lean converters (the same records)
_FAST_LOAD: dict[str, Callable[[Any], Any]] = {
    "item": json_import.item_of,
    "bom": json_import.bom_of,
    "routing": json_import.routing_of,
}


def _from_stored(kind: str, text: str) -> Any:
    fast = _FAST_LOAD.get(kind)
    if fast is not None:
        try:
            return fast(json.loads(text))
        except json_import.Fallback:
            pass
    return from_record(kind, _loads(text))


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# -- the catalog -----------------------------------------------------------------------------------


class Catalog:
    """All master data of this process, as of change number ``seq`` (-1: must be loaded)."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.seq = -1
        self.records: dict[str, dict[str, Any]] = {k: {} for k in KINDS}
        self.versions: dict[str, dict[str, int]] = {k: {} for k in KINDS}
        self.llc_versions: dict[str, int] = {}
        self.graph = BomGraph()
        self.loaded_in_s = 0.0
        self.full_loads = 0  # how many times everything was read (tests, logs)

    def invalidate(self) -> None:
        self.seq = -1

    @property
    def items(self) -> dict[str, Item]:
        return self.records["item"]

    def conversions(self) -> tuple[UnitConversion, ...]:
        return tuple(self.records["unit_conversion"].values())

    def converter(self) -> UnitConverter:
        return UnitConverter(self.conversions())

    def master_data(self) -> MasterData:
        r = self.records
        return MasterData(
            items=r["item"],
            boms=r["bom"],
            routings=r["routing"],
            work_centers=r["work_center"],
            calendars=r["calendar"],
            suppliers=r["supplier"],
            units=r["unit"],
            unit_conversions=self.conversions(),
            families=r["family"],
        )

    def build_graph(self) -> BomGraph:
        boms: Iterable[Bom] = self.records["bom"].values()
        return BomGraph(
            self.items.values(),
            (line for bom in boms for line in bom.lines),
            self.converter(),
        )

    async def load(self, raw: repo.Raw) -> None:
        """Read everything (the caller's transaction gives the snapshot)."""
        with catalog_gc.paused():
            await self._load(raw)

    async def _load(self, raw: repo.Raw) -> None:
        started = time.perf_counter()
        seq = await repo.last_committed_seq(raw)
        records: dict[str, dict[str, Any]] = {}
        versions: dict[str, dict[str, int]] = {}
        llc_versions: dict[str, int] = {}
        for kind in KINDS:
            rows = await repo.load_kind(raw, kind)
            records[kind] = {r.key: _from_stored(kind, r.record) for r in rows}
            versions[kind] = {r.key: r.version for r in rows}
            if kind == "item":
                llc_versions = {r.key: r.llc_version for r in rows if r.llc_version}
        self.records, self.versions, self.llc_versions = records, versions, llc_versions
        self.graph = self.build_graph()
        self.seq = seq
        self.loaded_in_s = time.perf_counter() - started
        self.full_loads += 1
        log.info(
            "catalog loaded",
            seq=seq,
            items=len(self.items),
            bom_lines=self.graph.line_count,
            seconds=round(self.loaded_in_s, 3),
        )

    async def sync(self, raw: repo.Raw) -> None:
        """Bring the catalog to the last committed change: only the records changed since
        ``seq`` (read through history's primary key), or everything when it was never loaded or
        too much changed (more than ``SYNC_FULL_FROM`` changes: a big import)."""
        last = await repo.last_committed_seq(raw)
        if last == self.seq:
            return
        if self.seq < 0 or last < self.seq:
            await self.load(raw)
            return
        changed = await repo.changed_since(raw, self.seq, SYNC_SCAN_UP_TO)
        if changed is None or sum(kind != LOW_LEVEL_CODE for kind, _ in changed) > SYNC_FULL_FROM:
            await self.load(raw)
            return
        try:
            await self._apply_since(raw, changed, last)
        except BaseException:
            self.invalidate()
            raise

    async def _apply_since(self, raw: repo.Raw, changed: list[tuple[str, str]], last: int) -> None:
        started = time.perf_counter()
        by_kind: dict[str, set[str]] = {}
        for kind, key in changed:
            by_kind.setdefault(kind, set()).add(key)
        rebuild = "unit_conversion" in by_kind
        old_boms: dict[str, Bom | None] = {}
        for kind in KINDS:
            keys = by_kind.get(kind)
            if not keys:
                continue
            table, versions = self.records[kind], self.versions[kind]
            rows = await repo.load_keys(raw, kind, sorted(keys))
            found = {r.key: r for r in rows}
            for key in keys:
                old = table.get(key)
                row = found.get(key)
                new: Any = None if row is None else _from_stored(kind, row.record)
                if kind == "bom":
                    old_boms[key] = old
                if row is None:
                    table.pop(key, None)
                    versions.pop(key, None)
                else:
                    table[key] = new
                    versions[key] = row.version
                if kind == "item" and row is not None:
                    if row.llc_version:
                        self.llc_versions[key] = row.llc_version
                    if old is not None and old.uom != new.uom:
                        rebuild = True
                    else:
                        self.graph.set_item(new)
        llc_keys = by_kind.get(LOW_LEVEL_CODE, set()) - by_kind.get("item", set())
        if llc_keys:
            self.llc_versions.update(await repo.llc_versions(raw, sorted(llc_keys)))
        if rebuild or len(old_boms) > GRAPH_REBUILD_FROM:
            self.graph = self.build_graph()
        elif len(old_boms) == 1:
            (parent,) = old_boms
            bom = self.records["bom"].get(parent)
            self.graph.replace_lines(parent, bom.lines if bom else ())
        elif old_boms:
            # lines removed first, then the new ones: every step is a subset of the committed
            # (acyclic) state, so no transient cycle whatever the order
            for parent in old_boms:
                self.graph.replace_lines(parent, ())
            for parent in old_boms:
                bom = self.records["bom"].get(parent)
                if bom is not None:
                    self.graph.replace_lines(parent, bom.lines)
        self.seq = last
        log.info(
            "catalog synced",
            seq=last,
            changes=len(changed),
            seconds=round(time.perf_counter() - started, 3),
        )

    @contextlib.asynccontextmanager
    async def reading(self, engine: AsyncEngine) -> AsyncIterator[Catalog]:
        """Hold the lock, with the catalog at the last committed change."""
        async with self.lock:
            async with engine.connect() as plain:
                conn = await plain.execution_options(isolation_level="REPEATABLE READ")
                async with conn.begin():
                    await self.sync(await repo.raw_of(conn))
            yield self


# -- changes ---------------------------------------------------------------------------------------


@dataclass
class Change:
    kind: str
    key: str
    op: str  # create | update | delete
    old: Any
    new: Any
    version: int
    seq: int = 0
    record: dict[str, Any] | None = None


@dataclass
class Outcome:
    changes: list[Change] = field(default_factory=list)
    unchanged: dict[str, int] = field(default_factory=dict)
    low_level_codes: list[Change] = field(default_factory=list)
    seq_from: int | None = None
    seq_to: int | None = None
    events: str = "none"  # none | per_record | snapshot
    timings_ms: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for kind in KINDS:
            c = {"created": 0, "updated": 0, "deleted": 0, "unchanged": self.unchanged.get(kind, 0)}
            for ch in self.changes:
                if ch.kind == kind:
                    c[ch.op + "d"] += 1
            if any(c.values()):
                out[COLLECTIONS[kind]] = c
        if self.low_level_codes:
            out["low_level_codes"] = {"updated": len(self.low_level_codes)}
        return out


def problem_from_issues(
    issues: list[ValidationIssue], field_of: Callable[[str], str] | None = None
) -> ValidationFailed:
    errors = [
        {
            "field": field_of(i.field) if field_of else i.field,
            "message": i.message,
            "code": i.code,
            "record": i.record,
        }
        for i in issues
    ]
    counts = ", ".join(f"{n} {code}" for code, n in issue_counts(issues).most_common())
    return ValidationFailed(errors, detail=f"{len(issues)} problem(s), nothing was changed: {counts}")


def referrers(catalog: Catalog, kind: str, key: str) -> list[dict[str, str]]:
    """Records that refer to ``kind``/``key`` (a delete is refused while there are any)."""
    r = catalog.records
    out: list[dict[str, str]] = []

    def add(k: str, rk: str, f: str) -> None:
        out.append({"kind": k, "key": rk, "field": f})

    if kind == "item":
        if key in catalog.graph:
            for w in catalog.graph.where_used(key):
                add("bom", w.sku, "lines.component")
        if key in r["bom"]:
            add("bom", key, "parent")
        if key in r["routing"]:
            add("routing", key, "sku")
        for s in r["supplier"].values():
            if any(si.sku == key for si in s.items):
                add("supplier", s.code, "items.sku")
        for ck, c in r["unit_conversion"].items():
            if c.sku == key:
                add("unit_conversion", ck, "sku")
    elif kind == "unit":
        for it in r["item"].values():
            if it.uom == key:
                add("item", it.sku, "uom")
        for ck, c in r["unit_conversion"].items():
            if key in (c.from_uom, c.to_uom):
                add("unit_conversion", ck, "from_uom" if c.from_uom == key else "to_uom")
        for b in r["bom"].values():
            if any(ln.uom == key for ln in b.lines):
                add("bom", b.parent, "lines.uom")
        for s in r["supplier"].values():
            if any(si.uom == key for si in s.items):
                add("supplier", s.code, "items.uom")
    elif kind == "family":
        for it in r["item"].values():
            if it.family == key:
                add("item", it.sku, "family")
    elif kind == "calendar":
        for wc in r["work_center"].values():
            if wc.calendar == key:
                add("work_center", wc.code, "calendar")
    elif kind == "work_center":
        for rt in r["routing"].values():
            for op in rt.operations:
                if op.work_center == key or any(a.work_center == key for a in op.alternates):
                    add("routing", rt.sku, "operations.work_center")
                    break
        wc = r["work_center"].get(key)
        if wc is not None:
            others = {m.code for c, w in r["work_center"].items() if c != key for m in w.machines}
            mine = {m.code for m in wc.machines} - others
            for cal in r["calendar"].values():
                if any(e.machine in mine for e in cal.exceptions):
                    add("calendar", cal.code, "exceptions.machine")
    return out


def _llc_after(catalog: Catalog, bom_changes: list[Change], rebuild: bool) -> dict[str, tuple[int, int]]:
    """Update the catalog's graph for the BOM changes; ``{sku: (old, new)}`` of moved codes."""
    graph = catalog.graph
    if rebuild or len(bom_changes) > GRAPH_REBUILD_FROM:
        before = graph.low_level_codes()
        catalog.graph = graph = catalog.build_graph()
        after = graph.low_level_codes()
        return {s: (before.get(s, 0), c) for s, c in after.items() if before.get(s, 0) != c}
    moved: dict[str, tuple[int, int]] = {}
    for ch in bom_changes:
        lines = ch.new.lines if ch.new is not None else ()
        for sku, (old, new) in graph.replace_lines(ch.key, lines).items():
            first = moved[sku][0] if sku in moved else old
            moved[sku] = (first, new)
    return {s: (o, n) for s, (o, n) in moved.items() if o != n}


async def apply_changes(
    uow: UnitOfWork,
    catalog: Catalog,
    batch: MasterDataBatch,
    *,
    deletes: Iterable[tuple[str, str]] = (),
    by: str | None,
    import_id: str | None = None,
    precheck: Callable[[Catalog], None] | None = None,
    field_of: Callable[[str], str] | None = None,
    allow_snapshot: bool = False,
) -> Outcome:
    """Validate ``batch`` (upserts) and ``deletes`` against the current data and write them.

    The caller holds ``catalog.lock`` and commits ``uow`` afterwards.
    """
    assert catalog.lock.locked(), "hold catalog.lock across the write and its commit"
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    raw = await repo.raw_of(uow.session)
    await repo.lock_writes(raw)
    await catalog.sync(raw)
    timings["lock_and_sync_ms"] = (time.perf_counter() - t0) * 1000
    if precheck is not None:
        precheck(catalog)
    deletes = list(deletes)
    for kind, key in deletes:
        found = referrers(catalog, kind, key)
        if found:
            names = ", ".join(f"{f['kind']} {f['key']}" for f in found[:5])
            more = f" and {len(found) - 5} more" if len(found) > 5 else ""
            raise Conflict(
                f"{kind} {key!r} is referred to by {names}{more}; change or delete those first",
                referrers=found[:MAX_REFERRERS_LISTED],
                referrer_count=len(found),
            )
    t1 = time.perf_counter()
    issues = validate_batch(batch, catalog.master_data(), catalog.graph)
    timings["validate_ms"] = (time.perf_counter() - t1) * 1000
    if issues:
        raise problem_from_issues(issues, field_of)

    # -- what changes
    t2 = time.perf_counter()
    outcome = Outcome(timings_ms=timings)
    changes = outcome.changes
    for kind in KINDS:
        current, versions = catalog.records[kind], catalog.versions[kind]
        for obj in getattr(batch, COLLECTIONS[kind]):
            key = key_of(kind, obj)
            old = current.get(key)
            if old == obj:
                outcome.unchanged[kind] = outcome.unchanged.get(kind, 0) + 1
                continue
            version = versions.get(key, 0) + 1
            changes.append(Change(kind, key, "create" if old is None else "update", old, obj, version))
    for kind, key in deletes:
        old = catalog.records[kind].get(key)
        if old is not None:
            changes.append(Change(kind, key, "delete", old, None, catalog.versions[kind][key] + 1))
    if not changes:
        timings["total_ms"] = (time.perf_counter() - t0) * 1000
        return outcome

    # -- the catalog moves (invalidated if anything below fails)
    try:
        rebuild_graph = False
        for ch in changes:
            table, versions = catalog.records[ch.kind], catalog.versions[ch.kind]
            if ch.new is None:
                del table[ch.key]
                del versions[ch.key]
            else:
                table[ch.key] = ch.new
                versions[ch.key] = ch.version
            if ch.kind == "unit_conversion" or (
                ch.kind == "item" and ch.old is not None and ch.new is not None and ch.old.uom != ch.new.uom
            ):
                rebuild_graph = True
            elif ch.kind == "item" and ch.new is not None:
                catalog.graph.set_item(ch.new)
        bom_changes = [ch for ch in changes if ch.kind == "bom"]
        moved = _llc_after(catalog, bom_changes, rebuild_graph) if bom_changes or rebuild_graph else {}
        for sku in sorted(moved):
            if sku not in catalog.items:
                continue
            version = catalog.llc_versions.get(sku, 0) + 1
            catalog.llc_versions[sku] = version
            old_code, new_code = moved[sku]
            outcome.low_level_codes.append(
                Change(
                    LOW_LEVEL_CODE,
                    sku,
                    "update",
                    {"sku": sku, "low_level_code": old_code},
                    {"sku": sku, "low_level_code": new_code},
                    version,
                )
            )
        timings["derive_ms"] = (time.perf_counter() - t2) * 1000

        # -- change numbers, rows, history, events
        t3 = time.perf_counter()
        every = changes + outcome.low_level_codes
        first = await repo.take_seqs(raw, len(every))
        for n, ch in enumerate(every):
            ch.seq = first + n
        outcome.seq_from, outcome.seq_to = first, first + len(every) - 1
        codes = {ch.key: ch for ch in outcome.low_level_codes}
        history: list[tuple[Any, ...]] = []
        db_s = 0.0  # of write_ms: COPY of the records and of the history
        for kind in KINDS:
            writes: list[repo.RecordWrite] = []
            gone: list[str] = []
            all_created = True
            for ch in changes:
                if ch.kind != kind:
                    continue
                if ch.new is None:
                    gone.append(ch.key)
                    diff = [{"field": "", "old": jsonable(ch.old), "new": None}]
                    history.append((ch.seq, kind, ch.key, ch.version, "delete", by, import_id, _dumps(diff)))
                    continue
                ch.record = to_record(kind, ch.new)
                text = _dumps(ch.record)
                if kind == "item":
                    item = ch.new
                    code = codes.get(ch.key)
                    writes.append(
                        repo.RecordWrite(
                            ch.key,
                            text,
                            ch.version,
                            ch.seq,
                            by,
                            kind_col=item.kind.value,
                            family=item.family,
                            phantom=item.phantom,
                            low_level_code=None if code is None else code.new["low_level_code"],
                            llc_version=None if code is None else code.version,
                        )
                    )
                else:
                    writes.append(repo.RecordWrite(ch.key, text, ch.version, ch.seq, by))
                if ch.old is None:
                    changes_json = '[{"field":"","old":null,"new":' + text + "}]"
                else:
                    all_created = False
                    changes_json = _dumps(
                        [
                            {"field": c.field, "old": jsonable(c.old), "new": jsonable(c.new)}
                            for c in diff_records(ch.old, ch.new)
                        ]
                    )
                history.append((ch.seq, kind, ch.key, ch.version, ch.op, by, import_id, changes_json))
            # creations only (the catalog, synced under the write lock, knows none of the keys):
            # COPY straight into the table, low-level codes included
            direct = all_created and len(writes) >= repo.COPY_FROM_ROWS
            t_db = time.perf_counter()
            await repo.upsert_records(raw, kind, writes, direct=direct)
            db_s += time.perf_counter() - t_db
            if direct and kind == "item":
                for w in writes:
                    codes.pop(w.key, None)
            await repo.delete_records(raw, kind, gone)
        for ch in outcome.low_level_codes:
            ch.record = ch.new
            diff = [
                {"field": "low_level_code", "old": ch.old["low_level_code"], "new": ch.new["low_level_code"]}
            ]
            history.append(
                (ch.seq, LOW_LEVEL_CODE, ch.key, ch.version, "update", by, import_id, _dumps(diff))
            )
        await repo.update_low_level_codes(
            raw, [(ch.key, ch.new["low_level_code"], ch.version) for ch in codes.values()]
        )
        history.sort(key=lambda h: h[0])
        t_db = time.perf_counter()
        await repo.insert_history(raw, history)
        db_s += time.perf_counter() - t_db
        if allow_snapshot and len(every) >= SNAPSHOT_THRESHOLD:
            uow.emit(snapshot_event(outcome.seq_to, import_id or ""))
            outcome.events = "snapshot"
        else:
            events = [record_event(ch.kind, ch.key, ch.seq, ch.version, ch.record) for ch in every]
            # many events (a BOM change moving thousands of codes): COPY them into the outbox,
            # the last one through the unit of work, which wakes the relay on commit
            bulk, last = events[:-1], events[-1]
            if len(bulk) >= repo.COPY_FROM_ROWS:
                await repo.insert_outbox(raw, [(e.id, e.nats_subject, e.model_dump_json()) for e in bulk])
                bulk = []
            for event in (*bulk, last):
                uow.emit(event)
            outcome.events = "per_record"
        catalog.seq = outcome.seq_to
        timings["write_ms"] = (time.perf_counter() - t3) * 1000
        timings["write_copy_ms"] = db_s * 1000
        timings["total_ms"] = (time.perf_counter() - t0) * 1000
    except BaseException:
        catalog.invalidate()
        raise
    return outcome


def batch_of(kind: str, objs: Iterable[Any]) -> MasterDataBatch:
    return MasterDataBatch(**{COLLECTIONS[kind]: tuple(objs)})


# -- derived data ----------------------------------------------------------------------------------


def explosion_body(catalog: Catalog, sku: str, at: date, qty: Decimal) -> dict[str, Any]:
    ex = catalog.graph.explode(sku, at, qty)
    items = catalog.items
    phantom = {s: True for s in {ln.sku for ln in ex.lines} if s in items and items[s].phantom}
    return {
        "sku": sku,
        "quantity": number(qty),
        "at": at.isoformat(),
        "lines": [
            {
                "level": ln.level,
                "path": list(ln.path),
                "sku": ln.sku,
                "qty_per": number(ln.qty_per),
                "quantity": number(ln.quantity),
                "low_level_code": ln.low_level_code,
                "phantom": ln.sku in phantom,
            }
            for ln in ex.lines
        ],
        "totals": [{"sku": s, "quantity": number(q)} for s, q in ex.totals.items()],
    }


def records_by_key(catalog: Catalog, kind: str) -> Mapping[str, Any]:
    return catalog.records[kind]
