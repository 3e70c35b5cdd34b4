"""The demo's chapters, in the order of the planning chain. Each talks to the gateway only."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any
from urllib.parse import quote

import httpx

from shared.demo import plant
from shared.demo.report import Report
from shared.runtime.topology import SERVICES


class DemoFailed(Exception):
    pass


def expect(response: httpx.Response, *codes: int) -> httpx.Response:
    if response.status_code not in codes:
        raise DemoFailed(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text[:500]}"
        )
    return response


def platform(client: httpx.Client, report: Report) -> None:
    report.chapter("Platform: every service, through the gateway")
    services = expect(client.get("/v1/gateway/services"), 200).json()["items"]
    rows = []
    for s in SERVICES:
        info = expect(client.get(f"/v1/{s.name}/info"), 200).json()
        health = next((x for x in services if x["service"] == s.name), None)
        rows.append(
            [
                s.name,
                info["version"],
                info["schema_revision"],
                health["status"] if health else "ready (gateway)",
                f"{health['latency_ms']} ms" if health else "-",
            ]
        )
    report.table("Services", ["service", "version", "schema", "status", "readyz latency"], rows)
    not_ready = [s["service"] for s in services if s["status"] != "ready"]
    if not_ready:
        raise DemoFailed(f"not ready: {', '.join(not_ready)}")
    report.say(f"All {len(SERVICES)} services are healthy behind {client.base_url}.")


REPLICATING = ("inventory", "mrp", "capacity", "scheduler")


def wait_for_replicas(client: httpx.Client, seq: int, timeout: float = 60.0) -> float:
    """Wait until every planning service has applied master-data change ``seq``; seconds waited."""
    started = time.monotonic()
    while True:
        behind = []
        for service in REPLICATING:
            statuses = expect(client.get(f"/v1/{service}/replicas"), 200).json()
            if not any(r["source"] == "masterdata" and r["seq"] >= seq for r in statuses):
                behind.append(service)
        if not behind:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise DemoFailed(f"master data did not reach {', '.join(behind)} within {timeout:.0f} s")
        time.sleep(0.2)


def _money(value: float) -> str:
    return f"{value:,.2f} €"


def _qty(value: float) -> str:
    return f"{value:g}" if abs(value - round(value)) < 1e-9 else f"{value:.3f}"


def master_data(client: httpx.Client, report: Report) -> None:
    report.chapter("Master data: the Cycles Jalon plant, imported through the API")
    body = plant.import_body()
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
    result = expect(
        client.post("/v1/masterdata/imports", json=body, headers={"Idempotency-Key": f"demo-plant-{digest}"}),
        200,
        201,
    )
    imported = result.json()
    replayed = result.headers.get("idempotent-replayed") == "true"
    counts = ", ".join(
        f"{n} {kind}"
        for kind, c in imported["counts"].items()
        if kind != "low_level_codes"
        and (n := c.get("created", 0) + c.get("updated", 0) + c.get("unchanged", 0))
    )
    report.say(
        f"Import {imported['id']} ({'replayed: already applied once' if replayed else 'applied'}): "
        f"{counts}; {imported['timings_ms']['total_ms']:.0f} ms."
    )
    if imported.get("seq_to"):
        waited = wait_for_replicas(client, int(imported["seq_to"]))
        report.say(
            f"Every planning service's replica reached change #{imported['seq_to']} in {waited:.1f} s."
        )
    codes = expect(client.get("/v1/masterdata/low-level-codes", params={"page_size": 1000}), 200).json()[
        "items"
    ]
    by_level: dict[int, list[str]] = {}
    for c in codes:
        by_level.setdefault(c["low_level_code"], []).append(c["sku"])
    report.table(
        "Items by low-level code",
        ["level", "items", "examples"],
        [[lvl, len(skus), ", ".join(sorted(skus)[:4])] for lvl, skus in sorted(by_level.items())],
    )
    explosion = expect(
        client.get(f"/v1/masterdata/items/{DEMO_END_ITEM}/explosion", params={"qty": 1}), 200
    ).json()
    rows = [
        [
            "  " * line["level"] + line["sku"],
            _qty(line["qty_per"]),
            _qty(line["quantity"]),
            line["low_level_code"],
        ]
        for line in explosion["lines"]
    ]
    report.table(
        f"Bill of materials of {DEMO_END_ITEM} (multi-level, scrap included)",
        ["item", "qty per parent", "qty per bike", "LLC"],
        rows,
    )
    lead = expect(client.get(f"/v1/masterdata/items/{DEMO_END_ITEM}/cumulative-lead-time"), 200).json()
    report.say(
        f"Cumulative lead time of {DEMO_END_ITEM}: {lead['days']} working days, "
        f"critical path {' → '.join(lead['critical_path'])}."
    )
    cost = expect(client.get(f"/v1/masterdata/items/{DEMO_END_ITEM}/cost-rollup"), 200).json()
    report.table(
        f"Standard cost roll-up of {DEMO_END_ITEM}",
        ["part", "per unit"],
        [
            ["purchased material (all levels)", _money(cost["purchased"])],
            ["run time (all levels)", _money(cost["rolled_run"])],
            ["setup, spread over the costing lot (all levels)", _money(cost["rolled_setup"])],
            ["standard cost", _money(cost["total"])],
        ],
    )
    wcs = expect(client.get("/v1/masterdata/work-centers", params={"page_size": 100}), 200).json()["items"]
    report.table(
        "Work centers",
        ["code", "name", "machines", "calendar", "efficiency", "hourly cost"],
        [
            [
                w["code"],
                w["name"],
                len(w["machines"]),
                w["calendar"],
                w["efficiency"],
                _money(float(w["hourly_cost"])),
            ]
            for w in wcs
        ],
    )


DEMO_END_ITEM = "BIKE-TREK-M"
#: Bikes sold per year, by end item: drives the demo's consumption history (and so the ABC classes).
ANNUAL_VOLUME = {"BIKE-CITY-M": 900, "BIKE-CITY-L": 500, "BIKE-TREK-M": 400, "BIKE-KIDS-20": 300}
#: (days ago, share of the annual usage, price factor) of the demo's receipts and issues.
RECEIPTS = (
    (330, Decimal("0.55"), Decimal("1.00")),
    (180, Decimal("0.30"), Decimal("1.08")),
    (45, Decimal("0.20"), Decimal("0.97")),
)
ISSUES = ((300, Decimal("0.25")), (210, Decimal("0.25")), (90, Decimal("0.25")), (15, Decimal("0.20")))


def annual_usage(client: httpx.Client) -> dict[str, Decimal]:
    """Yearly consumption of every component: Σ bikes sold × quantity per bike (multi-level)."""
    usage: dict[str, Decimal] = {}
    for sku, volume in ANNUAL_VOLUME.items():
        lines = expect(
            client.get(f"/v1/masterdata/items/{sku}/explosion", params={"qty": volume}), 200
        ).json()
        for total in lines["totals"]:
            usage[total["sku"]] = usage.get(total["sku"], Decimal(0)) + Decimal(str(total["quantity"]))
    return usage


def _book(client: httpx.Client, key: str, body: dict[str, object]) -> None:
    expect(client.post("/v1/inventory/movements", json=body, headers={"Idempotency-Key": key}), 200, 201)


def inventory(client: httpx.Client, report: Report) -> None:
    report.chapter("Inventory: a year of receipts and issues, valued three ways, classified ABC")
    items = {i["sku"]: i for i in plant.ITEMS}
    booked = expect(
        client.get("/v1/inventory/movements", params={"reference": "demo-history", "page_size": 1}), 200
    )
    if booked.json()["items"]:
        report.say("The demo history is already booked (from an earlier run): nothing booked again.")
    else:
        usage = annual_usage(client)
        now = datetime.now(UTC).replace(microsecond=0)
        events: list[tuple[int, str, dict[str, object]]] = []
        for sku, yearly in sorted(usage.items()):
            item = items[sku]
            if item["kind"] != "buy":
                continue
            step = Decimal("1") if item["uom"] == "EA" else Decimal("0.1")
            cost = Decimal(item["standard_cost"])
            for n, (days, share, factor) in enumerate(RECEIPTS):
                qty = (yearly * share / step).to_integral_value(ROUND_CEILING) * step
                events.append(
                    (
                        days,
                        f"r{n}-{sku}",
                        {
                            "type": "receipt",
                            "sku": sku,
                            "qty": str(qty),
                            "unit_cost": str((cost * factor).quantize(Decimal("0.0001"))),
                        },
                    )
                )
            for n, (days, share) in enumerate(ISSUES):
                qty = (yearly * share / step).to_integral_value(ROUND_FLOOR) * step
                if qty > 0:
                    events.append((days, f"i{n}-{sku}", {"type": "issue", "sku": sku, "qty": str(qty)}))
        # Oldest first: a movement may not be dated before the sku's last one.
        for days, key, body in sorted(events, key=lambda e: (-e[0], e[1])):
            at = (now - timedelta(days=days)).isoformat()
            _book(client, f"demo-history-{key}", {**body, "reference": "demo-history", "at": at})
        report.say(
            f"Booked {len(events)} movements over the last 330 days for {len({k[3:] for _, k, _ in events})} "
            "bought items: three receipts each (at standard, +8 %, −3 %) and quarterly issues "
            "sized by the bikes sold."
        )
    methods = {}
    for method in ("fifo", "average", "standard"):
        methods[method] = expect(client.get("/v1/inventory/valuation", params={"method": method}), 200).json()
    by_sku = {m: {line["sku"]: line for line in v["items"]} for m, v in methods.items()}
    top = sorted(by_sku["fifo"].values(), key=lambda line: -float(line["value"]))[:6]
    report.table(
        "Stock value by method (the six largest items, then the total)",
        ["item", "on hand", "FIFO", "weighted average", "standard"],
        [
            [
                line["sku"],
                _qty(float(line["qty"])),
                _money(float(line["value"])),
                _money(float(by_sku["average"][line["sku"]]["value"])),
                _money(float(by_sku["standard"][line["sku"]]["value"])),
            ]
            for line in top
        ]
        + [["total", "", *(_money(float(methods[m]["total"])) for m in ("fifo", "average", "standard"))]],
    )
    abc = expect(client.get("/v1/inventory/abc"), 200).json()
    classes: dict[str, list[dict[str, object]]] = {}
    for line in abc["items"]:
        classes.setdefault(str(line["class"]), []).append(line)
    total = float(abc["total_value"]) or 1.0
    report.table(
        f"ABC by consumption value ({abc['from']} to {abc['to']}, thresholds 80/15/5)",
        ["class", "items", "share of value", "items (largest first)"],
        [
            [
                c,
                len(lines),
                f"{100 * sum(float(str(x['value'])) for x in lines) / total:.1f} %",
                ", ".join(str(x["sku"]) for x in lines[:5]) + (" …" if len(lines) > 5 else ""),
            ]
            for c, lines in sorted(classes.items())
        ],
    )


KEY_COMPONENT = "WHEEL-700"
#: (end item, weeks from now, quantity, customer) of the demo's sales orders.
SALES = (
    ("BIKE-CITY-M", 2, 30, "VELO-LYON"),
    ("BIKE-CITY-L", 3, 18, "VELO-LYON"),
    ("BIKE-TREK-M", 4, 24, "RANDO-SPORT"),
    ("BIKE-KIDS-20", 3, 40, "JOUETS-DU-NORD"),
    ("BIKE-CITY-M", 6, 45, "CYCLES-MARTIN"),
    ("BIKE-CITY-M", 3, 260, "PROMO-VELO-FR"),  # a spring promotion: more than the wheel shop can lace
)


def edifact_order(today: date, reference: str) -> str:
    """A UN/EDIFACT ORDERS D.96A message, as a retailer's EDI connector would push it."""
    d = lambda weeks: (today + timedelta(weeks=weeks)).strftime("%Y%m%d")  # noqa: E731
    segments = [
        "UNH+1+ORDERS:D:96A:UN",
        f"BGM+220+{reference}+9",
        f"DTM+137:{today.strftime('%Y%m%d')}:102",
        f"DTM+2:{d(5)}:102",
        "NAD+BY+DECATHLON-FR::9",
        "LIN+1++BIKE-TREK-M:SA",
        "QTY+21:16",
        "LIN+2++BIKE-CITY-L:SA",
        "QTY+21:12",
        f"DTM+2:{d(4)}:102",
    ]
    segments.append(f"UNT+{len(segments) + 1}+1")
    interchange = [
        "UNA:+.? '",
        f"UNB+UNOC:3+DECATHLON-FR:14+CYCLES-JALON:14+{today.strftime('%y%m%d')}:0800+{reference[-8:]}'",
        *(seg + "'" for seg in segments),
        f"UNZ+1+{reference[-8:]}'",
    ]
    return "\n".join(interchange) + "\n"


