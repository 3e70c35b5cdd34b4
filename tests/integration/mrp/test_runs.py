"""MRP runs on a small hand-computed plant (today Monday 2026-11-02, Monday–Friday calendar).

BIKE (make, lead 2 days) = 1 FRAME + 2 WHEEL. FRAME (buy, lead 5, fixed lots of 50), WHEEL (buy,
lead 3, lot for lot). Stock: BIKE 7 on hand − 2 reserved at MAIN (+100 in a non-nettable
location), FRAME 10, WHEEL 0. A firm buy order of 6 WHEEL is due Monday 11-09. A sales order wants
20 BIKE on Friday 11-13.

- BIKE: 5 available, 20 due 11-13 → planned order 15 due 11-13, released back(11-13, 2) = 11-11.
- FRAME: 15 needed 11-11, 10 in stock → short 5 → a fixed lot of 50 due 11-11, released 11-04;
  projected available 45 after it.
- WHEEL: 30 needed 11-11, 6 arrive 11-09 → short 24, due 11-11, released back(11-11, 3) = 11-06.
  The receipt is only needed on 11-11 → reschedule_out from 11-09 to 11-11.
"""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from services.mrp.handlers.runs import MrpRunner
from tests.integration.mrp.conftest import Mrp

TODAY = "2026-11-02"


async def plant(mrp: Mrp) -> dict[str, str]:
    await mrp.item("BIKE", lead_time_days=2)
    await mrp.item("FRAME", kind="buy", lead_time_days=5, lot_sizing={"rule": "fixed", "quantity": 50})
    await mrp.item("WHEEL", kind="buy", lead_time_days=3)
    await mrp.bom("BIKE", [("FRAME", 1), ("WHEEL", 2)])
    await mrp.stock("BIKE", 7, 2)
    await mrp.stock("BIKE", 100, location="QA", nettable=False)
    await mrp.stock("FRAME", 10)
    receipt = await mrp.client.post(
        "/v1/mrp/orders",
        json={
            "kind": "buy",
            "sku": "WHEEL",
            "quantity": 6,
            "release_date": "2026-11-02",
            "due_date": "2026-11-09",
        },
    )
    so = await mrp.client.post(
        "/v1/mrp/sales-orders",
        json={
            "number": "SO-1",
            "customer": "ACME",
            "lines": [{"sku": "BIKE", "qty": 20, "due_date": "2026-11-13"}],
        },
    )
    return {"receipt": receipt.json()["id"], "so": so.json()["id"]}


async def test_a_run_plans_the_hand_computed_plant(mrp: Mrp) -> None:
    ids = await plant(mrp)
    run = await mrp.run(today=TODAY, horizon_days=28)
    assert run["status"] == "succeeded", run
    assert run["mode"] == "regenerative"
    assert run["progress"] == 1.0
    assert run["counts"]["planned_orders"] == 3
    assert run["counts"]["items"] == 3
    assert run["snapshot"]["counts"]["sales_order_lines"] == 1
    assert run["snapshot"]["counts"]["scheduled_receipts"] == 1
    assert set(run["timings"]) == {"snapshot", "compute", "persist", "total"}
    base = f"/v1/mrp/runs/{run['id']}"

    planned = (await mrp.client.get(f"{base}/planned-orders")).json()["items"]
    assert [(p["sku"], p["kind"], p["quantity"], p["release_date"], p["due_date"]) for p in planned] == [
        ("BIKE", "make", 15, "2026-11-11", "2026-11-13"),
        ("FRAME", "buy", 50, "2026-11-04", "2026-11-11"),
        ("WHEEL", "buy", 24, "2026-11-06", "2026-11-11"),
    ]
    assert planned[0]["pegging"] == [
        {
            "kind": "sales_order",
            "reference": ids["so"],
            "line": 1,
            "parent_sku": None,
            "date": "2026-11-13",
            "quantity": 15,
        }
    ]
    assert planned[1]["pegging"][0]["kind"] == "parent_order"
    assert planned[1]["pegging"][0]["reference"] == planned[0]["id"]
    assert planned[1]["pegging"][0]["quantity"] == 5
    only_buy = (await mrp.client.get(f"{base}/planned-orders", params={"kind": "buy", "page_size": 1})).json()
    assert [p["sku"] for p in only_buy["items"]] == ["FRAME"]
    page2 = await mrp.client.get(
        f"{base}/planned-orders", params={"kind": "buy", "page_token": only_buy["next_page_token"]}
    )
    assert [p["sku"] for p in page2.json()["items"]] == ["WHEEL"]

    record = (await mrp.client.get(f"{base}/records/FRAME")).json()
    assert record["starting_available"] == 10
    assert [
        (
            r["date"],
            r["gross_requirements"],
            r["projected_available"],
            r["net_requirements"],
            r["planned_receipts"],
            r["planned_releases"],
        )
        for r in record["rows"]
    ] == [
        ("2026-11-02", 0, 10, 0, 0, 0),
        ("2026-11-04", 0, 10, 0, 0, 50),
        ("2026-11-11", 15, 45, 5, 50, 0),
    ]
    wheel = (await mrp.client.get(f"{base}/records/WHEEL")).json()["rows"]
    assert [
        (r["date"], r["scheduled_receipts"], r["projected_available"])
        for r in wheel
        if r["scheduled_receipts"]
    ] == [("2026-11-09", 6, 6)]

    actions = (await mrp.client.get(f"{base}/actions")).json()["items"]
    assert actions == [
        {
            "kind": "reschedule_out",
            "sku": "WHEEL",
            "order_id": ids["receipt"],
            "quantity": 6,
            "date": "2026-11-09",
            "new_date": "2026-11-11",
        }
    ]
    assert (await mrp.client.get(f"{base}/actions", params={"kind": "release"})).json()["items"] == []
    assert (await mrp.client.get(f"{base}/records/NOPE")).status_code == 404
    listed = (await mrp.client.get("/v1/mrp/runs")).json()["items"]
    assert [r["id"] for r in listed] == [run["id"]]
    events = await mrp.events("jalon.mrp.run.completed")
    assert events[0]["data"]["id"] == run["id"]
    assert events[0]["data"]["counts"]["planned_orders"] == 3


