"""Inventory: movements per second through the gateway, and balances / valuation of 100k items.

The real stack, started with the project's own launcher (``Stack(StackConfig(...)).up()``: embedded
PostgreSQL and nats-server, migrations, the six uvicorn services) on free ports in a temporary
home, ``durable=False`` (PostgreSQL fsync off, NATS syncs lazily; as the test stacks).

1. ``items`` items are created through the gateway (``POST /v1/masterdata/imports``); the bench
   waits until inventory's master-data replica holds them.
2. One opening receipt per sku, then ``movements`` receipts and issues (half each, small
   quantities, so no issue can run short) over those skus, each with its own Idempotency-Key, from
   one async httpx client with ``concurrency`` connections through the gateway. Reported:
   movements/s, p50 / p95 / p99 latency, errors (any status but 201; must be 0).
3. ``valued`` more items with one balance and a valuation state each are seeded in bulk: COPY
   straight into inventory's ``replica_records``, ``balances`` and ``item_costs`` through asyncpg
   (not through the API; the movement path is measured in 2). Then ``GET /v1/inventory/balances``
   and ``GET /v1/inventory/valuation`` (fifo, average, standard) through the gateway are timed
   (best of 3, whole response read).

``python -m bench inventory`` (or ``python -m bench.inventory --movements 20000 --concurrency 64``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import machine, write_section
from shared.runtime.procs import free_port
from shared.runtime.stack import Stack, StackConfig, database_url
from shared.runtime.topology import SERVICES

MOVEMENTS = "/v1/inventory/movements"
KEPT_LOGS = Path(tempfile.gettempdir()) / "jalon-bench-inventory-logs"


@dataclass
class Run:
    label: str
    n: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    sample_error: str = ""

    @property
    def rate(self) -> float:
        return self.n / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def row(self) -> str:
        errors = sum(self.errors.values())
        detail = f" {dict(self.errors)}" if errors else ""
        return (
            f"| {self.label} | {self.n:,} | {self.rate:,.0f} | {self.pct(0.50):.1f} | {self.pct(0.95):.1f} "
            f"| {self.pct(0.99):.1f} | {errors}{detail} |"
        )


def _proc_cpu() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds used) of every process."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return out


def cpu_by_component(stack: Stack) -> dict[str, float]:
    """CPU seconds used so far by each service process, PostgreSQL (with its backends), NATS and
    this process (the client)."""
    procs = _proc_cpu()
    roots = {s.name: stack.service_pid(s.name) for s in SERVICES}
    roots["postgres"] = stack.postgres.pid() if stack.postgres else None
    roots["nats"] = stack.nats.pid() if stack.nats else None
    out: dict[str, float] = {}
    for name, root in roots.items():
        if root is None:
            continue
        tree = {root}
        grew = True
        while grew:
            grew = False
            for pid, (ppid, _) in procs.items():
                if ppid in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        out[name] = sum(procs[p][1] for p in tree if p in procs)
    out["client (bench)"] = time.process_time()
    return out


def loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


async def post_all(
    client: httpx.AsyncClient, bodies: list[dict[str, Any]], concurrency: int, label: str
) -> Run:
    run = Run(label, n=len(bodies))
    queue = iter(bodies)

    async def worker() -> None:
        for body in queue:
            started = time.perf_counter()
            try:
                r = await client.post(MOVEMENTS, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
            except httpx.HTTPError as exc:  # the connection dropped: an error, not the end of the run
                run.latencies.append(time.perf_counter() - started)
                run.errors[0] = run.errors.get(0, 0) + 1
                run.sample_error = run.sample_error or f"{type(exc).__name__}: {exc}"
                continue
            run.latencies.append(time.perf_counter() - started)
            if r.status_code != 201:
                run.errors[r.status_code] = run.errors.get(r.status_code, 0) + 1
                run.sample_error = run.sample_error or r.text[:300]

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    run.seconds = time.perf_counter() - started
    return run


async def wait_replica(client: httpx.AsyncClient, skus: list[str], patience: float = 120.0) -> float:
    """Until inventory knows the last sku (the import's events are applied in order)."""
    started = time.perf_counter()
    probe = {"type": "receipt", "sku": skus[-1], "qty": 1, "unit_cost": "1.00", "reference": "probe"}
    while True:
        r = await client.post(MOVEMENTS, json=probe, headers={"Idempotency-Key": f"probe-{skus[-1]}"})
        if r.status_code == 201:
            return time.perf_counter() - started
        if time.perf_counter() - started > patience:
            raise RuntimeError(f"inventory's replica never got {skus[-1]}: {r.status_code} {r.text[:300]}")
        await asyncio.sleep(0.2)


async def seed_valued(stack: Stack, n: int) -> float:
    """``n`` items, each with one balance and a valuation state, COPYed into inventory's tables."""
    started = time.perf_counter()
    url = database_url(stack, "inventory").replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(url)
    now = datetime.now(UTC)
    try:
        skus = [f"V-{i:06d}" for i in range(n)]
        qty = [Decimal(10 + i % 90) for i in range(n)]
        cost = [Decimal(f"{1 + i % 50}.25") for i in range(n)]
        await conn.copy_records_to_table(
            "replica_records",
            columns=["source", "kind", "key", "version", "seq", "record"],
            records=[
                (
                    "masterdata",
                    "item",
                    s,
                    1,
                    0,
                    json.dumps({"sku": s, "name": s, "uom": "pc", "kind": "buy", "standard_cost": str(c)}),
                )
                for s, c in zip(skus, cost, strict=True)
            ],
        )
        await conn.copy_records_to_table(
            "balances",
            columns=["sku", "location", "lot", "on_hand", "reserved", "updated_at"],
            records=[(s, "MAIN", "", q, Decimal(0), now) for s, q in zip(skus, qty, strict=True)],
        )
        await conn.copy_records_to_table(
            "item_costs",
            columns=["sku", "qty", "fifo_value", "fifo_last_cost", "avg_value", "avg_cost", "ppv_total"],
            records=[(s, q, q * c, c, q * c, c, Decimal(0)) for s, q, c in zip(skus, qty, cost, strict=True)],
        )
        await conn.execute("ANALYZE replica_records; ANALYZE balances; ANALYZE item_costs")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def timed_get(
    client: httpx.AsyncClient, path: str, params: dict[str, str], runs: int = 3
) -> tuple[float, int]:
    best = float("inf")
    count = 0
    for _ in range(runs):
        started = time.perf_counter()
        r = await client.get(path, params=params, timeout=120)
        body = r.content
        best = min(best, time.perf_counter() - started)
        if r.status_code != 200:
            raise RuntimeError(f"{path} {params}: {r.status_code} {body[:300]!r}")
        count = len(json.loads(body)["items"])
    return best, count


async def scenario(stack: Stack, args: argparse.Namespace) -> str:
    rng = random.Random(11)
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    headers = {"Authorization": f"Bearer {stack.api_key()}"}
    lines: list[str] = []
    async with httpx.AsyncClient(
        base_url=stack.gateway_url, headers=headers, limits=limits, timeout=60
    ) as client:
        skus = [f"B-{i:05d}" for i in range(args.items)]
        started = time.perf_counter()
        r = await client.post(
            "/v1/masterdata/imports",
            json={
                "units": [{"code": "pc", "name": "piece"}],
                "items": [
                    {"sku": s, "name": s, "uom": "pc", "kind": "buy", "standard_cost": "2.00"} for s in skus
                ],
            },
            headers={"Idempotency-Key": f"bench-items-{args.items}"},
            timeout=300,
        )
        if r.status_code != 201:
            raise RuntimeError(f"import failed: {r.status_code} {r.text[:500]}")
        imported = time.perf_counter() - started
        replicated = await wait_replica(client, skus)

        opening = [
            {"type": "receipt", "sku": s, "qty": 1000, "unit_cost": "2.00", "reference": "opening"}
            for s in skus
        ]
        mixed: list[dict[str, Any]] = []
        for i in range(args.movements):
            sku = skus[rng.randrange(len(skus))]
            qty = rng.randint(1, 5)
            if i % 2 == 0:
                mixed.append(
                    {"type": "receipt", "sku": sku, "qty": qty, "unit_cost": f"{rng.uniform(1.5, 2.5):.2f}"}
                )
            else:
                mixed.append({"type": "issue", "sku": sku, "qty": qty, "reference": f"WO-{i}"})
        load_before = loadavg()
        runs = [await post_all(client, opening, args.concurrency, "opening receipts (one per sku)")]
        cpu_before = cpu_by_component(stack)
        runs.append(await post_all(client, mixed, args.concurrency, "receipts and issues, mixed"))
        cpu_after = cpu_by_component(stack)
        load_after = loadavg()
        cpu_ms = {k: (cpu_after[k] - v) * 1000 / len(mixed) for k, v in cpu_before.items() if k in cpu_after}
        async with httpx.AsyncClient(
            base_url=stack.service_url("inventory"),
            headers={"X-Jalon-Client": "bench"},
            limits=limits,
            timeout=60,
        ) as direct:
            runs.append(
                await post_all(
                    direct, mixed[: args.movements // 4], args.concurrency, "the same, straight to inventory"
                )
            )

        seeded = await seed_valued(stack, args.valued)
        reads = {
            "balances (all)": await timed_get(client, "/v1/inventory/balances", {}),
            "valuation fifo": await timed_get(client, "/v1/inventory/valuation", {"method": "fifo"}),
            "valuation average": await timed_get(client, "/v1/inventory/valuation", {"method": "average"}),
            "valuation standard": await timed_get(client, "/v1/inventory/valuation", {"method": "standard"}),
        }
        load_reads = loadavg()

    lines += [
        "## Inventory: movements through the gateway, balances and valuation of 100k items",
        "",
        f"Machine: {machine()}. The real stack (`Stack.up()`, `durable=False`: PostgreSQL fsync off), "
        f"one uvicorn process per service; the client (httpx, {args.concurrency} connections) runs on "
        "the same machine. Target: ≥ 1,000 movements/s with p99 < 100 ms; balances and valuation of "
        "100k items < 1 s.",
        "",
        f"Set-up: {args.items:,} items imported through the gateway in {imported:.1f} s, in inventory's "
        f"replica {replicated:.1f} s later.",
        "",
        "| movements | n | per s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|",
        *(run.row() for run in runs),
        "",
        f"Load average (1 / 5 / 15 min) before: {load_before}; after: {load_after}. The last row "
        "bypasses the gateway (for comparison only).",
        "",
        "CPU per mixed movement, by process (ms; mrp applies each `stock.changed` event):",
        "",
        "| " + " | ".join(cpu_ms) + " | total |",
        "|" + "---|" * (len(cpu_ms) + 1),
        "| " + " | ".join(f"{v:.2f}" for v in cpu_ms.values()) + f" | {sum(cpu_ms.values()):.2f} |",
        "",
        f"{args.valued:,} more items seeded in bulk (COPY through asyncpg into `replica_records`, "
        f"`balances`, `item_costs`: {seeded:.1f} s), then read through the gateway (best of 3):",
        "",
        "| read | rows | seconds |",
        "|---|---|---|",
        *(f"| {k} | {n:,} | {s:.2f} |" for k, (s, n) in reads.items()),
        "",
        f"Load average after the reads: {load_reads}.",
    ]
    for run in runs:
        if run.errors:
            lines.append(f"\nFirst error of '{run.label}': `{run.sample_error}`")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> str:
    with tempfile.TemporaryDirectory(prefix="jalon-bench-inventory-") as tmp:
        config = StackConfig(
            home=Path(tmp),
            postgres_port=free_port(),
            nats_port=free_port(),
            nats_monitor_port=free_port(),
            ports={s.name: free_port() for s in SERVICES},
            durable=False,
            log_json=True,
        )
        stack = Stack(config)
        try:
            stack.up()
            return asyncio.run(scenario(stack, args))
        finally:
            stack.down()
            # The services' logs outlive the temporary home (to look into errors).
            shutil.copytree(stack.logs_dir, KEPT_LOGS, dirs_exist_ok=True)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.inventory", description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000, help="items moved (default 1000)")
    parser.add_argument("--movements", type=int, default=3000, help="mixed movements (default 3000)")
    parser.add_argument("--concurrency", type=int, default=32, help="client connections (default 32)")
    parser.add_argument("--valued", type=int, default=100_000, help="items read back (default 100000)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md")
    return parser.parse_args(argv)


def cli(argv: list[str] | None = None) -> None:
    args = parse(argv)
    text = run(args)
    print(text)
    if not args.no_write:
        write_section("inventory", text)


def main() -> None:
    """``python -m bench inventory``: the default run (three to six minutes on a busy 2-core machine)."""
    cli([])


if __name__ == "__main__":
    cli()
