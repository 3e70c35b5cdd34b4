"""Master data at plant size: import 100k items + 1M BOM lines + 20k routings (target < 60 s),
explode a 10-level 5,000-line BOM (< 200 ms), move low-level codes after one BOM change (< 1 s).

The real stack, started with the project's launcher (``Stack(StackConfig(...)).up()``) in a
temporary home with ``durable=False`` (PostgreSQL fsync off), as the test stacks. Steps:

1. A random plant (seeded): ~10 BOM levels whose components are shared between parents (a
   component is picked among every item of the next levels), some lines with scrap, a unit of their
   own (G for KG items) or an effectivity window; routings of 1-6 operations on a few hundred work
   centers with a few dozen calendars; suppliers. Plus one product ``EXP-0-0`` whose explosion has
   10 levels and 5,143 lines (fan-outs 3,3,3,3,2,2,2,2,2 over shared components).
2. ``POST /v1/masterdata/imports`` (JSON) straight to the masterdata port (the gateway answers
   504 after 60 s of upstream silence), timed at the client, with the service's own breakdown
   (``timings_ms`` of the answer). Everything else goes through the gateway.
3. ``GET /items/EXP-0-0/explosion`` through the gateway (best of 5) and the same explosion on a
   :class:`BomGraph` built in this process from the generated lines.
4. One ``PUT /boms/{parent}`` through the gateway: a component swapped (few codes move), then a
   component added from the top levels under a mid-level parent (a cascade of moved codes).
5. A second process's catalog (built here on the service's database): full load, then the
   incremental catalog sync after the PUTs.
6. ``GET /export`` (NDJSON) through the gateway, read to the end.

python -m bench.masterdata [--small] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.common import best_of, machine, write_section
from services.masterdata.domain.bom import BomGraph
from services.masterdata.events import from_record
from services.masterdata.handlers import Catalog
from shared.runtime.procs import free_port
from shared.runtime.stack import Stack, StackConfig, database_url
from shared.runtime.topology import SERVICES

LEVELS = 10
EXPLOSION_FANOUT = (3, 3, 3, 3, 2, 2, 2, 2, 2)
EXPLOSION_POOL = 40
AT = date(2026, 6, 1)
#: share of the items on each level (level 0 = end items)
LEVEL_SHARE = (0.03, 0.05, 0.07, 0.09, 0.11, 0.12, 0.13, 0.13, 0.13, 0.14)
QTYS = (1, 1, 1, 2, 2, 3, 4, 0.5, 0.25, 1.5, 10)


def loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


class Plant:
    """The generated plant as API bodies (the JSON import) plus what the steps need."""

    def __init__(self, n_items: int, n_lines: int, n_routings: int, seed: int = 11) -> None:
        rng = random.Random(seed)
        self.units = [{"code": c, "name": c} for c in ("EA", "KG", "G", "M", "L")]
        self.conversions = [{"from_uom": "KG", "to_uom": "G", "factor": 1000}]
        self.families = [{"code": f"FAM{i:02d}", "name": f"Family {i}"} for i in range(40)]
        self.calendars = [self._calendar(i, rng) for i in range(30)]
        self.work_centers = [
            {
                "code": f"WC{i:03d}",
                "name": f"Work center {i}",
                "calendar": f"CAL{i % 30:02d}",
                "machines": [{"code": f"WC{i:03d}-M{m}"} for m in range(1 + i % 3)],
                "efficiency": rng.choice((1, 0.9, 0.85, 1.1)),
                "hourly_cost": rng.randint(30, 120),
            }
            for i in range(300)
        ]
        # -- items by level
        self.levels: list[list[str]] = []
        self.items: list[dict[str, Any]] = []
        self.uom: dict[str, str] = {}
        self.make: set[str] = set()
        n = 0
        for level, share in enumerate(LEVEL_SHARE):
            skus = [f"P{level}-{i:06d}" for i in range(max(2, int(n_items * share)))]
            self.levels.append(skus)
            for sku in skus:
                buy = level == LEVELS - 1 or (level >= 6 and rng.random() < 0.5)
                self.items.append(self._item(sku, buy, rng))
                n += 1
        # -- the explosion product
        self.exp_levels: list[list[str]] = []
        count = 1
        for level in range(LEVELS):
            width = 1 if level == 0 else min(count, EXPLOSION_POOL)
            skus = [f"EXP-{level}-{i}" for i in range(width)]
            self.exp_levels.append(skus)
            for sku in skus:
                self.items.append(self._item(sku, level == LEVELS - 1, rng))
            if level < len(EXPLOSION_FANOUT):
                count *= EXPLOSION_FANOUT[level]
        self.item_count = len(self.items)
        # -- BOMs: mostly the next level, some deeper; distinct components per parent
        boms: dict[str, list[dict[str, Any]]] = {}
        for level, fan in enumerate(EXPLOSION_FANOUT):
            below = self.exp_levels[level + 1]
            for sku in self.exp_levels[level]:
                boms[sku] = [self._line(c, rng, plain=True) for c in rng.sample(below, fan)]
        exp_lines = sum(len(v) for v in boms.values())
        parents = [(lv, s) for lv in range(LEVELS - 1) for s in self.levels[lv] if s in self.make]
        mean = max(1.0, (n_lines - exp_lines) / len(parents))
        for level, sku in parents:
            want = max(1, round(rng.uniform(0.3, 1.7) * mean))
            chosen: set[str] = set()
            nxt = self.levels[level + 1]
            while len(chosen) < want:
                if rng.random() < 0.75 or level + 2 >= LEVELS:
                    chosen.add(nxt[rng.randrange(len(nxt))])
                else:
                    deeper = self.levels[rng.randrange(level + 2, LEVELS)]
                    chosen.add(deeper[rng.randrange(len(deeper))])
            boms[sku] = [self._line(c, rng) for c in chosen]
        self.boms: list[dict[str, Any]] = [{"parent": p, "lines": ls} for p, ls in boms.items()]
        self.line_count = sum(len(b["lines"]) for b in self.boms)
        # -- routings and suppliers
        makes = sorted(self.make)
        self.routings = [
            {
                "sku": sku,
                "operations": [
                    {
                        "seq": 10 * (j + 1),
                        "work_center": f"WC{rng.randrange(300):03d}",
                        "setup_minutes": rng.choice((0, 15, 30, 60)),
                        "run_minutes_per_unit": rng.choice((0.5, 1, 2, 3.5, 6)),
                        "alternates": (
                            [{"work_center": f"WC{rng.randrange(300):03d}", "run_minutes_per_unit": 4}]
                            if rng.random() < 0.1
                            else []
                        ),
                    }
                    for j in range(rng.randint(1, 6))
                ],
            }
            for sku in rng.sample(makes, min(n_routings, len(makes)))
        ]
        buys = sorted(s for s in self.uom if s not in self.make)
        self.suppliers = [
            {
                "code": f"SUP{i:03d}",
                "name": f"Supplier {i}",
                "items": [
                    {
                        "sku": s,
                        "lead_time_days": rng.randint(2, 30),
                        "price": rng.randint(1, 90),
                        "priority": 1,
                    }
                    for s in rng.sample(buys, min(25, len(buys)))
                ],
            }
            for i in range(200)
        ]

    def _item(self, sku: str, buy: bool, rng: random.Random) -> dict[str, Any]:
        uom = "KG" if rng.random() < 0.1 else "EA"
        self.uom[sku] = uom
        if not buy:
            self.make.add(sku)
        rule = rng.choice(("lot_for_lot", "lot_for_lot", "fixed", "period", "eoq"))
        lots: dict[str, Any] = {"rule": rule}
        if rule == "fixed":
            lots["quantity"] = rng.choice((50, 100, 500))
        elif rule == "period":
            lots["periods"] = rng.randint(1, 4)
        return {
            "sku": sku,
            "name": f"Item {sku}",
            "uom": uom,
            "kind": "buy" if buy else "make",
            "family": f"FAM{rng.randrange(40):02d}",
            "lead_time_days": rng.randint(1, 20),
            "safety_stock": rng.choice((0, 0, 10, 25)),
            "lot_sizing": lots,
            "standard_cost": round(rng.uniform(0.5, 500), 2),
            "phantom": False,
        }

    def _line(self, component: str, rng: random.Random, plain: bool = False) -> dict[str, Any]:
        line: dict[str, Any] = {"component": component, "qty_per": rng.choice(QTYS)}
        if plain:
            return line
        r = rng.random()
        if r < 0.1:
            line["scrap_pct"] = rng.choice((1, 2, 5))
        elif r < 0.13:
            line["valid_from"] = "2026-01-01"
            line["valid_to"] = "2027-01-01"
        if self.uom[component] == "KG" and rng.random() < 0.3:
            line["uom"] = "G"
            line["qty_per"] = 250
        return line

    @staticmethod
    def _calendar(i: int, rng: random.Random) -> dict[str, Any]:
        shifts = [["06:00", "14:00"], ["14:00", "22:00"]][: 1 + i % 2]
        days = ["mon", "tue", "wed", "thu", "fri"] + (["sat"] if i % 3 == 0 else [])
        return {
            "code": f"CAL{i:02d}",
            "weekdays": dict.fromkeys(days, shifts),
            "holidays": ["2026-05-01", "2026-07-14", "2026-12-25"],
        }

    def body(self) -> bytes:
        return json.dumps(
            {
                "units": self.units,
                "families": self.families,
                "unit_conversions": self.conversions,
                "calendars": self.calendars,
                "work_centers": self.work_centers,
                "items": self.items,
                "boms": self.boms,
                "routings": self.routings,
                "suppliers": self.suppliers,
            },
            separators=(",", ":"),
        ).encode()

    def graph(self) -> BomGraph:
        """The plant's BOM graph, built in this process (for the domain figures)."""
        items = [from_record("item", i) for i in self.items]
        conversions = [from_record("unit_conversion", c) for c in self.conversions]
        from services.masterdata.domain.model import UnitConverter

        lines = (ln for b in self.boms for ln in from_record("bom", b).lines)
        return BomGraph(items, lines, UnitConverter(conversions))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


