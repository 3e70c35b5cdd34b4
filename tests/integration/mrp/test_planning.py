"""S&OP plans and MPS through the API, against hand-computed figures; firm MPS weeks become firm
orders that drive MRP."""

from __future__ import annotations

from typing import Any

from tests.integration.mrp.conftest import Mrp


async def _sales_order(mrp: Mrp, number: str, lines: list[tuple[str, int, str]]) -> None:
    r = await mrp.client.post(
        "/v1/mrp/sales-orders",
        json={
            "number": number,
            "customer": "C1",
            "lines": [{"sku": s, "qty": q, "due_date": d} for s, q, d in lines],
        },
    )
    assert r.status_code == 201, r.text


async def _forecast(mrp: Mrp, sku: str, buckets: list[tuple[str, int]]) -> None:
    r = await mrp.client.put(
        f"/v1/mrp/forecasts/{sku}", json={"buckets": [{"start": s, "qty": q} for s, q in buckets]}
    )
    assert r.status_code == 200, r.text


async def _bike(mrp: Mrp) -> None:
    await mrp.item("BIKE", lead_time_days=1, lot_sizing={"rule": "fixed", "quantity": 50})
    await mrp.item("TUBE", kind="buy", lead_time_days=2)
    await mrp.bom("BIKE", [("TUBE", 2)])
    await mrp.stock("BIKE", 30)
    await _forecast(
        mrp, "BIKE", [(f"2026-11-{d:02d}", 20) for d in (2, 9, 16, 23, 30)] + [("2026-12-07", 20)]
    )
    await _sales_order(
        mrp,
        "SO-1",
        [
            ("BIKE", 25, "2026-11-04"),
            ("BIKE", 10, "2026-11-11"),
            ("BIKE", 30, "2026-11-21"),
        ],  # 21st: a Saturday
    )
    r = await mrp.client.post(
        "/v1/mrp/orders",
        json={
            "kind": "make",
            "sku": "BIKE",
            "quantity": 40,
            "release_date": "2026-11-09",
            "due_date": "2026-11-10",
            "status": "firm",
        },
    )
    assert r.status_code == 201, r.text


def _column(mps: dict[str, Any], name: str) -> list[Any]:
    return [w[name] for w in mps["weeks"]]


async def test_an_mps_through_the_api_matches_the_hand_computed_table_and_answers_promises(mrp: Mrp) -> None:
    await _bike(mrp)
    r = await mrp.client.post(
        "/v1/mrp/mps", json={"sku": "BIKE", "weeks": 6, "start": "2026-11-04", "dtf": 1, "ptf": 2}
    )
    assert r.status_code == 201, r.text
    mps = r.json()
    assert r.headers["location"] == f"/v1/mrp/mps/{mps['id']}"
    assert mps["first_week"] == "2026-11-02"
    assert _column(mps, "zone") == ["frozen", "slushy", "liquid", "liquid", "liquid", "liquid"]
    assert _column(mps, "forecast") == [20] * 6
    # The Saturday order counts on Friday 20th: week of the 16th.
    assert _column(mps, "orders") == [25, 10, 30, 0, 0, 0]
    # Inside the DTF demand = orders, after it max(forecast, orders).
    assert _column(mps, "demand") == [25, 20, 30, 20, 20, 20]
    assert _column(mps, "firm_mps") == [0, 40, 0, 0, 0, 0]
    # PAB 30−25=5, 5+40−20=25, 25−30<0 → lot of 50 → 45, 25, 5, 5−20<0 → 50 → 35.
    assert _column(mps, "planned_mps") == [0, 0, 50, 0, 0, 50]
    assert _column(mps, "pab") == [5, 25, 45, 25, 5, 35]
    # Discrete ATP: 30+0−25, 40−10, 50−(30+0+0), 50.
    assert _column(mps, "atp") == [5, 30, 20, None, None, 50]
    assert _column(mps, "cumulative_atp") == [5, 35, 55, 55, 55, 105]
    assert mps["exceptions"] == [
        {"week": "2026-11-02", "kind": "orders_over_forecast", "quantity": 5},
        {"week": "2026-11-16", "kind": "orders_over_forecast", "quantity": 10},
    ]
    assert (await mrp.client.get(f"/v1/mrp/mps/{mps['id']}")).json()["weeks"] == mps["weeks"]
    listed = (await mrp.client.get("/v1/mrp/mps", params={"sku": "BIKE"})).json()["items"]
    assert [m["id"] for m in listed] == [mps["id"]]

    async def ask(qty: Any, week: str) -> dict[str, Any]:
        answer = await mrp.client.get(f"/v1/mrp/mps/{mps['id']}/promise", params={"qty": qty, "week": week})
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    assert (await ask(5, "2026-11-04"))["promised_week"] == "2026-11-02"
    late = await ask(40, "2026-11-04")
    assert (late["promised_week"], late["on_time"]) == ("2026-11-16", False)
    assert (await ask(200, "2026-11-04"))["promised_week"] is None
    bad = await mrp.client.get(f"/v1/mrp/mps/{mps['id']}/promise", params={"qty": 0})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.qty"
    assert (await mrp.client.get("/v1/mrp/mps/mps_nope")).status_code == 404


