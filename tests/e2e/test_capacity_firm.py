"""Capacity and mrp's order book through the gateway, with the real services: an MRP run, a
capacity analysis of it, the run's planned orders firmed through capacity (they appear firm in
mrp's book), and orders created in mrp reaching capacity's order replica through events."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from shared.runtime.stack import Stack

TODAY = "2026-11-02"  # a Monday
SHIFT = [["06:00", "22:00"]]


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=stack.gateway_url, headers={"Authorization": f"Bearer {stack.api_key()}"}, timeout=60
    ) as client:
        yield client


def until(
    call: Callable[[], httpx.Response], done: Callable[[httpx.Response], bool], within_s: float = 60
) -> httpx.Response:
    deadline = time.monotonic() + within_s
    while True:
        r = call()
        if done(r) or time.monotonic() > deadline:
            return r
        time.sleep(0.3)


def finished(api: httpx.Client, url: str) -> dict[str, Any]:
    r = until(lambda: api.get(url), lambda r: r.json()["status"] in ("succeeded", "failed"))
    body: dict[str, Any] = r.json()
    assert body["status"] == "succeeded", body
    return body


def plant(api: httpx.Client) -> tuple[str, str]:
    """A bike made on one work center with room to spare (16 h a day, every day)."""
    tag = uuid.uuid4().hex[:6].upper()
    bike, wc, cal = f"FIRM-BIKE-{tag}", f"ASSY{tag}", f"CAL{tag}"
    imported = api.post(
        "/v1/masterdata/imports",
        json={
            "units": [{"code": "EA", "name": "each"}],
            "calendars": [
                {
                    "code": cal,
                    "weekdays": dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), SHIFT),
                }
            ],
            "work_centers": [
                {"code": wc, "name": "Assembly", "machines": [{"code": f"{wc}-1"}], "calendar": cal}
            ],
            "items": [
                {"sku": bike, "name": bike, "uom": "EA", "kind": "make", "lead_time_days": 1},
            ],
            "routings": [
                {
                    "sku": bike,
                    "operations": [
                        {"seq": 10, "work_center": wc, "setup_minutes": 10, "run_minutes_per_unit": 5},
                    ],
                }
            ],
        },
        headers={"Idempotency-Key": f"firm-e2e-{tag}"},
    )
    assert imported.status_code == 201, imported.text
    resync = api.post("/v1/capacity/replicas/masterdata/resync")
    assert resync.status_code == 200, resync.text
    return bike, wc


def mrp_run(api: httpx.Client, bike: str) -> tuple[str, list[dict[str, Any]]]:
    body = {
        "number": f"SO-{bike}",
        "customer": "E2E",
        "lines": [{"sku": bike, "qty": 8, "due_date": "2026-11-13"}],
    }
    # The item reaches mrp's replica through events: retry (with the same key) while it is unknown.
    so = until(
        lambda: api.post("/v1/mrp/sales-orders", json=body, headers={"Idempotency-Key": f"so-{bike}"}),
        lambda r: r.status_code != 422,
    )
    assert so.status_code == 201, so.text
    started = api.post("/v1/mrp/runs", json={"today": TODAY, "horizon_days": 28})
    assert started.status_code == 202, started.text
    run = finished(api, started.headers["location"])
    planned = api.get(f"/v1/mrp/runs/{run['id']}/planned-orders", params={"sku": bike}).json()["items"]
    assert [p["quantity"] for p in planned] == [8]
    return str(run["id"]), planned


def test_an_analysed_mrp_run_is_firmed_through_capacity_into_mrps_order_book(api: httpx.Client) -> None:
    bike, wc = plant(api)
    run_id, planned = mrp_run(api, bike)
    mine = [p["id"] for p in planned]
    assert any(ch in mine[0] for ch in "#@")  # ids that need URL-encoding

    created = api.post(
        "/v1/capacity/analyses",
        json={"source": {"mrp_run": run_id}, "from": TODAY, "to": "2026-11-30", "bucket": "day"},
    )
    assert created.status_code == 202, created.text
    analysis = finished(api, created.headers["location"])
    assert analysis["links"]["firm"] == f"{created.headers['location']}/firm"
    ops = api.get(f"{created.headers['location']}/operations", params={"order": mine[0]}).json()["items"]
    assert [(o["work_center"], o["minutes"]) for o in ops] == [(wc, 50)]

    # The run holds every sku of the session's plant: other tests' orders may overload theirs.
    firm_url = analysis["links"]["firm"]
    key = {"Idempotency-Key": f"firm-{bike}"}
    body: dict[str, Any] = {"orders": mine}
    if analysis["counts"]["overloads"]:
        refused = api.post(firm_url, json=body, headers=key)
        assert refused.status_code == 409, refused.text
        assert refused.json()["overloads"] == analysis["counts"]["overloads"]
        body["force"] = True
    firmed = api.post(firm_url, json=body, headers=key)
    assert firmed.status_code == 200, firmed.text
    result = firmed.json()
    assert (result["mrp_run"], result["firmed"], result["already_firmed"], result["failed"]) == (
        run_id,
        1,
        0,
        0,
    )
    (outcome,) = result["orders"]
    assert (outcome["planned_order"], outcome["outcome"]) == (mine[0], "firmed")

    replayed = api.post(firm_url, json=body, headers=key)
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json() == result
    again = api.post(firm_url, json=body, headers={"Idempotency-Key": f"firm-again-{bike}"})
    assert again.status_code == 200, again.text
    (second,) = again.json()["orders"]
    assert (second["outcome"], second["order"], second["status_code"]) == (
        "already_firmed",
        outcome["order"],
        409,
    )

    book = api.get("/v1/mrp/orders", params={"status": "firm", "sku": bike}).json()["items"]
    assert [(o["id"], o["source_run"], o["source_planned_order"], o["quantity"]) for o in book] == [
        (outcome["order"], run_id, mine[0], 8)
    ]

    # The firm order reaches capacity's replica through mrp's order.changed event.
    held = until(lambda: api.get(f"/v1/capacity/orders/{outcome['order']}"), lambda r: r.status_code == 200)
    assert held.status_code == 200, held.text
    assert (held.json()["status"], held.json()["sku"], held.json()["version"]) == ("firm", bike, 1)


def test_orders_created_in_mrp_reach_the_replica_and_an_analysis_of_the_book(api: httpx.Client) -> None:
    bike, wc = plant(api)
    created = until(
        lambda: api.post(
            "/v1/mrp/orders",
            json={
                "kind": "make",
                "sku": bike,
                "quantity": 12,
                "release_date": "2026-11-03",
                "due_date": "2026-11-05",
                "status": "firm",
            },
            headers={"Idempotency-Key": f"order-{bike}"},
        ),
        lambda r: r.status_code != 422,  # the item reaches mrp's replica through events
    )
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    held = until(lambda: api.get(f"/v1/capacity/orders/{order_id}"), lambda r: r.status_code == 200)
    assert held.status_code == 200, held.text
    assert (held.json()["status"], held.json()["quantity"]) == ("firm", 12)

    analysis = api.post(
        "/v1/capacity/analyses",
        json={"source": {"orders": "firm+released"}, "from": TODAY, "to": "2026-11-30"},
    )
    assert analysis.status_code == 202, analysis.text
    result = finished(api, analysis.headers["location"])
    replica = api.get("/v1/capacity/orders", params={"page_size": 1}).json()["replica"]
    assert 0 < result["source"]["order_replica"]["position"] <= replica["position"]
    ops = api.get(f"{analysis.headers['location']}/operations", params={"order": order_id}).json()["items"]
    assert [(o["work_center"], o["minutes"]) for o in ops] == [(wc, 70)]
    assert result["links"]["firm"] is None

    # Cancelled in mrp: the replica follows; a resync on demand reads the whole book again.
    cancel = api.post(f"/v1/mrp/orders/{order_id}/cancel")
    assert cancel.status_code == 200, cancel.text
    gone = until(
        lambda: api.get(f"/v1/capacity/orders/{order_id}"), lambda r: r.json()["status"] == "cancelled"
    )
    assert (gone.json()["status"], gone.json()["cancelled"], gone.json()["version"]) == ("cancelled", True, 2)
    resync = api.post("/v1/capacity/orders/resync")
    assert resync.status_code == 200, resync.text
    assert resync.json()["synced_orders"] >= 1
    assert resync.json()["synced_position"] == resync.json()["position"]
    after = api.get(f"/v1/capacity/orders/{order_id}").json()
    assert (after["status"], after["cancelled"], after["version"]) == ("cancelled", True, 2)
