"""MRP through the gateway with the real services: demand → run → planned orders; release of a
make order checked against inventory's real balances (shortage, then reservation)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from shared.runtime.stack import Stack

TODAY = "2026-11-02"  # a Monday


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=stack.gateway_url, headers={"Authorization": f"Bearer {stack.api_key()}"}, timeout=30
    ) as client:
        yield client


def until(
    call: Callable[[], httpx.Response], done: Callable[[httpx.Response], bool], within_s: float = 30
) -> httpx.Response:
    deadline = time.monotonic() + within_s
    while True:
        r = call()
        if done(r) or time.monotonic() > deadline:
            return r
        time.sleep(0.3)


def plant(api: httpx.Client) -> tuple[str, str]:
    tag = uuid.uuid4().hex[:6].upper()
    bike, tube = f"E2E-BIKE-{tag}", f"E2E-TUBE-{tag}"
    unit = api.put("/v1/masterdata/units/EA", json={"name": "each"})
    assert unit.status_code in (200, 201), unit.text
    for sku, kind, lead in ((tube, "buy", 3), (bike, "make", 1)):
        r = api.put(
            f"/v1/masterdata/items/{sku}",
            json={
                "sku": sku,
                "name": sku,
                "uom": "EA",
                "kind": kind,
                "lead_time_days": lead,
                "standard_cost": 1,
            },
        )
        assert r.status_code in (200, 201), r.text
    r = api.put(f"/v1/masterdata/boms/{bike}", json={"lines": [{"component": tube, "qty_per": 2}]})
    assert r.status_code in (200, 201), r.text
    return bike, tube


def test_a_sales_order_then_a_run_gives_planned_orders_through_the_gateway(api: httpx.Client) -> None:
    bike, tube = plant(api)
    body = {
        "number": f"SO-{bike}",
        "customer": "E2E",
        "lines": [{"sku": bike, "qty": 8, "due_date": "2026-11-13"}],
    }
    # The item reaches mrp's replica through events: retry (with the same key) while it is unknown.
    so = until(
        lambda: api.post("/v1/mrp/sales-orders", json=body, headers={"Idempotency-Key": f"e2e-{bike}"}),
        lambda r: r.status_code != 422,
    )
    assert so.status_code == 201, so.text

    # The BOM line reaches the replica after the items (replica seq order): wait for it by running.
    def run() -> dict[str, Any]:
        started = api.post("/v1/mrp/runs", json={"today": TODAY, "horizon_days": 28})
        assert started.status_code == 202, started.text
        done = until(
            lambda: api.get(started.headers["location"]),
            lambda r: r.json()["status"] in ("succeeded", "failed"),
        )
        result: dict[str, Any] = done.json()
        assert result["status"] == "succeeded", result
        return result

    result = run()
    planned = api.get(f"/v1/mrp/runs/{result['id']}/planned-orders", params={"sku": tube}).json()["items"]
    if not planned:  # the BOM had not arrived yet
        time.sleep(1)
        result = run()
        planned = api.get(f"/v1/mrp/runs/{result['id']}/planned-orders", params={"sku": tube}).json()["items"]
    bikes = api.get(f"/v1/mrp/runs/{result['id']}/planned-orders", params={"sku": bike}).json()["items"]
    assert [(p["quantity"], p["release_date"], p["due_date"]) for p in bikes] == [
        (8, "2026-11-12", "2026-11-13")
    ]
    assert bikes[0]["pegging"][0]["reference"] == so.json()["id"]
    assert [(p["quantity"], p["release_date"], p["due_date"]) for p in planned] == [
        (16, "2026-11-09", "2026-11-12")
    ]
    record = api.get(f"/v1/mrp/runs/{result['id']}/records/{bike}").json()
    assert [r["gross_requirements"] for r in record["rows"] if r["date"] == "2026-11-13"] == [8]
    assert result["timings"]["total"] > 0


def test_releasing_a_make_order_checks_inventory_and_inventory_reserves(api: httpx.Client) -> None:
    bike, tube = plant(api)
    order = until(
        lambda: api.post(
            "/v1/mrp/orders",
            json={
                "kind": "make",
                "sku": bike,
                "quantity": 5,
                "release_date": TODAY,
                "due_date": "2026-11-04",
            },
        ),
        lambda r: r.status_code != 422,
    )
    assert order.status_code == 201, order.text
    url = f"/v1/mrp/orders/{order.json()['id']}/release"
    # Wait for the BOM in mrp's replica: the release names the tube once it is known.
    short = until(lambda: api.post(url), lambda r: r.status_code == 409)
    assert short.status_code == 409, short.text
    assert short.json()["type"] == "component-shortage"
    assert short.json()["missing"] == [{"sku": tube, "required": 10, "available": 0, "short": 10}]

    receipt = until(
        lambda: api.post(
            "/v1/inventory/movements",
            json={"type": "receipt", "sku": tube, "qty": 12, "unit_cost": "1.5"},
            headers={"Idempotency-Key": f"e2e-receipt-{tube}"},
        ),
        lambda r: r.status_code != 422,
    )
    assert receipt.status_code == 201, receipt.text
    released = api.post(url)
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "released"
    assert released.json()["components"] == [{"sku": tube, "qty": 10}]
    reserved = until(
        lambda: api.get("/v1/inventory/balances", params={"sku": tube}),
        lambda r: sum(float(b["reserved"]) for b in r.json()["items"]) == 10,
    )
    assert sum(float(b["reserved"]) for b in reserved.json()["items"]) == 10
    assert api.post(url).json()["current_status"] == "released"