async def scenario(stack: Stack, plant: Plant, rows: list[tuple[str, str]], notes: list[str]) -> None:
    headers = {"Authorization": f"Bearer {stack.api_key()}"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, headers=headers, timeout=600) as client:
        body = plant.body()
        notes.append(f"JSON body {len(body) / 1e6:.0f} MB.")
        load = loadavg()
        started = time.perf_counter()
        # straight to the masterdata port: the gateway gives up on an upstream after 60 s
        r = await client.post(
            f"{stack.service_url('masterdata')}/v1/masterdata/imports",
            content=body,
            headers={"Content-Type": "application/json", "X-Jalon-Client": "bench"},
        )
        took = time.perf_counter() - started
        assert r.status_code == 201, r.text[:2000]
        result = r.json()
        rows.append(("**import**, POST to the masterdata port (client wall time)", f"**{took:.1f} s**"))
        for k, v in result["timings_ms"].items():
            rows.append((f"  service: {k}", _ms(v / 1000)))
        rows.append(("  load average at the import", load))
        notes.append(f"Import counts: `{json.dumps(result['counts'])}`; events: {result['events']}.")

        # -- explosion through the API
        root = "EXP-0-0"
        params = {"at": AT.isoformat(), "qty": "10"}
        r = await client.get(f"/v1/masterdata/items/{root}/explosion", params=params)  # warms the catalog
        assert r.status_code == 200, r.text[:500]
        exploded = len(r.json()["lines"])
        levels = 1 + max(ln["level"] for ln in r.json()["lines"])

        async def explode() -> None:
            resp = await client.get(f"/v1/masterdata/items/{root}/explosion", params=params)
            resp.raise_for_status()

        best = float("inf")
        for _ in range(5):
            t = time.perf_counter()
            await explode()
            best = min(best, time.perf_counter() - t)
        rows.append((f"explosion of {root} ({exploded:,} lines, {levels} levels), API, best of 5", _ms(best)))

        # -- a second process's catalog: full load now
        url = database_url(stack, "masterdata").replace("postgresql+asyncpg://", "postgresql://")
        conn = await asyncpg.connect(url)
        other = Catalog()
        try:
            async with conn.transaction(isolation="repeatable_read"):
                await other.load(conn)
            rows.append(("catalog full load (another process's view)", f"{other.loaded_in_s:.1f} s"))

            # -- one BOM change: a component swapped, then a cascade
            for label, change in (("swap one component", _swap), ("add a top-level component", _cascade)):
                parent, lines = change(plant)
                t = time.perf_counter()
                r = await client.put(f"/v1/masterdata/boms/{parent}", json={"lines": lines})
                took = time.perf_counter() - t
                assert r.status_code == 200, r.text[:1000]
                moved = await conn.fetchval(
                    "SELECT count(*) FROM history WHERE record_kind = 'low_level_code' AND seq > $1",
                    other.seq,
                )
                rows.append((f"PUT one BOM ({label}; {moved:,} codes moved), API", _ms(took)))
                t = time.perf_counter()
                async with conn.transaction(isolation="repeatable_read"):
                    await other.sync(conn)
                rows.append(("  then catalog sync in another process", _ms(time.perf_counter() - t)))
        finally:
            await conn.close()

        # -- export
        t = time.perf_counter()
        n = 0
        size = 0
        async with client.stream("GET", "/v1/masterdata/export") as resp:
            async for chunk in resp.aiter_bytes():
                n += chunk.count(b"\n")
                size += len(chunk)
        rows.append(
            (
                f"export, NDJSON ({n:,} lines, {size / 1e6:.0f} MB), through the gateway",
                f"{time.perf_counter() - t:.1f} s",
            )
        )


