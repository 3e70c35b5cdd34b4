"""The demo's chapters, in the order of the planning chain. Each talks to the gateway only."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

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

CHAPTERS: list[Callable[[httpx.Client, Report], None]] = [platform, master_data]
