"""A hand-computed capacity analysis through the in-process app, against real PostgreSQL.

The week of Monday 2026-03-02. Work center MILL: one machine, efficiency 0.8, 60/h, calendar 2x8
(Mon–Fri 06:00–14:00 and 14:00–22:00), Wednesday 03-04 a holiday, Thursday 03-05 10:00–12:00 a
maintenance window. Capacity per day: Mon 960, Tue 960, Wed 0, Thu 840, Fri 960 minutes.

Routing of FRAME: op 10 on MILL (setup 60, run 9.6/unit), op 20 on MILL (setup 20, run 2.4/unit).
- O1, 100 FRAME, release Mon, due Fri: op 10 = (60 + 960) / 0.8 = 1275 min, op 20 = 325 min.
- O2, 50 FRAME, release Mon, due Fri: op 10 = (60 + 480) / 0.8 = 675 min, op 20 = 175 min.
- O3, an unknown sku: a warning, not an error.

Backward: O1 op 20 ends Fri 22:00 and starts 16:35; op 10 ends 16:35 and needs 1275 min: 635 on
Friday, 640 on Thursday (14:00–22:00 480, 12:00–14:00 120, then 40 before the maintenance: 09:20).
O2 op 20 runs Fri 19:05–22:00, op 10 Fri 07:50–19:05. Load: Thu 640, Fri 635 + 325 + 675 + 175 =
1810 against 960: an overload of 850 minutes. Overtime: the machine is free 1440 − 960 = 480 min on
Friday, so 480 min at 60/h × 1.5 = 720.
Forward: O1 op 10 Mon 06:00 → Tue 11:15 (960 + 315), op 20 Tue 11:15 → 16:40.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

import pytest
from fastapi import FastAPI

from shared.charts import PNG_SIGNATURE
from tests.integration.capacity.conftest import TWO_SHIFTS, Capacity, serve

pytestmark = pytest.mark.asyncio(loop_scope="session")

WEEK = {"from": "2026-03-02", "to": "2026-03-06", "bucket": "day"}
O1 = {"id": "O1", "sku": "FRAME", "quantity": 100, "release_date": "2026-03-02", "due_date": "2026-03-06"}
O2 = {"id": "O2", "sku": "FRAME", "quantity": "50", "release_date": "2026-03-02", "due_date": "2026-03-06"}
O3 = {"id": "O3", "sku": "NOPE", "quantity": 5, "release_date": "2026-03-02", "due_date": "2026-03-06"}


async def seed_plant(c: Capacity) -> None:
    await c.record(
        "calendar",
        "2x8",
        {
            "code": "2x8",
            "weekdays": dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), TWO_SHIFTS),
            "holidays": ["2026-03-04"],
            "exceptions": [
                {
                    "start": "2026-03-05T10:00:00+00:00",
                    "end": "2026-03-05T12:00:00+00:00",
                    "kind": "maintenance",
                }
            ],
        },
    )
    await c.record(
        "work_center",
        "MILL",
        {
            "code": "MILL",
            "name": "Milling",
            "machines": [{"code": "MILL-1"}],
            "efficiency": 0.8,
            "calendar": "2x8",
            "hourly_cost": 60,
        },
    )
    await c.record(
        "item",
        "FRAME",
        {
            "sku": "FRAME",
            "name": "Frame",
            "uom": "pc",
            "kind": "make",
            "family": "BIKES",
            "lot_sizing": {"rule": "fixed", "quantity": 50},
        },
    )
    await c.record(
        "routing",
        "FRAME",
        {
            "sku": "FRAME",
            "operations": [
                {
                    "seq": 10,
                    "work_center": "MILL",
                    "setup_minutes": 60,
                    "run_minutes_per_unit": 9.6,
                    "alternates": [],
                },
                {
                    "seq": 20,
                    "work_center": "MILL",
                    "setup_minutes": 20,
                    "run_minutes_per_unit": 2.4,
                    "alternates": [],
                },
            ],
        },
    )
    await c.record(
        "supplier",
        "ACME",
        {"code": "ACME", "name": "Acme", "items": [{"sku": "FRAME", "price": 12, "priority": 1}]},
    )
    await c.record(
        "supplier",
        "BETA",
        {"code": "BETA", "name": "Beta", "items": [{"sku": "FRAME", "price": 10, "priority": 2}]},
    )


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_a_hand_computed_analysis_gives_milestones_load_overload_and_costed_proposals(
    capacity: Capacity,
) -> None:
    await seed_plant(capacity)
    body = {"source": {"orders": [O1, O2, O3]}, "direction": "backward", **WEEK}
    result = await capacity.analyse(body)
    assert result["progress"] == 1.0
    assert result["counts"]["orders"] == 3
    assert result["counts"]["orders_planned"] == 2
    assert result["counts"]["operations"] == 4
    assert result["counts"]["overloads"] == 1
    assert [(w["code"], w["order"]) for w in result["warnings"]] == [("unknown_sku", "O3")]
    assert result["bottleneck"]["work_center"] == "MILL"
    assert result["bottleneck"]["load_minutes"] == pytest.approx(2450)
    assert result["bottleneck"]["capacity_minutes"] == pytest.approx(3720)
    for step in ("snapshot_s", "milestones_s", "load_and_proposals_s", "store_s", "total_s"):
        assert result["timings"]["steps_s"][step] >= 0
    url = result["links"]["self"]

    ops = await capacity.items(f"{url}/operations")
    by_key = {(o["order"], o["seq"]): o for o in ops}
    o1_10, o1_20 = by_key[("O1", 10)], by_key[("O1", 20)]
    assert o1_10["minutes"] == pytest.approx(1275)
    assert o1_10["machine"] == "MILL-1"
    assert (ts(o1_10["start"]), ts(o1_10["end"])) == (at("2026-03-05T09:20Z"), at("2026-03-06T16:35Z"))
    assert (ts(o1_20["start"]), ts(o1_20["end"])) == (at("2026-03-06T16:35Z"), at("2026-03-06T22:00Z"))
    assert (ts(o1_10["earliest_start"]), ts(o1_10["earliest_end"])) == (
        at("2026-03-02T06:00Z"),
        at("2026-03-03T11:15Z"),
    )
    assert (ts(o1_20["earliest_start"]), ts(o1_20["earliest_end"])) == (
        at("2026-03-03T11:15Z"),
        at("2026-03-03T16:40Z"),
    )
    o2_10, o2_20 = by_key[("O2", 10)], by_key[("O2", 20)]
    assert (ts(o2_10["start"]), ts(o2_10["end"])) == (at("2026-03-06T07:50Z"), at("2026-03-06T19:05Z"))
    assert (ts(o2_20["start"]), ts(o2_20["end"])) == (at("2026-03-06T19:05Z"), at("2026-03-06T22:00Z"))
    # Slack of O1 op 10: working minutes from Mon 06:00 to Thu 09:20 = 960 + 960 + 0 + 200.
    assert o1_10["slack_minutes"] == 2120
    assert o1_10["start"].endswith(("Z", "+00:00"))

    load = await capacity.items(f"{url}/load", work_center="MILL")
    assert [(cell["bucket_start"], cell["load_minutes"], cell["capacity_minutes"]) for cell in load] == [
        ("2026-03-02", 0, 960),
        ("2026-03-03", 0, 960),
        ("2026-03-04", 0, 0),
        ("2026-03-05", pytest.approx(640), 840),
        ("2026-03-06", pytest.approx(1810), 960),
    ]
    assert load[2]["utilisation"] == 0
    assert load[4]["utilisation"] == pytest.approx(1810 / 960)
    assert [cell["overloaded"] for cell in load] == [False, False, False, False, True]

    (overload,) = await capacity.items(f"{url}/overloads")
    assert overload["bucket_start"] == "2026-03-06"
    assert overload["gap_minutes"] == pytest.approx(850)

    proposals = await capacity.items(f"{url}/proposals")
    ranked = [
        (p["rank"], p["kind"], p["order"], p["seq"], p["cost"], round(p["relieved_minutes"]))
        for p in proposals
    ]
    assert ranked == [
        (1, "move", "O2", 10, 0, 675),
        (2, "move", "O1", 20, 0, 325),
        (3, "move", "O2", 20, 0, 175),
        (4, "subcontract", "O2", 10, 600, 675),  # ACME (priority 1): 12 × 50
        (5, "subcontract", "O2", 20, 600, 175),
        (6, "overtime", None, None, pytest.approx(720), 480),
        (7, "subcontract", "O1", 10, 1200, 635),
        (8, "subcontract", "O1", 20, 1200, 325),
    ]
    overtime = proposals[5]
    assert "480" in overtime["explanation"]
    assert "720.00" in overtime["explanation"]
    assert overtime["closes_gap"] is False
    assert overtime["edits"]["capacity"] == [
        {"work_center": "MILL", "bucket_start": "2026-03-06", "minutes": 480}
    ]
    move = proposals[0]
    assert move["target_bucket_start"] == "2026-03-03"
    assert move["apply_url"].endswith(f"/proposals/{move['id']}/apply")

    outbox = await capacity.sql(
        "SELECT payload FROM outbox WHERE subject = 'jalon.capacity.analysis.completed'"
    )
    (event,) = [json.loads(r[0]) for r in outbox]
    assert event["subject"] == result["id"]
    assert event["data"]["counts"]["overloads"] == 1


async def test_applying_a_proposal_is_a_new_what_if_analysis_and_the_parent_is_kept(
    capacity: Capacity,
) -> None:
    await seed_plant(capacity)
    parent = await capacity.analyse({"source": {"orders": [O1, O2]}, **WEEK})
    url = parent["links"]["self"]
    proposals = await capacity.items(f"{url}/proposals")
    move = proposals[0]
    assert (move["kind"], move["order"], move["seq"]) == ("move", "O2", 10)

    r = await capacity.client.post(move["apply_url"])
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/v1/capacity/analyses/{r.json()['id']}"
    child = await capacity.wait(r.json()["id"])
    assert child["parent"] == parent["id"]
    assert child["applied"] == [{"analysis": parent["id"], "proposal": move["id"], "kind": "move"}]
    loads = {
        c["bucket_start"]: c["load_minutes"] for c in await capacity.items(f"{child['links']['self']}/load")
    }
    assert loads["2026-03-03"] == pytest.approx(675)
    assert loads["2026-03-06"] == pytest.approx(1135)
    (overload,) = await capacity.items(f"{child['links']['self']}/overloads")
    assert overload["gap_minutes"] == pytest.approx(175)
    moved = await capacity.items(f"{child['links']['self']}/operations", order="O2")
    assert moved[0]["change"]["kind"] == "move"
    assert moved[0]["change"]["buckets"] == ["2026-03-03"]

    # The parent is untouched.
    parent_loads = {c["bucket_start"]: c["load_minutes"] for c in await capacity.items(f"{url}/load")}
    assert parent_loads["2026-03-03"] == 0
    assert parent_loads["2026-03-06"] == pytest.approx(1810)

    # Overtime on top of the what-if: Friday gets 480 more minutes, which closes the 175 gap.
    overtime = next(
        p for p in await capacity.items(f"{child['links']['self']}/proposals") if p["kind"] == "overtime"
    )
    assert overtime["cost"] == pytest.approx(175 / 60 * 60 * 1.5)
    r = await capacity.client.post(overtime["apply_url"])
    grandchild = await capacity.wait(r.json()["id"])
    assert grandchild["counts"]["overloads"] == 0
    cells = {c["bucket_start"]: c for c in await capacity.items(f"{grandchild['links']['self']}/load")}
    assert cells["2026-03-06"]["capacity_minutes"] == pytest.approx(960 + 175)
    assert [a["kind"] for a in grandchild["applied"]] == ["move", "overtime"]


async def test_bad_requests_are_422_problems_naming_each_field(capacity: Capacity) -> None:
    r = await capacity.client.post(
        "/v1/capacity/analyses",
        json={"source": {"orders": [O1]}, "direction": "sideways", "bucket": "year", "from": "2026-03-02"},
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in r.json()["errors"]} == {"direction", "bucket", "to"}

    bad = [
        {**O1, "quantity": -1},
        {**O2, "due_date": "2026-03-01"},
        {**O1, "sku": ""},
        {"id": "X", "sku": "FRAME"},
    ]
    r = await capacity.client.post(
        "/v1/capacity/analyses", json={"source": {"orders": bad}, "from": "2026-03-06", "to": "2026-03-02"}
    )
    assert r.status_code == 422, r.text
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {
        "to",
        "source.orders[0].quantity",
        "source.orders[2].sku",
        "source.orders[3].quantity",
        "source.orders[3].release_date",
        "source.orders[3].due_date",
    }
    r = await capacity.client.post(
        "/v1/capacity/analyses",
        json={"source": {"orders": [O1, {**O2, "due_date": "2026-03-01"}, O1]}, **WEEK},
    )
    assert {e["field"] for e in r.json()["errors"]} == {"source.orders[1].due_date", "source.orders[2].id"}
    for source, field in (
        ({"mrp_run": "r1", "orders": "firm+released"}, "source"),
        ({}, "source"),
        ({"orders": "everything"}, "source.orders"),
    ):
        r = await capacity.client.post("/v1/capacity/analyses", json={"source": source, **WEEK})
        assert r.status_code == 422
        assert [e["field"] for e in r.json()["errors"]] == [field]
    assert (await capacity.sql("SELECT count(*) FROM analyses"))[0][0] == 0

    r = await capacity.client.get("/v1/capacity/analyses/nope/load")
    assert r.status_code == 404


async def test_charts_are_valid_svg_and_png(capacity: Capacity) -> None:
    await seed_plant(capacity)
    result = await capacity.analyse({"source": {"orders": [O1, O2]}, **WEEK})
    url = result["links"]["self"]
    svg = await capacity.client.get(f"{url}/load-chart/MILL.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(svg.text)
    assert root.tag.endswith("svg")
    assert "MILL" in svg.text
    percent = await capacity.client.get(f"{url}/load-chart/MILL.svg", params={"axis": "percent"})
    ElementTree.fromstring(percent.text)
    png = await capacity.client.get(f"{url}/load-chart/MILL.png")
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(PNG_SIGNATURE)
    overview = await capacity.client.get(result["links"]["load_overview"])
    assert overview.status_code == 200
    assert ElementTree.fromstring(overview.text).tag.endswith("svg")
    missing = await capacity.client.get(f"{url}/load-chart/LATHE.svg")
    assert missing.status_code == 404


def fake_mrp(orders: list[dict[str, Any]]) -> FastAPI:
    """The planned orders of an mrp run, two items a page."""
    app = FastAPI()

    def page(items: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
        start = int(token or 0)
        more = start + 2 < len(items)
        return {"items": items[start : start + 2], "next_page_token": str(start + 2) if more else None}

    @app.get("/v1/mrp/runs/{run_id}/planned-orders")
    async def planned(run_id: str, page_token: str | None = None) -> Any:
        from fastapi.responses import JSONResponse

        if run_id != "run-1":
            return JSONResponse({"detail": f"no run {run_id}"}, status_code=404)
        return page([{**o, "pegging": []} for o in orders], page_token)

    return app


async def test_the_planned_orders_of_an_mrp_run_are_read_from_the_mrp_service(capacity: Capacity) -> None:
    await seed_plant(capacity)
    planned: list[dict[str, Any]] = [
        {**O1, "kind": "make", "status": "planned"},
        {**O2, "kind": "make", "status": "planned"},
        {**O1, "id": "P1", "kind": "buy", "status": "planned"},
        {**O1, "id": "O9", "kind": "make", "status": "planned"},
    ]
    port = int(capacity.app.state.runtime.settings.mrp_url.rsplit(":", 1)[1])
    async with serve(fake_mrp(planned), port):
        run = await capacity.analyse({"source": {"mrp_run": "run-1"}, **WEEK})
        assert run["counts"]["orders"] == 3  # every make planned order, buy left out
        assert run["counts"]["buy_orders_skipped"] == 1
        failed = await capacity.analyse({"source": {"mrp_run": "nope"}, **WEEK}, expect="failed")
        assert "404" in failed["error"]
    unreachable = await capacity.analyse({"source": {"mrp_run": "run-1"}, **WEEK}, expect="failed")
    assert "did not answer" in unreachable["error"]


async def test_a_forward_analysis_loads_the_earliest_dates(capacity: Capacity) -> None:
    await seed_plant(capacity)
    result = await capacity.analyse({"source": {"orders": [O1, O2]}, "direction": "forward", **WEEK})
    url = result["links"]["self"]
    loads = [round(c["load_minutes"]) for c in await capacity.items(f"{url}/load")]
    # Monday: O1 op 10 (960 of 1275), O2 op 10 (675, 06:00–17:15) and op 20 (175, to 20:10);
    # Tuesday: the rest of O1 op 10 (315, to 11:15) and O1 op 20 (325, to 16:40).
    assert loads == [1810, 640, 0, 0, 0]
    o2 = {o["seq"]: o for o in await capacity.items(f"{url}/operations", order="O2")}
    assert (ts(o2[20]["start"]), ts(o2[20]["end"])) == (at("2026-03-02T17:15Z"), at("2026-03-02T20:10Z"))
    assert result["counts"]["overloads"] == 1


async def test_an_analysis_whose_runner_died_is_taken_over_from_its_stored_inputs(capacity: Capacity) -> None:
    await seed_plant(capacity)
    first = await capacity.analyse({"source": {"orders": [O1, O2]}, **WEEK})
    # A copy left 'running' by a process that died an hour ago, with its inputs stored.
    await capacity.sql(
        "INSERT INTO analyses (id, status, source, direction, bucket, from_date, to_date, overtime_factor, "
        "inputs_id, attempts, heartbeat_at) SELECT 'ca_orphan', 'running', source, direction, bucket, "
        "from_date, to_date, overtime_factor, 'ca_orphan', 1, now() - interval '1 hour' "
        "FROM analyses WHERE id = :id",
        id=first["id"],
    )
    await capacity.sql(
        "INSERT INTO analysis_inputs (analysis_id, snapshot) SELECT 'ca_orphan', snapshot "
        "FROM analysis_inputs WHERE analysis_id = :id",
        id=first["id"],
    )
    runner = capacity.app.state.capacity_runner
    recovery = asyncio.create_task(runner.recover(capacity.app.state.runtime))
    try:
        taken_over = await capacity.wait("ca_orphan")
    finally:
        recovery.cancel()
    assert taken_over["counts"] == first["counts"]
    loads = [c["load_minutes"] for c in await capacity.items(f"{taken_over['links']['self']}/load")]
    assert loads == [c["load_minutes"] for c in await capacity.items(f"{first['links']['self']}/load")]


async def test_every_result_list_pages_one_row_at_a_time_to_the_same_rows(capacity: Capacity) -> None:
    await seed_plant(capacity)
    result = await capacity.analyse({"source": {"orders": [O1, O2]}, "direction": "backward", **WEEK})
    url = result["links"]["self"]
    for name in ("load", "operations", "overloads", "proposals"):
        whole = await capacity.items(f"{url}/{name}", page_size=1000)
        assert whole, name
        assert await capacity.items(f"{url}/{name}", page_size=1) == whole, name
        r = await capacity.client.get(f"{url}/{name}", params={"page_size": len(whole)})
        assert r.json()["next_page_token"] is None, name
        bad = await capacity.client.get(f"{url}/{name}", params={"page_token": "bm90IGEgdG9rZW4"})
        assert bad.status_code == 422, (name, bad.text)
        assert bad.json()["errors"][0]["field"] == "query.page_token"