def _swap(plant: Plant) -> tuple[str, list[dict[str, Any]]]:
    bom = next(b for b in plant.boms if b["parent"].startswith("P3-") and len(b["lines"]) > 2)
    lines = [dict(ln) for ln in bom["lines"]]
    used = {ln["component"] for ln in lines}
    lines[0]["component"] = next(s for s in plant.levels[4] if s not in used)
    lines[0].pop("uom", None)
    return bom["parent"], lines


def _cascade(plant: Plant) -> tuple[str, list[dict[str, Any]]]:
    bom = next(b for b in plant.boms if b["parent"].startswith("P4-") and len(b["lines"]) > 2)
    lines = [dict(ln) for ln in bom["lines"]]
    top = next(s for s in plant.levels[2] if s in plant.make)
    return bom["parent"], [*lines, {"component": top, "qty_per": 1}]


def domain_figures(plant: Plant, rows: list[tuple[str, str]]) -> None:
    t = time.perf_counter()
    graph = plant.graph()
    rows.append(("domain: BomGraph of the plant, built", f"{time.perf_counter() - t:.1f} s"))
    best, ex = best_of(5, lambda: graph.explode("EXP-0-0", AT, Decimal(10)))
    rows.append((f"domain: explosion of EXP-0-0 ({len(ex.lines):,} lines), best of 5", _ms(best)))
    for label, change in (("swap", _swap), ("cascade", _cascade)):
        parent, lines = change(plant)
        bom = from_record("bom", {"parent": parent, "lines": lines})
        t = time.perf_counter()
        moved = graph.replace_lines(parent, bom.lines)
        rows.append(
            (
                f"domain: low-level codes after one BOM change ({label}, {len(moved):,} moved)",
                _ms(time.perf_counter() - t),
            )
        )


