"""MRP: 100k items, 1M BOM lines over ~10 levels, one year of daily buckets.

(a) the engine ``run_mrp`` on the snapshot (target < 10 s); (b) the plain per-item loop
``reference_run`` on the same snapshot (the ratio; on a 10 % slice when the full size would take
too long); (c) a net change after one new sales order (target < 1 s); (d) a full run through the
API: the mrp database of a temporary stack (the project's launcher) seeded in bulk with COPY, then
``POST /v1/mrp/runs`` and polling (snapshot from the tables, compute, persist; target < 60 s).

``python -m bench.mrp [--small] [--no-api] [--reference-full]``; ``--small`` is 10 % of everything.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bench.common import machine, write_section
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
from services.mrp.domain.netting import net_change, run_mrp
from services.mrp.domain.reference import reference_run

TODAY = date(2026, 1, 5)  # a Monday
HORIZON = 365
HOLIDAYS = frozenset(
    date(2026, m, d)
    for m, d in ((1, 1), (4, 6), (5, 1), (5, 14), (5, 25), (7, 14), (8, 15), (11, 11), (12, 25))
)
#: Share of the items on each level (level 0 = end items).
LEVEL_SHARES = (0.06, 0.07, 0.08, 0.09, 0.10, 0.11, 0.11, 0.12, 0.12, 0.14)


@dataclass
class Data:
    items: list[dict[str, Any]]
    levels: list[list[str]]
    bom: dict[str, list[tuple[str, Decimal, Decimal]]]
    stock: dict[str, Decimal]
    sales: list[tuple[str, int, str, Decimal, date]]
    forecasts: list[tuple[str, date, Decimal]]
    orders: list[dict[str, Any]]
    bom_lines: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def _lot(rng: random.Random, level: int) -> dict[str, Any]:
    """Lot-for-lot and small lots at the top, periods of supply (monthly, quarterly) further down."""
    r = rng.random()
    if level == 0:
        if r < 0.4:
            return {"rule": "lot_for_lot"}
        if r < 0.7:
            return {"rule": "fixed", "quantity": rng.choice((50, 100, 200))}
        return {"rule": "period", "periods": 5}
    if r < 0.8:
        return {"rule": "period", "periods": rng.choice((20, 60)), "multiple": 10}
    if r < 0.85:
        return {"rule": "eoq"}
    return {"rule": "fixed", "quantity": rng.choice((50_000, 200_000, 1_000_000))}


def generate(n_items: int, n_lines: int, n_sales: int, seed: int = 11) -> Data:
    rng = random.Random(seed)
    sizes = [int(n_items * s) for s in LEVEL_SHARES]
    sizes[-1] += n_items - sum(sizes)
    levels: list[list[str]] = []
    items: list[dict[str, Any]] = []
    for lvl, size in enumerate(sizes):
        skus = [f"L{lvl}-{i:06d}" for i in range(size)]
        levels.append(skus)
        for sku in skus:
            buy = lvl == 9 or (lvl >= 6 and rng.random() < 0.2)
            items.append(
                {
                    "sku": sku,
                    "name": sku,
                    "uom": "EA",
                    "kind": "buy" if buy else "make",
                    "lead_time_days": rng.randint(1, 10) if not buy else rng.randint(3, 20),
                    "safety_stock": rng.choice((0, 0, 0, 0, 10, 50)),
                    "lot_sizing": _lot(rng, lvl),
                    "standard_cost": round(rng.uniform(1, 100), 2),
                    "phantom": (not buy) and 2 <= lvl <= 5 and rng.random() < 0.01,
                }
            )
    kind = {it["sku"]: it["kind"] for it in items}
    parents = [s for lvl in range(9) for s in levels[lvl] if kind[s] == "make"]
    per_parent = n_lines / len(parents)
    bom: dict[str, list[tuple[str, Decimal, Decimal]]] = {}
    total = 0
    level_of = {s: lvl for lvl, skus in enumerate(levels) for s in skus}
    for parent in parents:
        lvl = level_of[parent]
        k = max(1, round(rng.uniform(0.5, 1.5) * per_parent))
        chosen: set[str] = set()
        lines = []
        for _ in range(k):
            below = lvl + 1 if rng.random() < 0.7 or lvl == 8 else rng.randint(lvl + 2, 9)
            pool = levels[below]
            comp = pool[int(len(pool) * rng.random() ** 1.6)]  # skewed: shared components
            if comp in chosen:
                continue
            chosen.add(comp)
            qty = Decimal(rng.choice((1, 1, 1, 1, 2, 4))) if rng.random() < 0.95 else Decimal("0.25")
            scrap = Decimal(2) if rng.random() < 0.05 else Decimal(0)
            lines.append((comp, qty, scrap))
        bom[parent] = lines
        total += len(lines)
    stock = {it["sku"]: Decimal(rng.randint(0, 500)) for it in items if rng.random() < 0.6}
    ends = levels[0]
    sales = []
    for n in range(n_sales):
        sales.append(
            (
                f"SO{n // 5:06d}",
                n % 5 + 1,
                ends[int(len(ends) * rng.random() ** 1.3)],
                Decimal(rng.randint(1, 50)),
                TODAY + timedelta(days=rng.randint(-5, 150)),
            )
        )
    forecasts = []
    for sku in ends[: len(ends) // 2]:
        for m in range(12):
            start = date(2026 + (m // 12), m % 12 + 1, 1)
            forecasts.append((sku, start, Decimal(rng.randint(50, 500))))
    orders = []
    for n in range(max(1, n_sales // 4)):
        lvl = rng.randint(0, 9)
        sku = rng.choice(levels[lvl])
        due = TODAY + timedelta(days=rng.randint(-3, 60))
        orders.append(
            {
                "id": f"ORD{n:06d}",
                "kind": kind[sku],
                "sku": sku,
                "quantity": Decimal(rng.randint(10, 500)),
                "release_date": due - timedelta(days=5),
                "due_date": due,
                "status": rng.choice(("firm", "released", "in_progress")) if kind[sku] == "make" else "firm",
            }
        )
    data = Data(items, levels, bom, stock, sales, forecasts, orders, total)
    data.counts = {
        "items": len(items),
        "bom_lines": total,
        "stock_skus": len(stock),
        "sales_order_lines": len(sales),
        "forecast_buckets": len(forecasts),
        "open_orders": len(orders),
    }
    return data


def calendar() -> Calendar:
    return Calendar(holidays=HOLIDAYS)


def snapshot_of(data: Data) -> Snapshot:
    items = tuple(
        Item(
            sku=it["sku"],
            kind=ItemKind(it["kind"]),
            lead_time_days=it["lead_time_days"],
            safety_stock=Decimal(it["safety_stock"]),
            lot_sizing=LotSizing(
                rule=LotRule(it["lot_sizing"]["rule"]),
                quantity=_opt(it["lot_sizing"].get("quantity")),
                periods=it["lot_sizing"].get("periods"),
                min_qty=_opt(it["lot_sizing"].get("min_qty")),
                multiple=_opt(it["lot_sizing"].get("multiple")),
            ),
            standard_cost=Decimal(str(it["standard_cost"])),
            phantom=it["phantom"],
        )
        for it in sorted(data.items, key=lambda r: r["sku"])
    )
    bom = tuple(
        BomLine(parent, comp, qty, scrap) for parent, lines in data.bom.items() for comp, qty, scrap in lines
    )
    receipts = []
    parents = []
    for o in data.orders:
        receipts.append(
            ScheduledReceipt(
                o["id"], o["sku"], o["quantity"], o["due_date"], ItemKind(o["kind"]), OrderStatus(o["status"])
            )
        )
        if o["kind"] == "make" and o["status"] == "firm":
            parents.append(ParentOrder(o["id"], o["sku"], o["quantity"], o["release_date"], OrderStatus.FIRM))
    return Snapshot(
        parameters=RunParameters(today=TODAY, horizon_days=HORIZON),
        items=items,
        bom=bom,
        stock=MappingProxyType(dict(data.stock)),
        receipts=tuple(receipts),
        sales_orders=tuple(SalesOrderLine(o, ln, s, q, d) for o, ln, s, q, d in data.sales),
        forecasts=tuple(ForecastBucket(s, d, q) for s, d, q in data.forecasts),
        parent_orders=tuple(parents),
        calendar=calendar(),
    )


def _opt(v: Any) -> Decimal | None:
    return None if v is None else Decimal(str(v))


def slice_of(data: Data, share: float) -> Data:
    """The first ``share`` of every level's items, the BOM lines among them and their demand."""
    keep = {s for lvl in data.levels for s in lvl[: max(1, int(len(lvl) * share))]}
    bom = {p: [ln for ln in ls if ln[0] in keep] for p, ls in data.bom.items() if p in keep}
    sub = Data(
        items=[it for it in data.items if it["sku"] in keep],
        levels=[[s for s in lvl if s in keep] for lvl in data.levels],
        bom=bom,
        stock={s: q for s, q in data.stock.items() if s in keep},
        sales=[x for x in data.sales if x[2] in keep],
        forecasts=[x for x in data.forecasts if x[0] in keep],
        orders=[o for o in data.orders if o["sku"] in keep],
    )
    sub.bom_lines = sum(len(v) for v in bom.values())
    sub.counts = {"items": len(sub.items), "bom_lines": sub.bom_lines, "sales_order_lines": len(sub.sales)}
    return sub


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_traced(fn: Any) -> tuple[float, float, Any]:
    """Seconds of one call and the process's peak RSS after it (MiB; tracemalloc would slow the
    engine several times)."""
    gc.collect()
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, peak_rss_mib(), result


