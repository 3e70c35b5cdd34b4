"""Rough-cut capacity check: bills of resources from routings, capacity per bucket from calendars.

FRAME (lot 50, fixed): ((60 / 50 + 9.6) + (20 / 50 + 2.4)) / 0.8 = 13.5 + 3.5 = 17 min per unit on
MILL. FORK (no lot sizing, lot 1): 3 / 0.8 = 3.75 min per unit. Family BIKES = (17 + 3.75) / 2.
Week of 03-02: 960 × 3 + 840 (maintenance Thursday) = 3720 min (Wednesday a holiday); week of
03-09: 4800 min.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.capacity.conftest import Capacity
from tests.integration.capacity.test_analyses import seed_plant

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_plan_by_sku_and_family_is_checked_week_by_week(capacity: Capacity) -> None:
    await seed_plant(capacity)
    await capacity.record(
        "item", "FORK", {"sku": "FORK", "name": "Fork", "uom": "pc", "kind": "make", "family": "BIKES"}
    )
    await capacity.record(
        "routing",
        "FORK",
        {
            "sku": "FORK",
            "operations": [{"seq": 10, "work_center": "MILL", "setup_minutes": 0, "run_minutes_per_unit": 3}],
        },
    )
    body = {
        "plan": [
            {"sku": "FRAME", "bucket_start": "2026-03-02", "qty": 100},
            {"family": "BIKES", "bucket_start": "2026-03-09", "qty": "400"},
            {"sku": "FRAME", "bucket_start": "2026-03-11", "qty": 100},
            {"sku": "NOPE", "bucket_start": "2026-03-11", "qty": 1},
        ],
        "bucket": "week",
        "from": "2026-03-02",
        "to": "2026-03-15",
    }
    r = await capacity.client.post("/v1/capacity/rough-cut", json=body)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["bill_of_resources"]["FRAME"] == {"MILL": pytest.approx(17)}
    assert result["bill_of_resources"]["family:BIKES"] == {"MILL": pytest.approx(10.375)}
    cells = [
        (c["bucket_start"], c["load_minutes"], c["capacity_minutes"], c["overloaded"])
        for c in result["items"]
    ]
    assert cells == [
        ("2026-03-02", pytest.approx(1700), 3720, False),
        ("2026-03-09", pytest.approx(4150 + 1700), 4800, True),
    ]
    assert [o["bucket_start"] for o in result["overloads"]] == ["2026-03-09"]
    assert result["bottleneck"]["work_center"] == "MILL"
    assert [w["code"] for w in result["warnings"]] == ["unknown_sku"]


async def test_a_bad_plan_is_a_422_naming_the_lines(capacity: Capacity) -> None:
    body: dict[str, Any] = {
        "plan": [
            {"sku": "FRAME", "family": "BIKES", "bucket_start": "2026-03-02", "qty": 1},
            {"sku": "FRAME", "bucket_start": "2027-01-01", "qty": 1},
            {"sku": "FRAME", "bucket_start": "2026-03-02", "qty": -1},
        ],
        "bucket": "week",
        "from": "2026-03-02",
        "to": "2026-03-15",
    }
    r = await capacity.client.post("/v1/capacity/rough-cut", json=body)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"plan[2].qty"}
    del body["plan"][2]
    r = await capacity.client.post("/v1/capacity/rough-cut", json=body)
    assert {e["field"] for e in r.json()["errors"]} == {"plan[0]", "plan[1].bucket_start"}
    r = await capacity.client.post("/v1/capacity/rough-cut", json={**body, "bucket": "day"})
    assert {e["field"] for e in r.json()["errors"]} == {"bucket"}
