"""Capacity through the gateway: master data imported into masterdata, replicated into capacity,
then an analysis of inline orders, its load, overloads, proposals, a what-if and a chart."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.runtime.stack import Stack

TWO_SHIFTS = [["06:00", "14:00"], ["14:00", "22:00"]]


@pytest.fixture(scope="module")
def admin(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=stack.gateway_url, headers={"Authorization": f"Bearer {stack.api_key()}"}, timeout=30
    ) as client:
        yield client


def wait_for(client: httpx.Client, url: str, within_s: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + within_s
    while True:
        r = client.get(url)
        assert r.status_code == 200, r.text
        if r.json()["status"] in ("succeeded", "failed"):
            return dict(r.json())
        assert time.monotonic() < deadline, r.json()
        time.sleep(0.2)


def test_an_analysis_of_inline_orders_through_the_gateway(admin: httpx.Client) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    wc, cal, sku = f"MILL{tag}", f"2X8{tag}", f"FRAME{tag}"
    imported = admin.post(
        "/v1/masterdata/imports",
        json={
            "units": [{"code": "pc", "name": "piece"}],
            "calendars": [
                {
                    "code": cal,
                    "weekdays": dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), TWO_SHIFTS),
                    "holidays": ["2026-03-04"],
                    "exceptions": [
                        {
                            "start": "2026-03-05T10:00:00Z",
                            "end": "2026-03-05T12:00:00Z",
                            "kind": "maintenance",
                        }
                    ],
                }
            ],
            "work_centers": [
                {
                    "code": wc,
                    "name": "Milling",
                    "machines": [{"code": f"{wc}-1"}],
                    "efficiency": 0.8,
                    "calendar": cal,
                    "hourly_cost": 60,
                }
            ],
            "items": [{"sku": sku, "name": "Frame", "uom": "pc", "kind": "make"}],
            "routings": [
                {
                    "sku": sku,
                    "operations": [
                        {"seq": 10, "work_center": wc, "setup_minutes": 60, "run_minutes_per_unit": 9.6},
                        {"seq": 20, "work_center": wc, "setup_minutes": 20, "run_minutes_per_unit": 2.4},
                    ],
                }
            ],
        },
        headers={"Idempotency-Key": f"capacity-e2e-{tag}"},
    )
    assert imported.status_code == 201, imported.text
    resync = admin.post("/v1/capacity/replicas/masterdata/resync")
    assert resync.status_code == 200, resync.text
    assert resync.json()["records"] >= 5

    orders = [
        {
            "id": f"O1{tag}",
            "sku": sku,
            "quantity": 100,
            "release_date": "2026-03-02",
            "due_date": "2026-03-06",
        },
        {
            "id": f"O2{tag}",
            "sku": sku,
            "quantity": 50,
            "release_date": "2026-03-02",
            "due_date": "2026-03-06",
        },
    ]
    created = admin.post(
        "/v1/capacity/analyses",
        json={
            "source": {"orders": orders},
            "direction": "backward",
            "bucket": "day",
            "from": "2026-03-02",
            "to": "2026-03-06",
        },
        headers={"Idempotency-Key": f"analysis-{tag}"},
    )
    assert created.status_code == 202, created.text
    location = created.headers["location"]
    again = admin.post(
        "/v1/capacity/analyses",
        json={
            "source": {"orders": orders},
            "direction": "backward",
            "bucket": "day",
            "from": "2026-03-02",
            "to": "2026-03-06",
        },
        headers={"Idempotency-Key": f"analysis-{tag}"},
    )
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == created.json()["id"]

    analysis = wait_for(admin, location)
    assert analysis["status"] == "succeeded", analysis
    assert analysis["warnings"] == []
    assert analysis["bottleneck"]["work_center"] == wc

    load = admin.get(f"{location}/load", params={"work_center": wc}).json()["items"]
    assert [(c["bucket_start"], round(c["load_minutes"]), c["capacity_minutes"]) for c in load] == [
        ("2026-03-02", 0, 960),
        ("2026-03-03", 0, 960),
        ("2026-03-04", 0, 0),
        ("2026-03-05", 640, 840),
        ("2026-03-06", 1810, 960),
    ]
    (overload,) = admin.get(f"{location}/overloads").json()["items"]
    assert round(overload["gap_minutes"]) == 850
    proposals = admin.get(f"{location}/proposals").json()["items"]
    assert proposals[0]["kind"] == "move"
    assert any(p["kind"] == "overtime" and round(p["cost"]) == 720 for p in proposals)

    applied = admin.post(proposals[0]["apply_url"])
    assert applied.status_code == 202, applied.text
    what_if = wait_for(admin, applied.headers["location"])
    assert what_if["parent"] == analysis["id"]
    assert what_if["counts"]["overloads"] == 1

    chart = admin.get(f"{location}/load-chart/{wc}.svg")
    assert chart.status_code == 200
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert chart.text.lstrip().startswith(("<svg", "<?xml"))
