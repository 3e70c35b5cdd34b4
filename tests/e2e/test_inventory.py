"""Inventory through the gateway: receipt, issue, balances and valuation on the running stack."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from shared.db.engine import create_engine_for
from shared.runtime.stack import Stack, database_url


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=stack.gateway_url, headers={"Authorization": f"Bearer {stack.api_key()}"}, timeout=30
    ) as client:
        yield client


def seed_replica(stack: Stack, record: dict[str, Any]) -> None:
    async def run() -> None:
        engine = create_engine_for(database_url(stack, "inventory"))
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text(
                        "INSERT INTO replica_records (source, kind, key, version, seq, record) "
                        "VALUES ('masterdata', 'item', :k, 1, 0, CAST(:r AS jsonb)) "
                        "ON CONFLICT (source, kind, key) DO UPDATE SET record = excluded.record"
                    ),
                    {"k": record["sku"], "r": json.dumps(record)},
                )
        finally:
            await engine.dispose()

    asyncio.run(run())


def create_item(api: httpx.Client, stack: Stack, sku: str, standard_cost: str) -> None:
    """Through master data when it serves items, else straight into inventory's replica."""
    record = {
        "sku": sku,
        "name": sku,
        "uom": "pc",
        "kind": "buy",
        "lead_time_days": 5,
        "standard_cost": standard_cost,
    }
    r = api.put(f"/v1/masterdata/items/{sku}", json=record)
    if r.status_code not in (200, 201):
        seed_replica(stack, record)


def move(api: httpx.Client, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    """A movement, retried with its key while the item has not reached inventory's replica yet."""
    key = key or uuid.uuid4().hex
    deadline = time.monotonic() + 20
    while True:
        r = api.post("/v1/inventory/movements", json=body, headers={"Idempotency-Key": key})
        unknown = r.status_code == 422 and any(e["field"] == "sku" for e in r.json().get("errors", []))
        if not unknown or time.monotonic() > deadline:
            return r
        time.sleep(0.3)


def test_receipts_and_an_issue_through_the_gateway_give_balances_and_valuation(
    api: httpx.Client, stack: Stack
) -> None:
    sku = f"E2E-{uuid.uuid4().hex[:8]}"
    create_item(api, stack, sku, "2.50")
    first = move(api, {"type": "receipt", "sku": sku, "qty": 10, "unit_cost": "2.00"}, key=f"{sku}-r1")
    assert first.status_code == 201, first.text
    replay = move(api, {"type": "receipt", "sku": sku, "qty": 10, "unit_cost": "2.00"}, key=f"{sku}-r1")
    assert replay.headers["idempotent-replayed"] == "true"
    assert move(api, {"type": "receipt", "sku": sku, "qty": 10, "unit_cost": "3.00"}).status_code == 201
    issue = move(api, {"type": "issue", "sku": sku, "qty": 15})
    assert issue.status_code == 201, issue.text
    assert issue.json()["fifo_value"] == -35
    too_much = move(api, {"type": "issue", "sku": sku, "qty": 6})
    assert too_much.status_code == 409
    assert too_much.headers["content-type"] == "application/problem+json"

    balances = api.get("/v1/inventory/balances", params={"sku": sku})
    assert balances.json()["items"] == [
        {"sku": sku, "location": "MAIN", "lot": None, "on_hand": 5, "reserved": 0, "available": 5}
    ]
    fifo = api.get("/v1/inventory/valuation", params={"method": "fifo", "sku": sku}).json()
    assert fifo["items"] == [
        {"sku": sku, "qty": 5, "unit_cost": 3, "value": 15, "purchase_price_variance": None}
    ]
    average = api.get("/v1/inventory/valuation", params={"method": "average", "sku": sku}).json()
    assert average["total"] == 12.5
    standard = api.get("/v1/inventory/valuation", params={"method": "standard", "sku": sku}).json()
    assert standard["items"][0]["value"] == 12.5
    assert standard["items"][0]["purchase_price_variance"] == 0  # -5.00 + 5.00

    openapi = api.get("/openapi.json").json()
    operations = {
        op["operationId"]
        for path in openapi["paths"].values()
        for op in path.values()
        if isinstance(op, dict) and "operationId" in op
    }
    assert {"inventory_create_movement", "inventory_list_balances", "inventory_get_valuation"} <= operations