def mrp(client: httpx.Client, report: Report) -> None:
    report.chapter("Demand and MRP: sales orders (one by EDIFACT), forecasts, a regenerative run")
    today = datetime.now(UTC).date()
    stamp = today.strftime("%Y%m%d")
    rows = []
    for n, (sku, weeks, qty, customer) in enumerate(SALES, start=1):
        number = f"SO-{stamp}-{n:02d}"
        body = {
            "number": number,
            "customer": customer,
            "lines": [{"sku": sku, "qty": qty, "due_date": (today + timedelta(weeks=weeks)).isoformat()}],
        }
        r = expect(
            client.post("/v1/mrp/sales-orders", json=body, headers={"Idempotency-Key": f"demo-{number}"}),
            200,
            201,
        )
        rows.append([number, customer, sku, qty, body["lines"][0]["due_date"], "API"])  # type: ignore[index]
        assert r.json()["id"]
    edi = expect(
        client.post(
            "/v1/mrp/sales-orders/edi",
            content=edifact_order(today, f"PO-DK-{stamp}"),
            headers={"content-type": "text/plain"},
        ),
        200,
        201,
    ).json()
    for order in edi if isinstance(edi, list) else edi.get("items", [edi]):
        for line in order["lines"]:
            rows.append(
                [
                    order["number"],
                    order["customer"],
                    line["sku"],
                    _qty(float(line["qty"])),
                    line["due_date"],
                    "EDIFACT ORDERS D.96A",
                ]
            )
    report.table("Sales orders", ["number", "customer", "item", "qty", "due", "channel"], rows)
    for sku, weekly in (("BIKE-CITY-M", 20), ("BIKE-CITY-L", 10), ("BIKE-TREK-M", 8), ("BIKE-KIDS-20", 6)):
        monday = today - timedelta(days=today.weekday())
        buckets = [{"start": (monday + timedelta(weeks=w)).isoformat(), "qty": weekly} for w in range(1, 13)]
        expect(client.put(f"/v1/mrp/forecasts/{sku}", json={"buckets": buckets}), 200, 201)
    report.say("Weekly forecasts for 12 weeks on the four bikes (consumed by the orders in their weeks).")
    accepted = expect(
        client.post("/v1/mrp/runs", json={"horizon_days": 120, "mode": "regenerative"}), 202
    ).json()
    run = poll(client, f"/v1/mrp/runs/{accepted['id']}")
    counts = run["counts"]
    t = run["timings"]
    report.say(
        f"MRP run {run['id']} {run['status']} in {t.get('total', 0):.2f} s "
        f"(snapshot {t.get('snapshot', 0):.2f}, compute {t.get('compute', 0):.2f}, "
        f"persist {t.get('persist', 0):.2f}): {counts.get('items', 0)} items, "
        f"{counts.get('planned_orders', 0)} planned orders, {counts.get('actions', 0)} action messages."
    )
    record = expect(client.get(f"/v1/mrp/runs/{run['id']}/records/{KEY_COMPONENT}"), 200).json()
    report.table(
        f"MRP record of {KEY_COMPONENT} (low-level code {record['low_level_code']}, starting available "
        f"{_qty(float(record['starting_available']))}, safety stock {_qty(float(record['safety_stock']))})",
        [
            "date",
            "gross req.",
            "sched. receipts",
            "proj. available",
            "net req.",
            "planned receipts",
            "planned releases",
        ],
        [
            [
                r["date"],
                *(
                    _qty(float(r[k]))
                    for k in (
                        "gross_requirements",
                        "scheduled_receipts",
                        "projected_available",
                        "net_requirements",
                        "planned_receipts",
                        "planned_releases",
                    )
                ),
            ]
            for r in record["rows"][:18]
        ],
    )
    actions = expect(client.get(f"/v1/mrp/runs/{run['id']}/actions", params={"page_size": 1000}), 200).json()[
        "items"
    ]
    kinds: dict[str, int] = {}
    for a in actions:
        kinds[a["kind"]] = kinds.get(a["kind"], 0) + 1
    report.table(
        "Action messages (" + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) + "; the first 15)",
        ["action", "item", "order", "qty", "date", "new date"],
        [
            [
                a["kind"],
                a["sku"],
                a["order_id"],
                _qty(float(a["quantity"])),
                a["date"],
                a.get("new_date") or "",
            ]
            for a in actions[:15]
        ],
    )
    report.state["mrp_run"] = run["id"]


