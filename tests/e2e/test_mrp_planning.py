"""S&OP and MPS through the gateway with the real services: master data and stock reach mrp's
replicas by events; a firmed MPS week becomes a firm order of the book."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from shared.runtime.stack import Stack


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


def test_an_mps_is_computed_firmed_into_orders_and_a_family_is_planned_through_the_gateway(
    api: httpx.Client,
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    sku, family = f"E2E-MPS-{tag}", f"FAM-{tag}"
    assert api.put("/v1/masterdata/units/EA", json={"name": "each"}).status_code in (200, 201)
    assert api.put(f"/v1/masterdata/families/{family}", json={"name": family}).status_code in (200, 201)
    r = api.put(
        f"/v1/masterdata/items/{sku}",
        json={
            "sku": sku,
            "name": sku,
            "uom": "EA",
            "kind": "make",
            "family": family,
            "lead_time_days": 2,
            "lot_sizing": {"rule": "fixed", "quantity": 100},
        },
    )
    assert r.status_code in (200, 201), r.text
    receipt = until(
        lambda: api.post(
            "/v1/inventory/movements",
            json={"type": "receipt", "sku": sku, "qty": 40, "unit_cost": 1},
            headers={"Idempotency-Key": f"e2e-mps-{tag}"},
        ),
        lambda r: r.status_code != 422,
    )
    assert receipt.status_code == 201, receipt.text
    so = until(
        lambda: api.post(
            "/v1/mrp/sales-orders",
            json={
                "number": f"SO-{tag}",
                "customer": "E2E",
                "lines": [{"sku": sku, "qty": 60, "due_date": "2027-01-13"}],
            },
            headers={"Idempotency-Key": f"e2e-so-{tag}"},
        ),
        lambda r: r.status_code != 422,
    )
    assert so.status_code == 201, so.text
    # The stock reaches mrp's replica by events: wait until the MPS sees it.
    mps = until(
        lambda: api.post("/v1/mrp/mps", json={"sku": sku, "weeks": 4, "start": "2027-01-04"}),
        lambda r: r.status_code == 201 and r.json()["on_hand"] == 40,
    )
    assert mps.status_code == 201, mps.text
    table = mps.json()
    assert [w["orders"] for w in table["weeks"]] == [0, 60, 0, 0]
    assert [w["planned_mps"] for w in table["weeks"]] == [0, 100, 0, 0]
    assert [w["pab"] for w in table["weeks"]] == [40, 80, 80, 80]

    firmed = api.post(f"/v1/mrp/mps/{table['id']}/firm", json={"through": "2027-01-17"})
    assert firmed.status_code == 200, firmed.text
    [order] = firmed.json()["orders"]
    assert (order["due_date"], order["release_date"], order["quantity"]) == ("2027-01-11", "2027-01-07", 100)
    assert api.get(f"/v1/mrp/orders/{order['id']}").json()["status"] == "firm"
    promise = api.get(f"/v1/mrp/mps/{table['id']}/promise", params={"qty": 50, "week": "2027-01-04"}).json()
    assert promise["promised_week"] == "2027-01-11"

    plan = api.post(
        "/v1/mrp/sop-plans",
        json={
            "family": family,
            "first_month": "2027-01",
            "months": 2,
            "strategy": "chase",
            "target_stock": 0,
        },
    )
    assert plan.status_code == 201, plan.text
    assert [m["demand"] for m in plan.json()["months"]] == [60, 0]
    assert [m["production"] for m in plan.json()["months"]] == [20, 0]
    assert api.get(plan.headers["location"]).json()["id"] == plan.json()["id"]
