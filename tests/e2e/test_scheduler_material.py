"""A plant schedule of the order book waits for the components: the real six services, a solve
worker, an order whose stock went missing after its release and a purchase order due in 5 days."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx
import pytest

from tests.e2e.test_capacity_firm import api, until  # noqa: F401  (the api fixture)
from tests.e2e.test_scheduler_solves import wait_for, worker  # noqa: F401  (the worker fixture)

AS_OF = "2026-11-02T06:00:00+00:00"  # a Monday
PO_DUE = "2026-11-07"  # 5 days later
EVERY_DAY = {d: [["06:00", "22:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.mark.usefixtures("worker")
def test_a_short_component_with_a_purchase_order_due_in_5_days_holds_the_first_operation_back(
    api: httpx.Client,  # noqa: F811  (the imported fixture)
) -> None:
    tag = uuid.uuid4().hex[:6].upper()
    fg, rm, wc, cal = f"MAT-FG-{tag}", f"MAT-RM-{tag}", f"MATWC{tag}", f"MATCAL{tag}"
    imported = api.post(
        "/v1/masterdata/imports",
        json={
            "units": [{"code": "EA", "name": "each"}],
            "calendars": [{"code": cal, "weekdays": EVERY_DAY}],
            "work_centers": [
                {"code": wc, "name": "Cell", "machines": [{"code": f"{wc}-1"}], "calendar": cal}
            ],
            "items": [
                {"sku": fg, "name": fg, "uom": "EA", "kind": "make", "standard_cost": 10},
                {"sku": rm, "name": rm, "uom": "EA", "kind": "buy", "standard_cost": 1},
            ],
            "boms": [{"parent": fg, "lines": [{"component": rm, "qty_per": 2}]}],
            "routings": [
                {
                    "sku": fg,
                    "operations": [
                        {"seq": 10, "work_center": wc, "setup_minutes": 10, "run_minutes_per_unit": 6},
                        {"seq": 20, "work_center": wc, "run_minutes_per_unit": 3},
                    ],
                }
            ],
        },
        headers={"Idempotency-Key": f"mat-e2e-{tag}"},
    )
    assert imported.status_code == 201, imported.text

    # A make order of 5 (10 RM), released with the stock there: inventory reserves it.
    made = until(
        lambda: api.post(
            "/v1/mrp/orders",
            json={
                "kind": "make",
                "sku": fg,
                "quantity": 5,
                "release_date": "2026-11-02",
                "due_date": "2026-11-20",
            },
        ),
        lambda r: r.status_code != 422,
    )
    assert made.status_code == 201, made.text
    mo = made.json()["id"]
    release = f"/v1/mrp/orders/{mo}/release"
    short = until(lambda: api.post(release), lambda r: r.status_code == 409)  # the BOM is in mrp's replica
    assert short.json()["type"] == "component-shortage", short.text
    receipt = until(
        lambda: api.post(
            "/v1/inventory/movements",
            json={"type": "receipt", "sku": rm, "qty": 10, "unit_cost": "1"},
            headers={"Idempotency-Key": f"mat-receipt-{tag}"},
        ),
        lambda r: r.status_code != 422,
    )
    assert receipt.status_code == 201, receipt.text
    released = api.post(release)
    assert released.status_code == 200, released.text
    assert released.json()["components"] == [{"sku": rm, "qty": 10}]
    held = until(
        lambda: api.get("/v1/inventory/reservations", params={"order": mo}),
        lambda r: sum(float(x["held"]) for x in r.json()["items"]) == 10,
    )
    (reservation,) = held.json()["items"]

    # Then the stock goes: the reservation is released and the steel scrapped (damaged).
    freed = api.delete(f"/v1/inventory/reservations/{reservation['id']}")
    assert freed.status_code == 200, freed.text
    scrapped = api.post(
        "/v1/inventory/movements",
        json={"type": "scrap", "sku": rm, "qty": 10, "reason": "damaged in the store"},
        headers={"Idempotency-Key": f"mat-scrap-{tag}"},
    )
    assert scrapped.status_code == 201, scrapped.text
    # The only supply: a purchase order due in 5 days.
    po = api.post(
        "/v1/mrp/orders",
        json={"kind": "buy", "sku": rm, "quantity": 40, "release_date": "2026-11-02", "due_date": PO_DUE},
    )
    assert po.status_code == 201, po.text

    resync = api.post("/v1/scheduler/replicas/masterdata/resync")
    assert resync.status_code == 200, resync.text
    created = api.post(
        "/v1/scheduler/schedules",
        json={"objective": "weighted_tardiness", "time_limit_s": 3, "as_of": AS_OF, "horizon_days": 28},
        headers={"Idempotency-Key": f"mat-schedule-{tag}"},
    )
    assert created.status_code == 202, created.text
    url = created.headers["location"]
    schedule = wait_for(api, url, "succeeded", "failed", within_s=120)
    assert schedule["status"] == "succeeded", (schedule["error"], schedule["skipped"], schedule["material"])

    (material,) = [m for m in schedule["material"] if m["order"] == mo]
    assert (material["available_at"], material["source"], material["reference"], material["component"]) == (
        f"{PO_DUE}T00:00:00Z",
        "purchase_order",
        po.json()["id"],
        rm,
    )
    (component,) = material["components"]
    assert [(d["source"], d["qty"], d["reference"]) for d in component["from"]] == [
        ("purchase_order", 10.0, po.json()["id"])
    ]
    ops = [
        a
        for a in api.get(f"{url}/assignments", params={"page_size": 1000}).json()["items"]
        if a["order"] == mo
    ]
    assert sorted(a["operation"] for a in ops) == ["10", "20"]
    first = min(datetime.fromisoformat(a["start"]) for a in ops)
    assert first >= datetime.fromisoformat(f"{PO_DUE}T00:00:00+00:00")

    chart = api.get(f"{url}/gantt.json").json()
    assert {m["order"]: (m["source"], m["available_at"]) for m in chart["material"]}[mo] == (
        "purchase_order",
        f"{PO_DUE}T00:00:00Z",
    )
