"""Master data reaches the planning services' replicas by events, and a gap is healed by a resync."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from shared.runtime.stack import Stack
from tests.harness import Infra

REPLICATING = ("inventory", "mrp", "capacity", "scheduler")


@pytest.fixture(scope="module")
def admin(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=stack.gateway_url, headers={"Authorization": f"Bearer {stack.api_key()}"}, timeout=30
    ) as client:
        yield client


def until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def replica(admin: httpx.Client, service: str) -> dict[str, Any]:
    (status,) = admin.get(f"/v1/{service}/replicas").json()
    return dict(status)


def replicated_record(infra: Infra, service: str, sku: str) -> dict[str, Any] | None:
    return asyncio.run(_replicated_record(infra, service, sku))


def sql(infra: Infra, database: str, *statements: str) -> Any:
    async def run() -> Any:
        conn = await asyncpg.connect(infra.database_url(database).replace("+asyncpg", ""))
        try:
            result = None
            for statement in statements:
                result = await conn.fetchval(statement)
            return result
        finally:
            await conn.close()

    return asyncio.run(run())


def item(sku: str) -> dict[str, Any]:
    return {
        "name": f"Replica test {sku}",
        "uom": "EA",
        "kind": "buy",
        "lead_time_days": 3,
        "safety_stock": "0",
        "lot_sizing": {"rule": "lot_for_lot"},
        "standard_cost": "2.50",
        "phantom": False,
    }


async def _replicated_record(infra: Infra, service: str, sku: str) -> dict[str, Any] | None:
    conn = await asyncpg.connect(infra.database_url(f"jalon_{service}").replace("+asyncpg", ""))
    try:
        row = await conn.fetchrow(
            "SELECT version, record FROM replica_records "
            "WHERE source = 'masterdata' AND kind = 'item' AND key = $1",
            sku,
        )
        return None if row is None else {"version": row["version"], "record": row["record"]}
    finally:
        await conn.close()


def test_an_item_written_in_master_data_reaches_every_planning_service(
    admin: httpx.Client, infra: Infra
) -> None:
    expect_unit = admin.put("/v1/masterdata/units/EA", json={"name": "each"})
    assert expect_unit.status_code in (200, 201), expect_unit.text
    sku = f"REP-{uuid.uuid4().hex[:8]}"
    created = admin.put(f"/v1/masterdata/items/{sku}", json=item(sku))
    assert created.status_code == 201, created.text
    changed = admin.put(
        f"/v1/masterdata/items/{sku}",
        json={**item(sku), "standard_cost": "2.75"},
        headers={"If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    for service in REPLICATING:
        deadline = time.monotonic() + 20
        found = None
        while time.monotonic() < deadline:
            found = replicated_record(infra, service, sku)
            if found and found["version"] == 2:
                break
            time.sleep(0.2)
        assert found is not None, f"{sku} never reached {service}"
        assert found["version"] == 2
        assert '"2.75"' in found["record"] or "2.75" in found["record"]


def test_a_gap_in_the_event_sequence_triggers_a_resync_from_the_export(
    admin: httpx.Client, infra: Infra
) -> None:
    admin.put("/v1/masterdata/units/EA", json={"name": "each"})
    before = replica(admin, "mrp")
    # Pretend three events were lost: the replica believes it is three changes behind.
    sql(
        infra,
        "jalon_mrp",
        "UPDATE replica_state SET seq = seq - 3 WHERE source = 'masterdata'",
        "DELETE FROM replica_records WHERE source = 'masterdata' AND kind = 'unit'",
    )
    sku = f"GAP-{uuid.uuid4().hex[:8]}"
    assert admin.put(f"/v1/masterdata/items/{sku}", json=item(sku)).status_code == 201
    healed = until(
        lambda: (s := replica(admin, "mrp"))["seq"] > before["seq"] and not s["needs_resync"] and s
    )
    assert healed["records"] >= before["records"] + 1
    assert replicated_record(infra, "mrp", sku) is not None
    units = sql(
        infra,
        "jalon_mrp",
        "SELECT count(*) FROM replica_records WHERE source = 'masterdata' AND kind = 'unit'",
    )
    assert units >= 1, "the resync brought back what the gap had lost"


def test_a_resync_on_demand_answers_the_replica_position(admin: httpx.Client) -> None:
    r = admin.post("/v1/capacity/replicas/masterdata/resync")
    assert r.status_code == 200, r.text
    assert r.json()["needs_resync"] is False
    assert admin.post("/v1/capacity/replicas/nosuch/resync").status_code == 404