def poll(client: httpx.Client, path: str, timeout: float = 120.0) -> dict[str, Any]:
    started = time.monotonic()
    while True:
        body = expect(client.get(path), 200).json()
        if body["status"] in ("succeeded", "failed", "cancelled"):
            if body["status"] != "succeeded":
                raise DemoFailed(f"{path} ended {body['status']}: {body.get('error')}")
            return dict(body)
        if time.monotonic() - started > timeout:
            raise DemoFailed(f"{path} still {body['status']} after {timeout:.0f} s")
        time.sleep(0.3)


def capacity(client: httpx.Client, report: Report) -> None:
    report.chapter("Capacity: load of the MRP plan, an overload and its cheapest way out")
    today = datetime.now(UTC).date()
    body = {
        "source": {"mrp_run": report.state["mrp_run"]},
        "direction": "backward",
        "bucket": "week",
        "from": (today - timedelta(days=today.weekday())).isoformat(),
        "to": (today + timedelta(weeks=8)).isoformat(),
    }
    accepted = expect(client.post("/v1/capacity/analyses", json=body), 202).json()
    analysis = poll(client, f"/v1/capacity/analyses/{accepted['id']}")
    load = _all(client, f"/v1/capacity/analyses/{analysis['id']}/load")
    totals: dict[str, list[float]] = {}
    for cell in load:
        t = totals.setdefault(cell["work_center"], [0.0, 0.0, 0])
        t[0] += cell["load_minutes"]
        t[1] += cell["capacity_minutes"]
        t[2] += 1 if cell["overloaded"] else 0
    neck = analysis.get("bottleneck") or {}
    report.table(
        f"Load versus capacity over 9 weeks (backward milestones, bottleneck {neck.get('work_center', '-')})",
        ["work center", "load (h)", "capacity (h)", "utilisation", "overloaded weeks"],
        [
            [wc, f"{lo / 60:,.1f}", f"{ca / 60:,.1f}", f"{100 * lo / ca:.0f} %" if ca else "-", int(n)]
            for wc, (lo, ca, n) in sorted(totals.items())
        ],
    )
    overloads = _all(client, f"/v1/capacity/analyses/{analysis['id']}/overloads")
    if not overloads:
        report.say("No overloaded week: the plan fits the shop as it is.")
        return
    report.table(
        f"Overloaded weeks ({len(overloads)})",
        ["work center", "week", "load (h)", "capacity (h)", "missing (h)"],
        [
            [
                o["work_center"],
                o["bucket_start"],
                f"{o['load_minutes'] / 60:.1f}",
                f"{o['capacity_minutes'] / 60:.1f}",
                f"{o['gap_minutes'] / 60:.1f}",
            ]
            for o in overloads[:8]
        ],
    )
    worst = max(overloads, key=lambda o: o["gap_minutes"])
    proposals = _all(
        client,
        f"/v1/capacity/analyses/{analysis['id']}/proposals",
        {"work_center": worst["work_center"], "bucket_start": worst["bucket_start"]},
    )
    report.table(
        f"Ways out of {worst['work_center']}, week of {worst['bucket_start']} (ranked by cost)",
        ["rank", "kind", "cost", "relieves (h)", "closes the gap", "explanation"],
        [
            [
                p["rank"],
                p["kind"],
                _money(p["cost"]),
                f"{p['relieved_minutes'] / 60:.1f}",
                "yes" if p["closes_gap"] else "no",
                p["explanation"],
            ]
            for p in proposals[:6]
        ],
    )
    best = next((p for p in proposals if p["closes_gap"]), proposals[0] if proposals else None)
    if best is None:
        report.say("No proposal could be costed for it.")
        return
    applied = expect(
        client.post(f"/v1/capacity/analyses/{analysis['id']}/proposals/{best['id']}/apply"), 202
    ).json()
    what_if = poll(client, f"/v1/capacity/analyses/{applied['id']}")
    after = {
        (c["work_center"], c["bucket_start"]): c
        for c in _all(
            client, f"/v1/capacity/analyses/{what_if['id']}/load", {"work_center": worst["work_center"]}
        )
    }
    cell = after[(worst["work_center"], worst["bucket_start"])]
    report.say(
        f"Applied proposal {best['rank']} ({best['kind']}, {_money(best['cost'])}) "
        f"as what-if {what_if['id']}: "
        f"{worst['work_center']} in the week of {worst['bucket_start']} now carries "
        f"{cell['load_minutes'] / 60:.1f} h for {cell['capacity_minutes'] / 60:.1f} h of capacity "
        f"({'balanced' if not cell['overloaded'] else 'still overloaded'})."
    )
    for name, ident in (("before", analysis["id"]), ("after", what_if["id"])):
        svg = expect(client.get(f"/v1/capacity/analyses/{ident}/load-chart/{worst['work_center']}.svg"), 200)
        report.attach(
            f"load-{worst['work_center']}-{name}.svg",
            svg.content,
            f"Load of {worst['work_center']} {name} the proposal",
        )