async def test_net_change_after_one_new_sales_order_equals_a_regenerative_run(mrp: Mrp) -> None:
    await plant(mrp)
    first = await mrp.run(today=TODAY, horizon_days=28, mode="net_change")
    assert first["mode"] == "regenerative"
    assert first["note"] == "no previous successful run: ran regenerative"
    await mrp.item("SCOOTER", lead_time_days=1)
    await mrp.bom("SCOOTER", [("WHEEL", 2)], seq=2)
    await mrp.client.post(
        "/v1/mrp/sales-orders",
        json={
            "number": "SO-2",
            "customer": "ACME",
            "lines": [{"sku": "SCOOTER", "qty": 4, "due_date": "2026-11-20"}],
        },
    )
    net = await mrp.run(today=TODAY, horizon_days=28, mode="net_change")
    assert net["status"] == "succeeded", net
    assert net["mode"] == "net_change"
    assert net["previous_run"] == first["id"]
    assert net["counts"]["items_planned"] == 2  # SCOOTER and WHEEL, not BIKE nor FRAME
    regen = await mrp.run(today=TODAY, horizon_days=28)

    async def plan(run_id: str) -> list[dict[str, object]]:
        return (await mrp.client.get(f"/v1/mrp/runs/{run_id}/planned-orders")).json()["items"]

    assert await plan(net["id"]) == await plan(regen["id"])
    assert len(await plan(net["id"])) == 5
    diff = (await mrp.client.get(f"/v1/mrp/runs/{net['id']}/diff/{first['id']}")).json()
    assert [p["sku"] for p in diff["added"]] == ["SCOOTER", "WHEEL"]
    assert diff["removed"] == []
    assert diff["changed"] == []
    # A process restart forgets the result in memory: net change rebuilds it from the database.
    mrp.app.state.mrp.runner.last = None
    rebuilt = await mrp.run(today=TODAY, horizon_days=28, mode="net_change")
    assert rebuilt["mode"] == "net_change"
    assert rebuilt["counts"]["items_planned"] == 0
    assert await plan(rebuilt["id"]) == await plan(regen["id"])


async def test_a_planned_order_is_firmed_into_the_order_book_once(mrp: Mrp) -> None:
    await plant(mrp)
    run = await mrp.run(today=TODAY, horizon_days=28)
    po = (await mrp.client.get(f"/v1/mrp/runs/{run['id']}/planned-orders", params={"sku": "FRAME"})).json()[
        "items"
    ][0]
    url = f"/v1/mrp/runs/{run['id']}/planned-orders/{po['id'].replace('#', '%23')}/firm"
    firm = await mrp.client.post(url)
    assert firm.status_code == 201, firm.text
    order = firm.json()
    assert (order["status"], order["kind"], order["quantity"], order["due_date"]) == (
        "firm",
        "buy",
        50,
        "2026-11-11",
    )
    assert order["source_run"] == run["id"]
    assert order["source_planned_order"] == po["id"]
    assert (await mrp.client.post(url)).status_code == 409
    # The firm order is now a scheduled receipt: the next run plans no new FRAME order.
    again = await mrp.run(today=TODAY, horizon_days=28)
    frames = (
        await mrp.client.get(f"/v1/mrp/runs/{again['id']}/planned-orders", params={"sku": "FRAME"})
    ).json()
    assert frames["items"] == []


async def test_a_run_that_fails_says_why_and_a_restart_fails_runs_left_running(mrp: Mrp) -> None:
    await mrp.item("A")
    await mrp.item("B")
    await mrp.bom("A", [("B", 1)])
    await mrp.bom("B", [("A", 1)])  # a cycle: the engine refuses it
    run = await mrp.run(today=TODAY, horizon_days=10)
    assert run["status"] == "failed"
    assert run["error"]
    await mrp.sql(
        "INSERT INTO mrp_runs (id, status, mode, requested_mode, today, horizon_days) "
        "VALUES ('run_left', 'running', 'regenerative', 'regenerative', :d, 5)",
        d=date(2026, 11, 2),
    )
    runtime = mrp.app.state.runtime
    from services.mrp.db import repositories as repo

    async with runtime.sessionmaker() as session, session.begin():
        assert await repo.fail_abandoned_runs(session) == 1
    assert (await mrp.client.get("/v1/mrp/runs/run_left")).json()["status"] == "failed"
    assert isinstance(mrp.app.state.mrp.runner, MrpRunner)


async def test_the_event_loop_stays_free_while_a_run_computes(mrp: Mrp) -> None:
    await plant(mrp)
    r = await mrp.client.post("/v1/mrp/runs", json={"today": TODAY, "horizon_days": 28})
    ticks = 0
    while (await mrp.client.get(r.headers["location"])).json()["status"] not in ("succeeded", "failed"):
        ticks += 1
        await asyncio.sleep(0.01)
    assert (await mrp.client.get(r.headers["location"])).json()["status"] == "succeeded"


@pytest.mark.parametrize("mode", ["regenerative"])
async def test_an_empty_plant_runs_to_an_empty_plan(mrp: Mrp, mode: str) -> None:
    run = await mrp.run(mode=mode, horizon_days=7)
    assert run["status"] == "succeeded"
    assert run["counts"]["planned_orders"] == 0
