"""Physical counts and accuracy, cycle counts due by ABC class, ABC, reorder parameters, KPIs."""

from __future__ import annotations

import pytest

from tests.integration.inventory.conftest import Inventory

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_posting_a_count_books_the_differences_and_gives_the_accuracy(inv: Inventory) -> None:
    for sku in ("A", "B", "C"):
        await inv.item(sku)
    await inv.client.put("/v1/inventory/locations/B-01", json={"name": "Bin 1"})
    await inv.ok(type="receipt", sku="A", qty=10, unit_cost=1)
    await inv.ok(type="receipt", sku="B", qty=5, unit_cost=1)
    await inv.ok(type="receipt", sku="C", qty=3, unit_cost=1, location="B-01")
    opened = await inv.client.post("/v1/inventory/counts", json={"kind": "full", "location": "MAIN"})
    assert opened.status_code == 201, opened.text
    count = opened.json()
    assert [(ln["sku"], ln["expected"], ln["counted"]) for ln in count["lines"]] == [
        ("A", 10, None),
        ("B", 5, None),
    ]
    lines = await inv.client.post(
        f"/v1/inventory/counts/{count['id']}/lines",
        json={
            "lines": [
                {"sku": "A", "counted": 9},
                {"sku": "B", "counted": 5},
                {"sku": "C", "location": "MAIN", "counted": 2},
            ]
        },
    )
    assert lines.status_code == 200, lines.text
    assert [ln["difference"] for ln in lines.json()["lines"]] == [-1, 0, 2]
    bad = await inv.client.post(
        f"/v1/inventory/counts/{count['id']}/lines", json={"lines": [{"sku": "A", "counted": -1}]}
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "lines[0].counted"
    posted = await inv.client.post(f"/v1/inventory/counts/{count['id']}/post", json={"tolerance_qty": 1})
    assert posted.status_code == 200, posted.text
    body = posted.json()
    assert body["status"] == "posted"
    assert len(body["adjustments"]) == 2
    assert body["accuracy"] == {"lines": 3, "within": 2, "share": 0.6667}
    assert [(b["sku"], b["location"], b["on_hand"]) for b in await inv.balances()] == [
        ("A", "MAIN", 9),
        ("B", "MAIN", 5),
        ("C", "B-01", 3),
        ("C", "MAIN", 2),
    ]
    adjustments = await inv.client.get("/v1/inventory/movements", params={"type": "adjustment"})
    assert [(m["sku"], m["qty"], m["reason"], m["reference"]) for m in adjustments.json()["items"]] == [
        ("A", -1, "full count", count["id"]),
        ("C", 2, "full count", count["id"]),
    ]
    again = await inv.client.post(f"/v1/inventory/counts/{count['id']}/post")
    assert again.status_code == 409
    assert (await inv.client.get(f"/v1/inventory/counts/{count['id']}")).json()["accuracy"]["share"] == 0.6667


async def abc_history(inv: Inventory) -> None:
    """X issues 80 x 1.00, Y 15 x 1.00, Z 5 x 1.00 in January 2025; W in stock, never issued."""
    for sku in ("X", "Y", "Z", "W"):
        await inv.item(sku, standard_cost="1.00")
        await inv.ok(type="receipt", sku=sku, qty=100, unit_cost=1, at="2025-01-02T08:00:00Z")
    for sku, qty in (("X", 80), ("Y", 15), ("Z", 5)):
        await inv.ok(type="issue", sku=sku, qty=qty, at="2025-01-20T08:00:00Z")


async def test_abc_classes_by_consumption_value(inv: Inventory) -> None:
    await abc_history(inv)
    r = await inv.client.get("/v1/inventory/abc", params={"from": "2025-01-01", "to": "2025-12-31"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["thresholds"] == {"a": 0.8, "b": 0.15, "c": 0.05}
    assert body["total_value"] == 100
    assert [(i["sku"], i["class"], i["value"], i["cumulative_share"]) for i in body["items"]] == [
        ("X", "A", 80, 0.8),
        ("Y", "B", 15, 0.95),
        ("Z", "C", 5, 1),
        ("W", "C", 0, 1),
    ]
    narrow = await inv.client.get(
        "/v1/inventory/abc", params={"from": "2025-01-01", "to": "2025-12-31", "a": "0.5", "b": "0.2"}
    )
    assert [i["class"] for i in narrow.json()["items"]] == ["A", "C", "C", "C"]
    bad = await inv.client.get("/v1/inventory/abc", params={"a": "0.9", "b": "0.2"})
    assert bad.status_code == 422


async def test_cycle_counts_fall_due_by_abc_class(inv: Inventory) -> None:
    await abc_history(inv)
    due = await inv.client.get("/v1/inventory/counts/due", params={"on": "2025-02-01"})
    assert [(d["sku"], d["class"], d["due_on"]) for d in due.json()["items"]] == [
        ("W", "C", None),
        ("X", "A", None),
        ("Y", "B", None),
        ("Z", "C", None),
    ]
    cycle = await inv.client.post("/v1/inventory/counts", json={"kind": "cycle", "skus": ["X", "Y"]})
    count_id = cycle.json()["id"]
    await inv.client.post(
        f"/v1/inventory/counts/{count_id}/lines",
        json={"lines": [{"sku": "X", "counted": 20}, {"sku": "Y", "counted": 85}]},
    )
    await inv.client.post(f"/v1/inventory/counts/{count_id}/post")
    today = await inv.scalar("SELECT posted_at::date FROM counts WHERE id = :i", i=count_id)
    later = today.replace(day=1)
    month = later.month % 12 + 1
    next_month = later.replace(month=month, year=later.year + (later.month == 12))
    due = await inv.client.get("/v1/inventory/counts/due", params={"on": str(next_month.replace(day=28))})
    skus = [d["sku"] for d in due.json()["items"]]
    assert "Y" not in skus  # class B: a quarter
    assert {"W", "Z"} <= set(skus)


async def test_reorder_parameters_from_the_issue_history(inv: Inventory) -> None:
    await inv.item("R", lead_time_days=14)
    await inv.ok(type="receipt", sku="R", qty=1000, unit_cost=1, at="2025-01-01T08:00:00Z")
    for day, qty in (("2025-01-02", 10), ("2025-01-09", 20), ("2025-01-16", 30), ("2025-01-23", 20)):
        await inv.ok(type="issue", sku="R", qty=qty, at=f"{day}T08:00:00Z")
    r = await inv.client.get(
        "/v1/inventory/reorder-parameters/R",
        params={"service_level": "0.95", "period_days": 7, "periods": 4, "on": "2025-01-29"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["demand"] == [10, 20, 30, 20]
    assert (body["mean_demand"], body["sigma"], body["z"]) == (20, 8.164966, 1.6449)
    assert body["lead_time_days"] == 14
    assert (body["safety_stock"], body["reorder_point"]) == (19, 59)  # 1.6449 x 8.165 x sqrt(2) = 18.99
    unknown = await inv.client.get("/v1/inventory/reorder-parameters/NOPE")
    assert unknown.status_code == 422


async def test_kpis_give_turnover_coverage_and_dormant_stock(inv: Inventory) -> None:
    await inv.item("K")
    await inv.item("OLD")
    await inv.ok(type="receipt", sku="OLD", qty=5, unit_cost=1, at="2024-01-01T08:00:00Z")
    await inv.ok(type="receipt", sku="K", qty=100, unit_cost=2, at="2025-01-01T08:00:00Z")
    await inv.ok(type="issue", sku="K", qty=50, at="2025-01-16T08:00:00Z")
    r = await inv.client.get("/v1/inventory/kpis", params={"from": "2025-01-01", "to": "2025-01-31"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["cost_of_goods_issued"] == 100
    # snapshots: before Jan 1 = 5, end of Jan = 105 -> average 55; turnover 100 / 55
    assert body["average_stock_value"] == 55
    assert body["turnover"] == 1.82
    k = next(i for i in body["items"] if i["sku"] == "K")
    assert (k["on_hand"], k["issued"], k["days_of_coverage"]) == (50, 50, 31)
    assert [o["sku"] for o in body["obsolete"]] == ["OLD"]