def run(args: argparse.Namespace) -> str:
    scale = 0.1 if args.small else 1.0
    n_items, n_lines, n_routings = int(100_000 * scale), int(1_000_000 * scale), int(20_000 * scale)
    rows: list[tuple[str, str]] = []
    notes: list[str] = []
    t = time.perf_counter()
    plant = Plant(n_items, n_lines, n_routings)
    rows.append(("generate the plant (client side)", f"{time.perf_counter() - t:.1f} s"))
    with tempfile.TemporaryDirectory(prefix="jalon-bench-masterdata-") as tmp:
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
            asyncio.run(scenario(stack, plant, rows, notes))
        finally:
            stack.down()
    domain_figures(plant, rows)
    size = (
        f"{plant.item_count:,} items, {plant.line_count:,} BOM lines ({len(plant.boms):,} BOMs), "
        f"{len(plant.routings):,} routings, {len(plant.work_centers)} work centers, "
        f"{len(plant.calendars)} calendars, {len(plant.suppliers)} suppliers"
    )
    lines = [
        f"## Master data: {size}",
        "",
        f"Machine: {machine()}; load average (1/5/15 min) at the end: {loadavg()}. The real stack "
        "(`Stack.up()`, `durable=False`: PostgreSQL fsync off), one uvicorn process per service; "
        "every request but the import through the gateway. Targets: import < 60 s, explosion of a 10-level "
        "5,000-line BOM < 200 ms, low-level codes after one BOM change < 1 s.",
        "",
        "| step | time |",
        "|---|---|",
        *(f"| {a} | {b} |" for a, b in rows),
        "",
        *notes,
    ]
    return "\n".join(lines)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.masterdata", description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="10 %% of the plant (10k items, 100k lines)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md")
    return parser.parse_args(argv)


def cli(argv: list[str] | None = None) -> None:
    args = parse(argv)
    text = run(args)
    print(text)
    if not args.no_write:
        write_section("masterdata", text)


def main() -> None:
    """``python -m bench masterdata``: the full-size run (a few minutes)."""
    cli([])


if __name__ == "__main__":
    cli()
