"""Sales orders and forecasts against real PostgreSQL."""

from __future__ import annotations

import pytest

from tests.integration.mrp.conftest import Mrp

pytestmark = pytest.mark.asyncio(loop_scope="session")

ORDER = {
    "number": "SO-1001",
    "customer": "ACME",
    "lines": [
        {"sku": "BIKE", "qty": 20, "due_date": "2026-11-13"},
        {"sku": "BIKE", "qty": "2.5", "due_date": "2026-11-20"},
    ],
}


async def test_a_sales_order_is_booked_once_and_a_replay_answers_the_first_response(mrp: Mrp) -> None:
    await mrp.item("BIKE")
    first = await mrp.client.post("/v1/mrp/sales-orders", json=ORDER, headers={"Idempotency-Key": "so-1"})
    again = await mrp.client.post("/v1/mrp/sales-orders", json=ORDER, headers={"Idempotency-Key": "so-1"})
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["number"] == "SO-1001"
    assert body["status"] == "open"
    assert body["version"] == 1
    assert [(ln["line"], ln["qty"], ln["due_date"]) for ln in body["lines"]] == [
        (1, 20, "2026-11-13"),
        (2, 2.5, "2026-11-20"),
    ]
    assert first.headers["location"] == f"/v1/mrp/sales-orders/{body['id']}"
    assert again.status_code == 201
    assert again.json() == body
    assert again.headers["idempotent-replayed"] == "true"
    assert await mrp.scalar("SELECT count(*) FROM sales_orders") == 1
    got = await mrp.client.get(first.headers["location"])
    assert got.json() == body
    assert got.headers["etag"] == '"1"'
    listed = await mrp.client.get("/v1/mrp/sales-orders", params={"number": "SO-1001", "customer": "ACME"})
    assert [o["id"] for o in listed.json()["items"]] == [body["id"]]
    assert (await mrp.client.get("/v1/mrp/sales-orders", params={"customer": "OTHER"})).json()["items"] == []
    created = await mrp.events("jalon.mrp.sales_order.created")
    assert len(created) == 1
    assert created[0]["data"]["id"] == body["id"]
    assert created[0]["data"]["lines"][1]["qty"] == 2.5


async def test_an_unknown_sku_is_a_422_naming_the_line_and_nothing_is_written(mrp: Mrp) -> None:
    await mrp.item("BIKE")
    body = {**ORDER, "lines": [*ORDER["lines"], {"sku": "NOPE", "qty": 1, "due_date": "2026-11-13"}]}
    r = await mrp.client.post("/v1/mrp/sales-orders", json=body, headers={"Idempotency-Key": "so-2"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["lines[2].sku"]
    assert await mrp.scalar("SELECT count(*) FROM sales_orders") == 0
    assert await mrp.scalar("SELECT count(*) FROM outbox") == 0
    assert await mrp.scalar("SELECT count(*) FROM idempotency_keys") == 0
    bad = await mrp.client.post(
        "/v1/mrp/sales-orders", json={**ORDER, "lines": [{"sku": "BIKE", "qty": 0, "due_date": "x"}]}
    )
    assert {e["field"] for e in bad.json()["errors"]} == {"lines[0].qty", "lines[0].due_date"}


async def test_the_same_number_for_the_same_customer_is_a_409(mrp: Mrp) -> None:
    await mrp.item("BIKE")
    assert (await mrp.client.post("/v1/mrp/sales-orders", json=ORDER)).status_code == 201
    dup = await mrp.client.post("/v1/mrp/sales-orders", json=ORDER)
    assert dup.status_code == 409
    assert dup.json()["existing_id"]
    other = await mrp.client.post("/v1/mrp/sales-orders", json={**ORDER, "customer": "GLOBEX"})
    assert other.status_code == 201


async def test_a_line_changes_under_if_match_and_cancels_line_by_line(mrp: Mrp) -> None:
    await mrp.item("BIKE")
    order = (await mrp.client.post("/v1/mrp/sales-orders", json=ORDER)).json()
    url = f"/v1/mrp/sales-orders/{order['id']}"
    stale = await mrp.client.patch(f"{url}/lines/1", json={"qty": 25}, headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    changed = await mrp.client.patch(
        f"{url}/lines/1", json={"qty": 25, "due_date": "2026-11-16"}, headers={"If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    assert changed.json()["lines"][0]["qty"] == 25
    assert changed.json()["lines"][0]["due_date"] == "2026-11-16"
    one = await mrp.client.post(f"{url}/cancel", json={"line": 2})
    assert one.json()["status"] == "open"
    assert [ln["status"] for ln in one.json()["lines"]] == ["open", "cancelled"]
    assert (await mrp.client.patch(f"{url}/lines/2", json={"qty": 1})).status_code == 409
    whole = await mrp.client.post(f"{url}/cancel")
    assert whole.json()["status"] == "cancelled"
    assert (await mrp.client.post(f"{url}/cancel")).status_code == 409
    assert len(await mrp.events("jalon.mrp.sales_order.changed")) == 2
    assert len(await mrp.events("jalon.mrp.sales_order.cancelled")) == 1
    assert (await mrp.client.get("/v1/mrp/sales-orders/nope")).status_code == 404


async def test_a_forecast_is_replaced_as_a_whole(mrp: Mrp) -> None:
    await mrp.item("BIKE")
    url = "/v1/mrp/forecasts/BIKE"
    put = await mrp.client.put(
        url, json={"buckets": [{"start": "2026-12-01", "qty": 40}, {"start": "2026-11-01", "qty": 30}]}
    )
    assert put.status_code == 200, put.text
    assert put.json()["buckets"] == [{"start": "2026-11-01", "qty": 30}, {"start": "2026-12-01", "qty": 40}]
    await mrp.client.put(url, json={"buckets": [{"start": "2026-11-01", "qty": 10}]})
    assert (await mrp.client.get(url)).json() == {
        "sku": "BIKE",
        "buckets": [{"start": "2026-11-01", "qty": 10}],
    }
    dup = await mrp.client.put(
        url, json={"buckets": [{"start": "2026-11-01", "qty": 1}, {"start": "2026-11-01", "qty": 2}]}
    )
    assert dup.status_code == 422
    assert dup.json()["errors"][0]["field"] == "buckets[1].start"
    unknown = await mrp.client.put("/v1/mrp/forecasts/NOPE", json={"buckets": []})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "path.sku"