def timed_only(fn: Any) -> tuple[float, Any]:
    gc.collect()
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


# -- (d) through the API ----------------------------------------------------------------------------


def _copy_rows(data: Data) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    seq = 0
    records: list[tuple[Any, ...]] = []

    def add(kind: str, key: str, record: dict[str, Any]) -> None:
        nonlocal seq
        seq += 1
        records.append(("masterdata", kind, key, 1, seq, json.dumps(record)))

    add(
        "calendar",
        "plant",
        {
            "code": "plant",
            "weekdays": {d: [["06:00", "14:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
            "holidays": sorted(h.isoformat() for h in HOLIDAYS),
            "exceptions": [],
        },
    )
    for it in data.items:
        add("item", it["sku"], it)
    for parent, lines in data.bom.items():
        add(
            "bom",
            parent,
            {
                "parent": parent,
                "lines": [
                    {
                        "component": c,
                        "qty_per": str(q),
                        "scrap_pct": str(s),
                        "valid_from": None,
                        "valid_to": None,
                    }
                    for c, q, s in lines
                ],
            },
        )
    so_ids = sorted({s[0] for s in data.sales})
    return {
        "replica_records": (["source", "kind", "key", "version", "seq", "record"], records),
        "sales_orders": (["id", "number", "customer"], [(i, i, "BENCH") for i in so_ids]),
        "sales_order_lines": (
            ["order_id", "line", "sku", "qty", "due_date"],
            [(o, ln, s, q, d) for o, ln, s, q, d in data.sales],
        ),
        "forecasts": (
            ["sku", "start", "qty"],
            sorted({(s, d): (s, d, q) for s, d, q in data.forecasts}.values()),
        ),
        "orders": (
            ["id", "kind", "sku", "quantity", "release_date", "due_date", "status"],
            [
                (o["id"], o["kind"], o["sku"], o["quantity"], o["release_date"], o["due_date"], o["status"])
                for o in data.orders
            ],
        ),
        "stock_positions": (
            ["sku", "location", "lot", "on_hand", "reserved", "nettable", "seq"],
            [(s, "MAIN", "", q, Decimal(0), True, 1) for s, q in data.stock.items()],
        ),
    }


async def _seed(dsn: str, data: Data) -> tuple[float, int]:
    import asyncpg

    tables = _copy_rows(data)
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute(
                "TRUNCATE replica_records, sales_order_lines, sales_orders, forecasts, orders, "
                "stock_positions"
            )
            for table, (columns, rows) in tables.items():
                await conn.copy_records_to_table(table, records=rows, columns=columns)
            seq = len(tables["replica_records"][1])
            await conn.execute(
                "INSERT INTO replica_state (source, seq, needs_resync) VALUES ('masterdata', $1, false) "
                "ON CONFLICT (source) DO UPDATE SET seq = $1, needs_resync = false",
                seq,
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return time.perf_counter() - started, sum(len(r) for _c, r in tables.values())


def api_run(data: Data) -> dict[str, Any]:
    import httpx

    from shared.runtime.procs import free_port
    from shared.runtime.stack import Stack, StackConfig
    from shared.runtime.topology import SERVICES, WORKERS
    from shared.settings import database_url_for

    with tempfile.TemporaryDirectory(prefix="jalon-bench-mrp-") as home:
        config = StackConfig(
            home=Path(home),
            postgres_port=free_port(),
            nats_port=free_port(),
            nats_monitor_port=free_port(),
            ports={s.name: free_port() for s in SERVICES},
            workers={w.name: 0 for w in WORKERS},
            durable=False,
            log_json=True,
            extra_env={"JALON_STOCK_RESYNC_AT_START": "false"},
        )
        stack = Stack(config)
        t0 = time.perf_counter()
        try:
            # Only what an MRP run needs: master data (the replica's start-up resync) and mrp.
            (stack.home / "stack.json").write_text(config.to_json())
            stack.start_infrastructure()
            stack.migrate()
            stack.ensure_streams()
            for name in ("masterdata", "mrp"):
                stack.start_service(name, timeout=600)
            up_s = time.perf_counter() - t0
            base = stack.service_url("mrp")
            with httpx.Client(base_url=base, timeout=120, headers={"X-Jalon-Client": "bench"}) as client:
                # Let the master-data replica finish its start-up resync (an empty export) first.
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    states = client.get("/v1/mrp/replicas").json()
                    if states and not any(s["needs_resync"] for s in states):
                        break
                    time.sleep(0.5)
                dsn = database_url_for(stack.database_server_url, "jalon_mrp", driver="postgresql")
                seed_s, seeded = asyncio.run(_seed(dsn, data))
                started = time.perf_counter()
                r = client.post("/v1/mrp/runs", json={"today": TODAY.isoformat(), "horizon_days": HORIZON})
                assert r.status_code == 202, r.text
                location = r.headers["location"]
                while True:
                    run = client.get(location).json()
                    if run["status"] in ("succeeded", "failed"):
                        break
                    time.sleep(0.5)
                wall = time.perf_counter() - started
                mrp_rss = _rss_mib(stack.service_pid("mrp"))
        finally:
            stack.down()
    return {"run": run, "wall_s": wall, "seed_s": seed_s, "seeded_rows": seeded, "up_s": up_s, "rss": mrp_rss}


def _rss_mib(pid: int | None) -> float | None:
    """Peak resident memory (VmHWM) of a process, MiB."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# -- the report ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.mrp", description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="10 %% of every size")
    parser.add_argument("--no-api", action="store_true", help="skip (d), the run through the API")
    parser.add_argument(
        "--reference-full", action="store_true", help="run the reference loop at full size too (slow)"
    )
    args = parser.parse_args(argv if argv is not None else [])
    scale = 0.1 if args.small else 1.0
    load_before = os.getloadavg()
    t_gen = time.perf_counter()
    data = generate(int(100_000 * scale), int(1_000_000 * scale), int(20_000 * scale))
    snap = snapshot_of(data)
    t_gen = time.perf_counter() - t_gen
    print(f"generated {data.counts} in {t_gen:.1f} s", flush=True)

    engine_s, engine_mib, result = timed_traced(lambda: run_mrp(snap))
    print(f"(a) run_mrp {engine_s:.2f} s, {len(result.planned_orders)} planned orders", flush=True)

    # (b) the reference loop: on a 10 % slice (10 % of every level) unless asked for the full size.
    ref_rows = []
    slice_data = slice_of(data, 0.1)
    slice_snap = snapshot_of(slice_data)
    s_engine, s_result = timed_only(lambda: run_mrp(slice_snap))
    s_ref, s_ref_result = timed_only(lambda: reference_run(slice_snap))
    same = s_ref_result.planned_orders == s_result.planned_orders
    ref_rows.append(("10 % slice of every level", slice_data.counts, s_engine, s_ref, same))
    print(f"(b) slice: engine {s_engine:.2f} s, reference {s_ref:.2f} s, same={same}", flush=True)
    if args.reference_full:
        f_ref, f_result = timed_only(lambda: reference_run(snap))
        ref_rows.append(
            ("full", data.counts, engine_s, f_ref, f_result.planned_orders == result.planned_orders)
        )
        print(f"(b) full: reference {f_ref:.2f} s", flush=True)

    # (c) net change after one new sales order on a busy end item.
    end_item = data.levels[0][0]
    new_line = SalesOrderLine("SO-NEW", 1, end_item, Decimal(37), TODAY + timedelta(days=20))
    snap2 = replace(snap, sales_orders=(*snap.sales_orders, new_line))
    nc_s, nc_mib, nc_result = timed_traced(lambda: net_change(result, snap2, {end_item}))
    regen = run_mrp(snap2)
    nc_equal = nc_result.planned_orders == regen.planned_orders and nc_result.actions == regen.actions
    print(
        f"(c) net change {nc_s:.3f} s, {nc_result.items_planned} items replanned, equal={nc_equal}",
        flush=True,
    )
    del regen

    api: dict[str, Any] | None = None
    if not args.no_api:
        api = api_run(data)
        print(
            f"(d) API run {api['wall_s']:.1f} s: {api['run']['status']} {api['run']['timings']}", flush=True
        )
    load_after = os.getloadavg()

    size = "10 % (`--small`)" if args.small else "full"
    lines = [
        "## MRP",
        "",
        f"Machine: {machine()}. Load average (1/5/15 min) before {_load(load_before)}, "
        f"after {_load(load_after)} "
        "(other engineers' work shares the 2 cores: figures are upper bounds).",
        "",
        f"Size: {size}. Generated (seeded) plant: {_counts(data.counts)}; 10 levels, each parent's "
        "components 70 % one level down and 30 % deeper, picked with a skew so popular components are "
        "shared by many parents; lot sizing mixed (lot-for-lot, fixed, period of supply 5/20/60 working "
        "days, EOQ, multiples); "
        f"stock on 60 % of the items; horizon {HORIZON} days from {TODAY.isoformat()}, daily, plant calendar "
        f"Monday–Friday with {len(HOLIDAYS)} holidays. Generation and snapshot build: {t_gen:.1f} s.",
        "",
        "| step | time | target | notes |",
        "|---|---|---|---|",
        f"| (a) engine `run_mrp` | {engine_s:.2f} s | < 10 s | "
        f"{len(result.planned_orders)} planned orders, {len(result.actions)} actions; process peak RSS "
        f"{engine_mib:.0f} MiB |",
    ]
    for label, counts, eng, ref, eq in ref_rows:
        lines.append(
            f"| (b) reference loop, {label} ({counts['items']} items, {counts['bom_lines']} lines) | "
            f"{ref:.2f} s | — | engine {eng:.2f} s on the same: **{ref / eng:.1f}×**; same planned "
            f"orders: {eq} |"
        )
    lines.append(
        f"| (c) net change, one new sales order | {nc_s:.3f} s | < 1 s | "
        f"{nc_result.items_planned} items re-planned (the end item and everything below it); equal to a "
        f"regenerative run: {nc_equal}; process peak RSS {nc_mib:.0f} MiB |"
    )
    if api is not None:
        run = api["run"]
        timings = ", ".join(f"{k} {v:.1f} s" for k, v in (run.get("timings") or {}).items())
        rss = f"{api['rss']:.0f} MiB" if api["rss"] else "n/a"
        lines.append(
            f"| (d) `POST /v1/mrp/runs` → succeeded, through the service | {api['wall_s']:.1f} s | < 60 s | "
            f"status {run['status']}; {timings}; mrp process peak RSS {rss}; tables seeded by COPY "
            f"({api['seeded_rows']} rows) in {api['seed_s']:.1f} s; PostgreSQL, NATS, masterdata and mrp "
            f"started by the launcher in {api['up_s']:.0f} s |"
        )
    lines += [
        "",
        f"Peak RSS of the benchmark process: {peak_rss_mib():.0f} MiB. "
        "`python -m bench.mrp --small` runs 10 %; "
        "`--reference-full` also times the reference loop on the full plant.",
    ]
    text = "\n".join(lines)
    print(text)
    write_section("mrp", text)


def _load(avg: tuple[float, float, float]) -> str:
    return "/".join(f"{x:.2f}" for x in avg)


def _counts(c: dict[str, int]) -> str:
    return ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in c.items())


if __name__ == "__main__":
    main(sys.argv[1:])
