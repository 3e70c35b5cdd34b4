"""Real concurrency against real PostgreSQL: balance rows locked with SELECT ... FOR UPDATE."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from tests.integration.inventory.conftest import Inventory

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_fifty_concurrent_issues_against_twenty_units_leave_exactly_zero(inv: Inventory) -> None:
    await inv.item("HOT")
    await inv.ok(type="receipt", sku="HOT", qty=20, unit_cost="1.00")
    results = await asyncio.gather(*(inv.move(type="issue", sku="HOT", qty=1) for _ in range(50)))
    statuses = Counter(r.status_code for r in results)
    assert statuses == {201: 20, 409: 30}
    for r in results:
        if r.status_code == 409:
            problem = r.json()
            assert r.headers["content-type"] == "application/problem+json"
            assert problem["requested"] == "1"
            assert problem["available"] == "0"
            assert problem["errors"][0]["field"] == "qty"
    assert await inv.balances(sku="HOT") == []  # zero on hand, nothing reserved
    assert await inv.scalar("SELECT on_hand FROM balances WHERE sku = 'HOT'") == 0
    assert await inv.ledger_count() == 21
    assert sorted(r.json()["balances"][0]["on_hand"] for r in results if r.status_code == 201) == list(
        range(20)
    )
    valuation = await inv.client.get("/v1/inventory/valuation", params={"sku": "HOT"})
    assert valuation.json()["items"] == []


async def test_crossing_transfers_never_deadlock_and_conserve_stock(inv: Inventory) -> None:
    await inv.item("X")
    await inv.client.put("/v1/inventory/locations/A", json={"name": "A"})
    await inv.client.put("/v1/inventory/locations/B", json={"name": "B"})
    await inv.ok(type="receipt", sku="X", qty=100, unit_cost=1, location="A")
    await inv.ok(type="receipt", sku="X", qty=100, unit_cost=1, location="B")
    moves = [
        inv.move(type="transfer", sku="X", qty=1, location=a, to_location=b)
        for _ in range(20)
        for a, b in (("A", "B"), ("B", "A"))
    ]
    results = await asyncio.gather(*moves)
    assert {r.status_code for r in results} == {201}
    total = sum(b["on_hand"] for b in await inv.balances(sku="X"))
    assert total == 200


async def test_movements_per_second_through_the_in_process_app(inv: Inventory) -> None:
    """A rough throughput figure (printed); the real target is measured by ``make bench``."""
    skus = [f"P-{i}" for i in range(20)]
    for sku in skus:
        await inv.item(sku)
    n = 400
    started = time.perf_counter()
    sem = asyncio.Semaphore(16)

    async def one(i: int) -> int:
        async with sem:
            r = await inv.move(type="receipt", sku=skus[i % len(skus)], qty=1, unit_cost="1.5")
            return r.status_code

    statuses = await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - started
    assert set(statuses) == {201}
    print(f"\n{n} movements in {elapsed:.2f}s: {n / elapsed:.0f} movements/s in-process")