async def test_firming_the_mps_creates_firm_orders_that_drive_mrp(mrp: Mrp) -> None:
    await _bike(mrp)
    mps = (
        await mrp.client.post(
            "/v1/mrp/mps", json={"sku": "BIKE", "weeks": 6, "start": "2026-11-02", "dtf": 1, "ptf": 2}
        )
    ).json()
    r = await mrp.client.post(
        f"/v1/mrp/mps/{mps['id']}/firm", json={"weeks": 3}, headers={"Idempotency-Key": "f1"}
    )
    assert r.status_code == 200, r.text
    firmed = r.json()
    [order] = firmed["orders"]
    # Due on the week's first working day, released one working day before (lead time 1).
    assert {k: order[k] for k in ("kind", "sku", "quantity", "status", "release_date", "due_date")} == {
        "kind": "make",
        "sku": "BIKE",
        "quantity": 50,
        "status": "firm",
        "release_date": "2026-11-13",
        "due_date": "2026-11-16",
    }
    assert (order["source_run"], order["source_planned_order"]) == (mps["id"], "2026-11-16")
    assert _column(firmed["mps"], "firmed_order") == [None, None, order["id"], None, None, None]
    # Replayed with its key: the same answer; firming again creates nothing more.
    again = await mrp.client.post(
        f"/v1/mrp/mps/{mps['id']}/firm", json={"weeks": 3}, headers={"Idempotency-Key": "f1"}
    )
    assert again.headers.get("idempotent-replayed") == "true"
    assert (await mrp.client.post(f"/v1/mrp/mps/{mps['id']}/firm", json={"weeks": 3})).json()["orders"] == []
    orders = (await mrp.client.get("/v1/mrp/orders", params={"sku": "BIKE", "status": "firm"})).json()[
        "items"
    ]
    assert sorted(o["quantity"] for o in orders) == [40, 50]
    assert len(await mrp.events("jalon.mrp.order.changed")) == 2  # the 40 by hand, the 50 firmed

    # A new MPS sees the firmed week as firm MPS.
    again_mps = (
        await mrp.client.post(
            "/v1/mrp/mps", json={"sku": "BIKE", "weeks": 6, "start": "2026-11-02", "dtf": 1, "ptf": 2}
        )
    ).json()
    assert _column(again_mps, "firm_mps") == [0, 40, 50, 0, 0, 0]
    assert _column(again_mps, "planned_mps") == [0, 0, 0, 0, 0, 50]

    # MRP: the firm order is a scheduled receipt of BIKE and a parent order of TUBE.
    run = await mrp.run(today="2026-11-02", horizon_days=42)
    assert run["status"] == "succeeded", run
    record = (await mrp.client.get(f"/v1/mrp/runs/{run['id']}/records/BIKE")).json()
    receipts = {row["date"]: row["scheduled_receipts"] for row in record["rows"] if row["scheduled_receipts"]}
    assert receipts["2026-11-16"] == 50
    tube = (await mrp.client.get(f"/v1/mrp/runs/{run['id']}/records/TUBE")).json()
    gross = {row["date"]: row["gross_requirements"] for row in tube["rows"]}
    assert gross["2026-11-13"] == 100
    pegs = [
        p["reference"]
        for po in (
            await mrp.client.get(f"/v1/mrp/runs/{run['id']}/planned-orders", params={"sku": "TUBE"})
        ).json()["items"]
        for p in po["pegging"]
    ]
    assert order["id"] in pegs