#: Planned orders the demo firms and releases: sub-assemblies whose components are in stock.
RELEASE_SKUS = ("WHEEL-700", "WHEEL-20", "COCKPIT", "WELD-CITY-M", "WELD-TREK-M")


def scheduling(client: httpx.Client, report: Report) -> None:
    report.chapter("Finite scheduling: released orders on the machines, a Gantt chart, shop-floor feedback")
    run = report.state["mrp_run"]
    released = []
    short = []
    for sku in RELEASE_SKUS:
        planned = _all(client, f"/v1/mrp/runs/{run}/planned-orders", {"sku": sku})[:3]
        for po in planned:
            firmed = client.post(f"/v1/mrp/runs/{run}/planned-orders/{quote(po['id'], safe='')}/firm")
            if firmed.status_code == 409:
                continue  # firmed by an earlier run of the demo
            order = expect(firmed, 200, 201).json()
            order_id = order.get("id") or order.get("order", {}).get("id")
            r = client.post(f"/v1/mrp/orders/{order_id}/release")
            if r.status_code == 409 and r.json().get("type") == "component-shortage":
                short.append(f"{order_id} ({', '.join(m['sku'] for m in r.json()['missing'])})")
                continue
            expect(r, 200)
            released.append([order_id, sku, _qty(float(po["quantity"])), po["release_date"], po["due_date"]])
    report.table(
        "Orders firmed from the MRP run and released (components reserved in inventory)",
        ["order", "item", "qty", "release", "due"],
        released,
    )
    if short:
        report.say("Not released for want of components: " + "; ".join(short))
    accepted = expect(
        client.post(
            "/v1/scheduler/schedules",
            json={"objective": ["weighted_tardiness", "makespan"], "time_limit_s": 10, "horizon_days": 120},
        ),
        202,
    ).json()
    schedule = poll(client, f"/v1/scheduler/schedules/{accepted['id']}", timeout=180)
    tardiness = schedule.get("tardiness") or {}
    report.say(
        f"Schedule {schedule['id']} (version {schedule['version']}): solver {schedule['solver_status']}, "
        f"gap {100 * (schedule['gap'] or 0):.1f} %, {schedule['problem'].get('operations', '?')} operations; "
        f"{tardiness.get('late_orders', 0)} late orders (they were already due before today), "
        f"weighted tardiness {tardiness.get('total_weighted_minutes', 0) / 60:,.1f} h, "
        f"worst {tardiness.get('max_minutes', 0) / 60:,.1f} h; last operation ends "
        f"{str(tardiness.get('makespan_end', '?'))[:16]}."
    )
    assignments = _all(client, f"/v1/scheduler/schedules/{schedule['id']}/assignments")
    by_machine: dict[str, list[dict[str, Any]]] = {}
    for a in assignments:
        by_machine.setdefault(a["machine"], []).append(a)
    report.table(
        "Sequence on each machine",
        ["machine", "work center", "operations in order (order/op start)"],
        [
            [
                m,
                ops[0]["work_center"],
                " → ".join(
                    f"{a['order']}/{a['operation']} {a['start'][5:16].replace('T', ' ')}"
                    for a in sorted(ops, key=lambda a: a["start"])
                )[:300],
            ]
            for m, ops in sorted(by_machine.items())
        ],
    )
    gantt = expect(client.get(f"/v1/scheduler/schedules/{schedule['id']}/gantt.svg"), 200)
    report.attach("gantt.svg", gantt.content, "Gantt chart of the schedule")
    png = client.get(f"/v1/scheduler/schedules/{schedule['id']}/gantt.png")
    if png.status_code == 200:
        report.attach("gantt.png", png.content, "Gantt chart (PNG)")
    dispatch = expect(client.get("/v1/scheduler/work-centers/WHEEL/dispatch-list"), 200).json()["items"]
    confirmed = []
    for item in dispatch[:2]:
        start = datetime.fromisoformat(item["planned_start"])
        end = start + timedelta(minutes=item["duration_minutes"] + 12)
        qty = Decimal(str(item["quantity"] or 0))
        scrap = Decimal(1) if qty > 10 else Decimal(0)
        for event, at, extra in (
            ("start", start, {}),
            (
                "finish",
                end,
                {
                    "good_qty": str(qty - scrap),
                    "scrap_qty": str(scrap),
                    "reason": "spoke tension out of tolerance" if scrap else None,
                },
            ),
        ):
            body = {
                "order": item["order"],
                "operation": item["operation"],
                "machine": item["machine"],
                "event": event,
                "at": at.isoformat(),
                **extra,
            }
            expect(
                client.post(
                    "/v1/scheduler/confirmations",
                    json=body,
                    headers={
                        "Idempotency-Key": f"demo-{schedule['id']}-{item['order']}-"
                        f"{item['operation']}-{event}"
                    },
                ),
                200,
                201,
            )
        confirmed.append(
            [
                item["order"],
                item["operation"],
                item["machine"],
                item["planned_start"][:16],
                at.isoformat()[:16],
                _qty(float(qty - scrap)),
                _qty(float(scrap)),
            ]
        )
    report.table(
        "Confirmations replayed from the shop floor (WHEEL dispatch list)",
        ["order", "op", "machine", "planned start", "finished", "good", "scrap"],
        confirmed,
    )
    pareto = expect(client.get("/v1/scheduler/pareto/scrap"), 200).json()
    causes = pareto.get("items", [])
    if causes:
        report.say(
            "Pareto of scrap causes: "
            + "; ".join(
                f"{c['cause']}: {_qty(float(c['amount']))} "
                f"({100 * float(c['cumulative_share']):.0f} % cumulated)"
                for c in causes[:3]
            )
        )


def _all(client: httpx.Client, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every page of a list endpoint."""
    items: list[dict[str, Any]] = []
    query = {"page_size": 1000, **(params or {})}
    while True:
        page = expect(client.get(path, params=query), 200).json()
        items += page["items"]
        if not page.get("next_page_token"):
            return items
        query["page_token"] = page["next_page_token"]


CHAPTERS: list[Callable[[httpx.Client, Report], None]] = [
    platform,
    master_data,
    inventory,
    mrp,
    capacity,
    scheduling,
]