async def test_an_mps_of_an_unknown_sku_or_a_period_lot_rule_is_a_422(mrp: Mrp) -> None:
    await mrp.item("P", lot_sizing={"rule": "period", "periods": 3})
    r = await mrp.client.post("/v1/mrp/mps", json={"sku": "NOPE", "weeks": 0, "dtf": -1})
    assert r.status_code == 422
    assert sorted(e["field"] for e in r.json()["errors"]) == ["dtf", "weeks"]
    r = await mrp.client.post("/v1/mrp/mps", json={"sku": "NOPE"})
    assert r.json()["errors"][0]["field"] == "sku"
    r = await mrp.client.post("/v1/mrp/mps", json={"sku": "P"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == "unsupported_lot_sizing"
    assert await mrp.scalar("SELECT count(*) FROM mps_plans") == 0


async def _bikes_family(mrp: Mrp) -> None:
    await mrp.seed(
        "calendar",
        "DAY",
        {"code": "DAY", "weekdays": {d: [["08:00", "09:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}},
    )
    await mrp.seed(
        "work_center",
        "ASSY",
        {"code": "ASSY", "machines": [{"code": "A1"}], "efficiency": 1, "calendar": "DAY"},
    )
    await mrp.seed(
        "work_center",
        "WELD",
        {"code": "WELD", "machines": [{"code": "W1"}, {"code": "W2"}], "efficiency": 0.5, "calendar": "DAY"},
    )
    await mrp.item("B1", family="BIKES")
    await mrp.item("B2", family="BIKES")
    await mrp.item("FRAME")
    await mrp.item("STEEL", kind="buy")
    await mrp.item("OTHER", family="CARS")
    await mrp.bom("B1", [("FRAME", 1)])
    await mrp.bom("FRAME", [("STEEL", 3)])
    for sku, wc, run in (("B1", "ASSY", 6), ("B2", "ASSY", 12), ("FRAME", "WELD", 1.5)):
        await mrp.seed(
            "routing",
            sku,
            {
                "sku": sku,
                "operations": [
                    {"seq": 10, "work_center": wc, "setup_minutes": 0, "run_minutes_per_unit": run}
                ],
            },
        )
    await mrp.stock("B1", 20)
    await mrp.stock("B2", 10)
    await mrp.stock("OTHER", 1000)
    await _forecast(mrp, "B1", [("2026-01-01", 100), ("2026-02-01", 100), ("2026-03-01", 100)])
    await _forecast(mrp, "B2", [("2026-01-01", 50), ("2026-02-01", 150), ("2026-03-01", 50)])
    await _forecast(mrp, "OTHER", [("2026-01-01", 999)])
    # B1's order consumes January's forecast; B2's exceeds February's.
    await _sales_order(mrp, "SO-S1", [("B1", 30, "2026-01-15"), ("B2", 200, "2026-02-10")])


COSTS = {"holding": 1, "backlog": 5, "rate_increase": 2, "rate_decrease": 1}


async def test_sop_level_and_chase_plans_of_a_family_match_the_hand_computed_figures(mrp: Mrp) -> None:
    await _bikes_family(mrp)
    body = {"family": "BIKES", "first_month": "2026-01", "months": 3, "target_stock": 0, "costs": COSTS}
    r = await mrp.client.post("/v1/mrp/sop-plans", json={**body, "strategy": "level"})
    assert r.status_code == 201, r.text
    level = r.json()
    assert r.headers["location"] == f"/v1/mrp/sop-plans/{level['id']}"
    assert level["items"] == ["B1", "B2"]
    assert level["opening_stock"] == 30
    months = level["months"]
    assert [m["month"] for m in months] == ["2026-01-01", "2026-02-01", "2026-03-01"]
    assert [m["working_days"] for m in months] == [22, 20, 22]
    assert [m["orders"] for m in months] == [30, 200, 0]
    assert [m["forecast"] for m in months] == [120, 100, 150]  # 70+50, 100+0, 100+50
    assert [m["demand"] for m in months] == [150, 300, 150]
    # total 600 − 30 = 570 over 64 days: 8.90625/day → 196, 178, and the rest 196.
    assert [m["production"] for m in months] == [196, 178, 196]
    assert [m["ending_stock"] for m in months] == [76, 0, 0]
    assert [m["backlog"] for m in months] == [0, 46, 0]
    assert level["totals"]["production"] == 570

    r = await mrp.client.post("/v1/mrp/sop-plans", json={**body, "strategy": "chase"})
    chase = r.json()
    assert [m["production"] for m in chase["months"]] == [120, 300, 150]
    assert [m["ending_stock"] for m in chase["months"]] == [0, 0, 0]
    assert chase["totals"]["holding_cost"] == 0
    assert chase["totals"]["backlog_cost"] == 0
    # Level: 76 unit-months held + 46 backlogged × 5 = 306 (+ the remainder's rate wobble).
    by_strategy = {c["strategy"]: c for c in chase["comparison"]}
    assert by_strategy["level"]["totals"]["holding_cost"] == 76
    assert by_strategy["level"]["totals"]["backlog_cost"] == 230
    assert by_strategy["level"]["production"] == [196, 178, 196]
    # Chase: rates 120/22 → 300/20 → 150/22: +9.545455 × 2, −8.181818 × 1.
    assert by_strategy["chase"]["totals"]["change_cost"] == 27.272728
    assert chase["cheapest"] == "chase"
    assert next(c["strategy"] for c in chase["comparison"]) == "chase"

    # Rough cut: B1 = 6 ASSY + 1 FRAME × 1.5 / 0.5 WELD; B2 = 12 ASSY; half the demand each.
    rough = {c["work_center"]: c for c in level["rough_cut"]["work_centers"]}
    assert rough["ASSY"]["minutes_per_unit"] == 9
    assert rough["WELD"]["minutes_per_unit"] == 1.5
    january = rough["ASSY"]["months"][0]
    assert (january["load_minutes"], january["capacity_minutes"], january["overloaded"]) == (1764, 1320, True)
    assert rough["WELD"]["months"][1]["capacity_minutes"] == 2400  # 20 days × 60 × 2 machines
    assert {(o["work_center"], o["month"]) for o in level["rough_cut"]["overloads"]} == {
        ("ASSY", "2026-01-01"),
        ("ASSY", "2026-02-01"),
        ("ASSY", "2026-03-01"),
    }
    assert level["rough_cut"]["items_without_routing"] == []

    stored = (await mrp.client.get(f"/v1/mrp/sop-plans/{level['id']}")).json()
    assert stored["months"] == level["months"]
    assert stored["rough_cut"] == level["rough_cut"]
    listed = (await mrp.client.get("/v1/mrp/sop-plans", params={"family": "BIKES", "page_size": 1})).json()
    assert [p["id"] for p in listed["items"]] == [chase["id"]]
    assert listed["next_page_token"]


async def test_a_mixed_plan_fits_the_level_plan_into_each_months_capacity(mrp: Mrp) -> None:
    await _bikes_family(mrp)
    r = await mrp.client.post(
        "/v1/mrp/sop-plans",
        json={
            "family": "BIKES",
            "first_month": "2026-01-15",
            "months": 3,
            "strategy": "mixed",
            "capacity": 190,
            "target_stock": 0,
            "key_work_centers": ["WELD"],
        },
    )
    assert r.status_code == 201, r.text
    plan = r.json()
    # Level 196, 178, 196: January's 6 caught up in February, March's 6 pre-built in February.
    assert [m["production"] for m in plan["months"]] == [190, 190, 190]
    assert plan["totals"]["unmade"] == 0
    assert plan["comparison"] is None
    assert [c["work_center"] for c in plan["rough_cut"]["work_centers"]] == ["WELD"]


async def test_a_bad_sop_request_is_a_422_naming_the_fields(mrp: Mrp) -> None:
    await _bikes_family(mrp)
    r = await mrp.client.post(
        "/v1/mrp/sop-plans",
        json={
            "family": "BIKES",
            "first_month": "2026-01",
            "months": 3,
            "target_stock": 1,
            "target_days": 2,
            "capacity": [1, 2],
        },
    )
    assert r.status_code == 422
    assert sorted(e["field"] for e in r.json()["errors"]) == ["capacity", "target_days"]
    r = await mrp.client.post(
        "/v1/mrp/sop-plans", json={"family": "NONE", "first_month": "2026-01", "months": 3}
    )
    assert r.json()["errors"][0]["code"] == "unknown_family"
    r = await mrp.client.post(
        "/v1/mrp/sop-plans",
        json={"family": "BIKES", "first_month": "2026-01", "months": 3, "key_work_centers": ["NOPE"]},
    )
    assert r.json()["errors"][0]["field"] == "key_work_centers[0]"
    assert await mrp.scalar("SELECT count(*) FROM sop_plans") == 0
